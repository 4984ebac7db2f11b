"""The run core: a logged training run and the folder it writes.

- `training_log.LoggedRun`: the Keras callback that makes a plain `model.fit` a logged run;
- `record.RunRecord`: a run's `summary.json`, its one schema (`record.read`, `record.write`);
- `run_folder.RunDir`: a run folder's state, lock, checkpoint and staging (the run rules);
- `run_files`: run names, file names, atomic writes, `history.csv` and `train.log`;
- `logs_folder`: where runs live (one rule for every command) and `load`, its runs read once;
- `parameters`: each training parameter declared once, and a notebook's parameters cell;
- `notebook_runner` (`cnn-course run`), `run_context` (what it hands the kernel), `verify`
  (`cnn-course verify`).

Many runs at once (`sweep`) and what they say together (seed groups, the selection, the report)
are `cnn_course.study`; what a run executes on (backend, versions, seeds, CPU settings) is
`cnn_course.environment`, and the course notebooks `cnn_course.notebooks`.
"""
