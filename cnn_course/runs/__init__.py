"""The run core: a logged training run and the folder it writes.

- `training_log.LoggedRun`: the Keras callback that makes a plain `model.fit` a logged run;
- `record.RunRecord`: a run's `summary.json`, its one schema (`record.read`, `record.write`);
- `run_folder.RunDir`: a run folder's state, lock, checkpoint and staging (the run rules);
- `run_files`: run names, file names, atomic writes, `history.csv` and `train.log`;
- `logs_folder`: where runs live (one rule for every command) and `load`, its runs read once;
- `parameters`: each training parameter declared once, and a notebook's parameters cell;
- `notebook_runner` (`cnn-course run`), `run_context` (what it hands the kernel),
  `sweep` (`cnn-course sweep` on Dask), `verify` (`cnn-course verify`);
- `environment` (backend, device, versions, seeds, CPU settings) and `notebooks` (the course
  notebooks: where they are, Colab badges).

What the runs say together (seed groups, the selection, the report) is `cnn_course.study`.
"""
