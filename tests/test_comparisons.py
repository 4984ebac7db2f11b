from cnn_course.study import comparisons
from tests.test_report import write_run


def test_baseline_comparison_says_whether_the_run_beats_the_baselines_best_epoch(tmp_path):
    write_run(tmp_path, "cifar10_base", dataset="cifar10", final=0.8217, best=0.8304)
    student = write_run(tmp_path, "student", dataset="cifar10", final=0.88, best=0.8828)
    comparison = comparisons.baseline_comparison(student, "cifar10_base")
    assert "student beats the baseline's best epoch" in comparison.text
    assert "best 83.04% (epoch 17)" in comparison.text
    assert len(comparison.histories) == 2


def test_baseline_comparison_without_the_baseline_says_so(tmp_path):
    student = write_run(tmp_path, "student", dataset="cifar10", final=0.80, best=0.81)
    comparison = comparisons.baseline_comparison(student, "cifar10_base")
    assert comparison.text.startswith("No complete 'cifar10_base' run in")
    assert list(comparison.histories) == ["student (12,345 params)"]


def test_a_run_on_other_data_than_the_baseline_is_not_compared_with_it(tmp_path):
    """A quick run on the embedded sample (200 images) against the full test set's base."""
    write_run(tmp_path, "cifar10_base", dataset="cifar10", final=0.8217, best=0.8304)
    student = write_run(tmp_path, "student", dataset="cifar10", final=0.90, best=0.90,
                        sample=True)
    comparison = comparisons.baseline_comparison(student, "cifar10_base")
    assert comparison.text == ("student validated on cifar10 (sample), cifar10_base on cifar10 "
                               "(full): not compared (their accuracies are not comparable).")
    assert list(comparison.histories) == ["student (12,345 params)"]


def test_compare_models_gives_mean_and_spread_over_seeds_and_quoted_numbers(tmp_path):
    write_run(tmp_path, "net-seed0", final=0.80, seed=0)
    write_run(tmp_path, "net-seed1", final=0.90, seed=1)
    write_run(tmp_path, "net-sample", final=0.10, sample=True)  # samples make no claim
    lines = comparisons.compare_models(tmp_path, ["net", "other"],
                                       quoted={"net": "91%"}).splitlines()
    assert lines[0].split() == ["model", "runs", "(seeds)", "epochs", "final", "val", "acc",
                                "best", "epoch", "(mean)", "quoted"]
    assert lines[1].split() == ["net", "2", "(0,", "1)", "20", "85.00%", "±", "5.00", "99.51%",
                                "91%"]
    assert "no complete full-data run" in lines[2]
