import json
import subprocess
import sys
from pathlib import Path

import pytest

from cnn_course.runs import logs_folder
from cnn_course.study import results, seeds
from scripts import report

README = "# Title\n\nintro\n\n{start}\nold text\n{end}\n\n## After\n"


def write_run(logs_dir, name, dataset="mnist", sample=False, final=0.9942, best=0.9951, seed=0,
              model_name="net"):
    run_dir = logs_dir / name
    run_dir.mkdir(parents=True)
    summary = {"run_name": name, "model_name": model_name, "params": 12345, "dataset": dataset,
               "sample": sample, "epochs_run": 20, "epochs_requested": 20,
               "final_val_accuracy": final, "best_val_accuracy": best, "best_epoch": 17,
               "wall_time_s": 312.4, "mean_epoch_s": 15.62, "status": "complete", "backend": "tensorflow",
               "device": "cpu", "evaluation": {"accuracy": final}, "seed": seed}
    (run_dir / "summary.json").write_text(json.dumps(summary))
    (run_dir / "train.log").write_text("Epoch 1/20\n469/469 - 15s - accuracy: 0.9\n")
    (run_dir / "history.csv").write_text(
        "epoch,val_accuracy\n1,0.95\n2,0.9941\n3,%s\n4,0.9939\n" % final)
    return run_dir


@pytest.fixture
def readme(tmp_path):
    path = tmp_path / "README.md"
    path.write_text(README.format(start=report.START_MARKER, end=report.END_MARKER))
    return path


def details(tmp_path) -> str:
    return (tmp_path / "logs" / "README.md").read_text()


def test_report_puts_one_row_per_recipe_in_the_readme_and_every_run_in_logs_readme(
        tmp_path, readme):
    write_run(tmp_path / "logs", "mnist_net")
    write_run(tmp_path / "logs", "cifar10_base", dataset="cifar10", final=0.8231, best=0.8302)
    report.update_readme(readme, tmp_path / "logs")
    text = readme.read_text()
    assert "old text" not in text
    assert text.startswith("# Title\n\nintro\n") and text.endswith("## After\n")
    assert "**MNIST**" in text and "**CIFAR-10**" in text
    assert ("| `mnist_net` | test set | 1 | 99.42% | 99.51% | 99.42%–99.42% | 12,345 | 15.6 s | "
            "tensorflow/cpu |") in text
    assert "[logs/README.md](logs/README.md)" in text
    assert "<details>" not in text  # the per-run details live in logs/README.md
    page = details(tmp_path)
    assert "### MNIST" in page and "### CIFAR-10" in page
    assert ("| `mnist_net` | net | 12,345 | mnist (full) | 20/20 | 99.42% | 99.51% (ep 17) | "
            "99.39% | 99.42% |") in page
    assert "82.31%" in page and "| 5 min 12 s | 15.6 s |" in page
    assert "[history](mnist_net/history.csv)" in page
    assert "<details>" in page and "Epoch 1/20" in page


def test_report_groups_seeds_and_labels_holdout_runs(tmp_path, readme):
    for seed, final in ((0, 0.88), (1, 0.90)):
        run_dir = write_run(tmp_path / "logs", f"student-holdout-seed{seed}", dataset="cifar10",
                            final=final, seed=seed)
        summary = json.loads((run_dir / "summary.json").read_text())
        summary.update(validation="holdout", validation_examples=5000,
                       parameters={"seed": seed, "validation": "holdout"})
        (run_dir / "summary.json").write_text(json.dumps(summary))
    report.update_readme(readme, tmp_path / "logs")
    text = readme.read_text()
    assert ("| `student-holdout` (seeds 0, 1) | holdout (5,000 training images; not a test "
            "accuracy) | 2 | 89.00% ± 1.00 |") in text
    assert "cifar10 (full, holdout)" in details(tmp_path)
    assert "Recipes run with several seeds" in results.terminal_table(tmp_path / "logs")


def test_the_report_and_its_check_read_each_summary_once(tmp_path, readme, monkeypatch):
    """The README's section, logs/README.md and the plots are one view of the runs: a run
    that completes while the report is written is in all of them or in none."""
    from cnn_course.runs import run_folder

    for seed in (0, 1):
        write_run(tmp_path / "logs", f"cifar10_net-seed{seed}", dataset="cifar10", seed=seed)
    write_run(tmp_path / "logs", "mnist_net")
    reads = []
    read_summary = run_folder.RunDir.record
    monkeypatch.setattr(run_folder.RunDir, "record",
                        lambda self: reads.append(self.name) or read_summary(self))
    report.update_readme(readme, tmp_path / "logs")
    assert sorted(reads) == ["cifar10_net-seed0", "cifar10_net-seed1", "mnist_net"]
    reads.clear()
    assert report.check(readme, tmp_path / "logs") == []
    assert sorted(reads) == ["cifar10_net-seed0", "cifar10_net-seed1", "mnist_net"]


def test_check_finds_a_stale_logs_readme(tmp_path, readme):
    write_run(tmp_path / "logs", "mnist_net")
    report.update_readme(readme, tmp_path / "logs")
    assert report.check(readme, tmp_path / "logs") == []
    (tmp_path / "logs" / "README.md").write_text("edited by hand\n")
    assert any("run details differ" in problem for problem in report.check(readme, tmp_path / "logs"))


def test_report_marks_sample_runs(tmp_path, readme):
    write_run(tmp_path / "logs", "quickstart", sample=True)
    report.update_readme(readme, tmp_path / "logs")
    assert "mnist (sample)" in details(tmp_path)


def test_report_is_idempotent(tmp_path, readme):
    write_run(tmp_path / "logs", "mnist_net")
    report.update_readme(readme, tmp_path / "logs")
    first = readme.read_text()
    report.update_readme(readme, tmp_path / "logs")
    assert readme.read_text() == first


def test_report_refuses_a_readme_without_markers(tmp_path):
    path = tmp_path / "README.md"
    path.write_text("# no markers\n")
    with pytest.raises(ValueError, match="must contain the markers"):
        report.update_readme(path, tmp_path)


def test_report_summarises_seeds_of_the_same_recipe_only(tmp_path, readme):
    write_run(tmp_path / "logs", "tiny", final=0.9945, seed=0)
    write_run(tmp_path / "logs", "tiny-seed1", final=0.9941, seed=1)
    holdout = write_run(tmp_path / "logs", "tiny-holdout-seed2", final=0.5, seed=2)
    summary = json.loads((holdout / "summary.json").read_text())
    summary.update(validation="holdout", parameters={"seed": 2, "validation": "holdout"})
    (holdout / "summary.json").write_text(json.dumps(summary))
    report.update_readme(readme, tmp_path / "logs")
    text = details(tmp_path)
    assert "Across seeds (0, 1), `tiny`: final 99.43% ± 0.02 (min 99.41%, max 99.45%)" in text
    assert "worst of the last 3 epochs over all seeds: 99.39%" in text


def test_report_draws_the_validation_curves_of_full_runs_on_one_plot(tmp_path, readme):
    write_run(tmp_path / "logs", "cifar10_base", dataset="cifar10", final=0.82, model_name="base")
    write_run(tmp_path / "logs", "cifar10_separable", dataset="cifar10", final=0.88)
    report.update_readme(readme, tmp_path / "logs")
    plot = tmp_path / "logs" / "cifar10_val_accuracy.png"
    assert plot.read_bytes().startswith(b"\x89PNG")
    assert "(cifar10_val_accuracy.png)" in details(tmp_path)


def test_the_comparison_plot_draws_one_curve_per_recipe_over_its_seeds(tmp_path):
    for seed, final in ((0, 0.80), (1, 0.90)):
        write_run(tmp_path, f"student-seed{seed}", dataset="cifar10", final=final, seed=seed)
    write_run(tmp_path, "base", dataset="cifar10", final=0.82, model_name="base")
    holdout = write_run(tmp_path, "student-holdout", dataset="cifar10", final=0.85)
    summary = json.loads((holdout / "summary.json").read_text())
    summary.update(validation="holdout", parameters={"seed": 0, "validation": "holdout"})
    (holdout / "summary.json").write_text(json.dumps(summary))
    plots = report.comparison_plots(logs_folder.load(tmp_path))
    plot = plots[tmp_path.resolve() / "cifar10_val_accuracy.png"]
    assert list(plot.curves) == ["base (12,345 params)", "student-holdout (12,345 params)",
                                 "student (2 seeds, 12,345 params)"]
    student = plot.curves["student (2 seeds, 12,345 params)"]
    assert student["epoch"] == [1, 2, 3, 4]
    assert student["val_accuracy"][2] == pytest.approx(0.85)  # the seeds' 0.80 and 0.90
    assert (student["val_accuracy_min"][2], student["val_accuracy_max"][2]) == (0.8, 0.9)
    assert plot.dashed == {"student-holdout (12,345 params)"}


def test_report_draws_no_comparison_for_a_single_or_sample_run(tmp_path, readme):
    write_run(tmp_path / "logs", "mnist_net")
    write_run(tmp_path / "logs", "quickstart", sample=True)
    report.update_readme(readme, tmp_path / "logs")
    assert not (tmp_path / "logs" / "mnist_val_accuracy.png").exists()
    assert "val_accuracy.png" not in details(tmp_path)


def test_report_comparison_plot_is_the_same_file_on_a_second_run(tmp_path, readme):
    write_run(tmp_path / "logs", "a")
    write_run(tmp_path / "logs", "b", final=0.99, model_name="other")
    report.update_readme(readme, tmp_path / "logs")
    first = (tmp_path / "logs" / "mnist_val_accuracy.png").read_bytes()
    report.update_readme(readme, tmp_path / "logs")
    assert (tmp_path / "logs" / "mnist_val_accuracy.png").read_bytes() == first


def test_report_shows_each_model_table_once_collapsed(tmp_path, readme):
    for name, seed in (("tiny", 0), ("tiny-seed1", 1)):
        run_dir = write_run(tmp_path / "logs", name, seed=seed)
        (run_dir / "model.md").write_text("**net**\n\n| Layer (type) | Output | RF |\n")
    report.update_readme(readme, tmp_path / "logs")
    text = details(tmp_path)
    assert text.count("| Layer (type) | Output | RF |") == 1
    assert text.index("Model <code>net</code>: layer table") < text.index("| Layer (type)")


def test_report_leaves_out_runs_that_are_not_complete(tmp_path, readme):
    write_run(tmp_path / "logs", "mnist_net")
    running = write_run(tmp_path / "logs", "still_training")
    summary = json.loads((running / "summary.json").read_text())
    (running / "summary.json").write_text(json.dumps({**summary, "status": "running"}))
    report.update_readme(readme, tmp_path / "logs")
    assert "`mnist_net`" in readme.read_text() and "still_training" not in readme.read_text()


def test_readme_section_reads_back_what_update_readme_wrote(tmp_path, readme):
    write_run(tmp_path / "logs", "mnist_net")
    section = report.update_readme(readme, tmp_path / "logs")
    assert report.readme_section(readme) == section
    assert report.headline_section(logs_folder.load(tmp_path / "logs"), tmp_path) == section


def test_committed_readme_results_match_the_committed_logs():
    """The README's results and logs/README.md are generated from logs/, never edited by hand:
    regenerate them with `make report` after a run."""
    root = Path(__file__).resolve().parents[1]
    assert report.check(root / "README.md", root / "logs") == []


def test_a_parameter_added_later_at_its_default_does_not_split_a_recipe(tmp_path, readme):
    older = {"seed": 0, "recipe": {"weight_decay": 0.005}}  # logged before label smoothing
    newer = {"seed": 1, "label_smoothing": 0.0, "steps_per_execution": 16, "jit_compile": True,
             "recipe": {"weight_decay": 0.005, "label_smoothing": 0.0}}
    smoothed = {"seed": 2, "recipe": {"weight_decay": 0.005, "label_smoothing": 0.1}}
    for name, parameters in (("older", older), ("newer", newer), ("smoothed", smoothed)):
        run_dir = write_run(tmp_path / "logs", name, seed=parameters["seed"])
        summary = json.loads((run_dir / "summary.json").read_text())
        summary["parameters"] = parameters
        (run_dir / "summary.json").write_text(json.dumps(summary))
    groups = seeds.seed_groups(logs_folder.load(tmp_path / "logs").complete)
    assert [[run.name for run in group.members] for group in groups] == [
        ["older", "newer"], ["smoothed"]]


def test_report_check_fails_when_the_readme_is_out_of_date(tmp_path, readme, capsys):
    write_run(tmp_path / "logs", "mnist_net")
    argv = ["--readme", str(readme), "--logs-dir", str(tmp_path / "logs")]
    assert report.main([*argv, "--check"]) == 1
    assert "results section differs" in capsys.readouterr().err
    assert report.main(argv) == 0
    assert report.main([*argv, "--check"]) == 0


def test_report_check_fails_when_a_plot_is_out_of_date(tmp_path, readme, capsys):
    write_run(tmp_path / "logs", "a")
    write_run(tmp_path / "logs", "b", final=0.99, model_name="other")  # a second recipe
    argv = ["--readme", str(readme), "--logs-dir", str(tmp_path / "logs")]
    assert report.main(argv) == 0
    (tmp_path / "logs" / "mnist_val_accuracy.png").write_bytes(b"stale")
    assert report.main([*argv, "--check"]) == 1
    assert "mnist_val_accuracy.png: the plot differs" in capsys.readouterr().err


def test_report_finds_the_logs_folder_by_the_runners_rule(tmp_path, readme, monkeypatch, capsys):
    monkeypatch.setenv("CNN_COURSE_LOGS_DIR", str(tmp_path / "elsewhere"))
    write_run(tmp_path / "elsewhere", "only-here")
    assert report.main(["--readme", str(readme)]) == 0
    assert "only-here" in readme.read_text()


def test_the_report_and_the_plots_load_without_keras():
    code = ("import sys\nfrom scripts import report\nfrom cnn_course import plots\n"
            "assert 'keras' not in sys.modules and 'tensorflow' not in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, cwd=Path(__file__).resolve().parents[1])
    assert result.returncode == 0, result.stderr
