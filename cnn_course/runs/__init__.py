"""The run core: a logged training run and the folder it writes.

- `training_log.LoggedRun`: the Keras callback that makes a plain `model.fit` a logged run;
- `record.RunRecord`: a run's `summary.json`, its one schema (`record.read`, `record.write`);
- `run_folder.RunDir`: a run folder's state, lock, checkpoint and staging (the run rules);
- `run_files`: run names, file names, atomic writes, `history.csv` and `train.log`;
- `logs_folder`: where runs live (one rule for every command) and `load`, its runs read once;
- `parameters`: each training parameter declared once, and values checked against it;
- `notebook_runner` (`cnn-course run`) and `run_context` (what it hands the kernel).

Many runs at once (`sweep`) and what they say together (seed groups, the selection, the
report, `verify`) are `cnn_course.study`; what a run executes on is `cnn_course.environment`,
and the course notebooks (and their parameters cells) are `cnn_course.notebooks`.
"""
