"""The study layer: many runs at once and what they say together. `sweep` (a grid of runs of
one notebook, on Dask), `seeds` (runs that differ only by seed are one recipe, reported as
mean ± std), `selection` (the question, rule and candidates written in `logs/selection.yaml`
before their results, applied on the holdout), `comparisons` (models over seeds, a run against
a baseline), `results` (the `cnn-course results` table) and `verify` (each logged number re-evaluated from
its model). Only `sweep` trains (each point an ordinary `cnn-course run`); the rest reads the
runs of a logs folder through `runs.logs_folder.load`."""
