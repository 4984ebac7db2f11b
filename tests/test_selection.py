"""The recipe is chosen on the holdout by the written rule, and the question is answered on the
test set with the chosen recipe's seeds and the base's; never by a test accuracy."""

import json

import pytest

from cnn_course.runs import errors, logs_folder, run_folder
from cnn_course.study import results, selection
from scripts import report
from tests.test_report import README, write_run

SELECTION = """\
question: Does the student beat the base?
rule: the highest mean final holdout accuracy over seeds
notebook: student.ipynb
base_notebook: base.ipynb
candidates:
  - {name: small decay, parameters: {weight_decay: 0.0005}}
  - {name: large decay, parameters: {weight_decay: 0.005}}
seeds: {student: 2, base: 2}
goal: 0.89
labels: {old-run: chosen on the test set (superseded)}
"""
DEFAULTS = {"student.ipynb": {"weight_decay": 0.0005, "epochs": 20, "residual": False},
            "base.ipynb": {"learning_rate": 0.001, "epochs": 20}}


def run(logs, name, notebook, final, validation="test", seed=0, **parameters):
    run_dir = write_run(logs, name, dataset="cifar10", final=final, best=final, seed=seed)
    summary = json.loads((run_dir / "summary.json").read_text())
    summary.update(notebook=notebook, validation=validation,
                   parameters={"seed": seed, "epochs": 20, "validation": validation, **parameters})
    (run_dir / "summary.json").write_text(json.dumps(summary))


def outcome(logs):
    return selection.outcome(selection.read_selection(logs), logs_folder.load(logs).complete,
                             defaults_of=DEFAULTS.__getitem__)


@pytest.fixture
def logs(tmp_path):
    (tmp_path / "selection.yaml").write_text(SELECTION)
    return tmp_path


def test_nothing_is_chosen_until_every_candidate_has_a_holdout_run(logs):
    run(logs, "small-holdout", "student.ipynb", 0.95, "holdout", weight_decay=0.0005)
    run(logs, "large-test", "student.ipynb", 0.99, "test", weight_decay=0.005)  # a test run
    result = outcome(logs)
    assert result.chosen is None and result.student_runs == []
    assert selection.verdict(result).startswith("Not answered yet: 1 of 2 candidates")


def test_the_highest_mean_holdout_accuracy_wins_and_its_test_seeds_answer(logs):
    run(logs, "small-holdout", "student.ipynb", 0.95, "holdout", weight_decay=0.0005)
    run(logs, "large-holdout-seed0", "student.ipynb", 0.90, "holdout", 0, weight_decay=0.005)
    run(logs, "large-holdout-seed1", "student.ipynb", 0.97, "holdout", 1, weight_decay=0.005)
    run(logs, "small-test", "student.ipynb", 0.99, "test", weight_decay=0.0005)  # not chosen
    for seed, final in ((0, 0.885), (1, 0.895)):
        run(logs, f"large-seed{seed}", "student.ipynb", final, "test", seed, weight_decay=0.005)
    run(logs, "base-seed0", "base.ipynb", 0.82, "test", 0, learning_rate=0.001)
    run(logs, "base-lr-seed0", "base.ipynb", 0.95, "test", 0, learning_rate=0.01)  # other recipe
    result = outcome(logs)
    assert result.chosen.name == "small decay"  # 0.95 > mean(0.90, 0.97) = 0.935
    assert [run.name for run in result.student_runs] == ["small-test"]
    assert [run.name for run in result.base_runs] == ["base-seed0"]
    text = selection.verdict(result)
    assert "beats the base's best (82.00%) by 17.00 points" in text
    assert "1 of 2 student seeds and 1 of 2 base seeds are in" in text
    assert "accuracy over 1 of 2 seeds so far, 99.00%, meets the goal of 89.0%" in text


def test_the_report_shows_the_question_the_candidates_and_the_labels(logs, tmp_path, monkeypatch):
    monkeypatch.setattr(selection, "notebook_defaults", DEFAULTS.__getitem__)
    run(logs, "small-holdout", "student.ipynb", 0.95, "holdout", weight_decay=0.0005)
    run(logs, "old-run", "student.ipynb", 0.99, "test", weight_decay=0.005)
    readme = tmp_path / "README.md"
    readme.write_text(README.format(start=report.START_MARKER, end=report.END_MARKER))
    report.update_readme(readme, logs)
    text = readme.read_text()
    assert "**The assignment's question.** Does the student beat the base?" in text
    assert "| large decay (not run yet) |" in text
    assert "`old-run`: chosen on the test set (superseded)" in text


def test_a_selection_file_without_its_rule_is_refused(tmp_path):
    (tmp_path / "selection.yaml").write_text("question: q\ncandidates: []\n")
    with pytest.raises(errors.RunError, match="lacks rule, notebook, base_notebook"):
        selection.read_selection(tmp_path)


@pytest.mark.parametrize("text, words", [
    ('question: "q\nrule: [1,\n', "is not valid YAML: found unexpected end of stream at line 3"),
    ("- a\n- b\n", "holds a list; it is a mapping of question:"),
    (SELECTION.replace("{name: small decay, ", "{"), "candidates is a list of `- name: ...` "
                                                    "entries"),
    (SELECTION.replace("candidates:", "candidates: 5\nthen:"), "received 5")])
def test_a_damaged_selection_file_is_named_and_results_still_lists_the_runs(tmp_path, text,
                                                                           words):
    (tmp_path / "selection.yaml").write_text(text)
    with pytest.raises(errors.RunError) as caught:
        selection.read_selection(tmp_path)
    assert f"{tmp_path / 'selection.yaml'}" in str(caught.value) and words in str(caught.value)
    write_run(tmp_path, "mnist_net")
    table = results.terminal_table(tmp_path)
    assert "mnist_net" in table and "99.42%" in table and words in table


def test_the_missing_runs_come_in_order_with_the_commands_that_make_them(logs):
    run(logs, "small-holdout", "student.ipynb", 0.95, "holdout", weight_decay=0.0005)
    run(logs, "base-seed1", "base.ipynb", 0.82, "test", 1, learning_rate=0.001)
    missing = selection.next_runs(outcome(logs))
    assert [item.sweep_command() for item in missing] == [
        "cnn-course sweep student -p validation holdout -p weight_decay 0.005 -p seed 0",
        "cnn-course sweep base -p seed 0"]  # seed 1 is in; the student waits for the choice
    assert missing[0].spec() == "student:validation=holdout,weight_decay=0.005,seed=0"
    run(logs, "large-holdout", "student.ipynb", 0.90, "holdout", weight_decay=0.005)
    assert [item.parameters for item in selection.next_runs(outcome(logs))][1:] == [
        {"weight_decay": 0.0005, "seed": 0}, {"weight_decay": 0.0005, "seed": 1}]


def test_results_say_which_missing_run_is_under_way_and_how_to_resume_it(logs, monkeypatch):
    monkeypatch.setattr(selection, "notebook_defaults", DEFAULTS.__getitem__)
    run(logs, "base-seed1", "base.ipynb", 0.70, "test", 1, learning_rate=0.001)
    summary = json.loads((logs / "base-seed1" / "summary.json").read_text())
    summary.update(status="running", epochs_run=13, epochs_requested=20)  # no process: stopped
    (logs / "base-seed1" / "summary.json").write_text(json.dumps(summary))
    lines = results.terminal_table(logs).splitlines()
    assert ("  cnn-course sweep base -p seed 1   # base-seed1: interrupted after epoch 13 of 20: "
            "the same command resumes it") in lines
    assert "  cnn-course sweep base -p seed 0" in lines  # not started: the command alone


def test_a_labelled_run_that_joins_its_recipes_seeds_keeps_its_label_as_that_seed(logs, tmp_path,
                                                                                   monkeypatch):
    monkeypatch.setattr(selection, "notebook_defaults", DEFAULTS.__getitem__)
    run(logs, "old-run", "student.ipynb", 0.90, "test", 0, weight_decay=0.005)
    run(logs, "large-seed1", "student.ipynb", 0.88, "test", 1, weight_decay=0.005)
    readme = tmp_path / "README.md"
    readme.write_text(README.format(start=report.START_MARKER, end=report.END_MARKER))
    report.update_readme(readme, logs)
    assert ("| `large` (seeds 0, 1): seed 0 is `old-run`, chosen on the test set (superseded) "
            "| test set | 2 | 89.00% ± 1.00 |") in readme.read_text()


def test_the_headline_plot_shows_the_base_and_the_chosen_student_once_both_have_runs(
        logs, tmp_path, monkeypatch):
    monkeypatch.setattr(selection, "notebook_defaults", DEFAULTS.__getitem__)
    readme = tmp_path / "project" / "README.md"  # beside logs/README.md, not in its place
    readme.parent.mkdir()
    readme.write_text(README.format(start=report.START_MARKER, end=report.END_MARKER))
    for name, value in (("small-holdout", 0.0005), ("large-holdout", 0.005)):
        run(logs, name, "student.ipynb", 0.9 + value, "holdout", weight_decay=value)
    run(logs, "large-seed0", "student.ipynb", 0.89, "test", 0, weight_decay=0.005)
    report.update_readme(readme, logs)
    assert not (logs / "headline_val_accuracy.png").exists()  # no base run yet
    run(logs, "base-seed0", "base.ipynb", 0.82, "test", 0, learning_rate=0.001)
    report.update_readme(readme, logs)
    assert (logs / "headline_val_accuracy.png").read_bytes().startswith(b"\x89PNG")
    assert "(../headline_val_accuracy.png)" in readme.read_text()
    assert report.check(readme, logs) == []


def test_a_seed_run_twice_is_named_in_the_verdict_and_both_runs_count(logs):
    for name, value in (("small-holdout", 0.0005), ("large-holdout", 0.005)):
        run(logs, name, "student.ipynb", 0.9 + value, "holdout", weight_decay=value)
    run(logs, "large-seed0", "student.ipynb", 0.89, "test", 0, weight_decay=0.005)
    run(logs, "large-again-seed0", "student.ipynb", 0.87, "test", 0, weight_decay=0.005)
    run(logs, "base-seed0", "base.ipynb", 0.82, "test", 0, learning_rate=0.001)
    text = selection.verdict(outcome(logs))
    assert "1 (2 runs) of 2 student seeds" in text and "worst seed (87.00%)" in text
    assert "Run more than once: the student's seed 0 (large-again-seed0, large-seed0)" in text


def test_notebook_defaults_are_read_again_once_the_notebook_is_edited(tmp_path):
    from cnn_course import notebooks

    copy = tmp_path / "student.ipynb"
    copy.write_text(notebooks.resolve("03_cifar10_separable").read_text(encoding="utf-8"),
                    encoding="utf-8")
    before = selection.notebook_defaults(str(copy))
    notebook = json.loads(copy.read_text(encoding="utf-8"))
    cell = next(cell for cell in notebook["cells"]
                if "parameters" in cell.get("metadata", {}).get("tags", []))
    cell["source"] = ["".join(cell["source"]) + "\nweight_decay = 0.125\n"]
    copy.write_text(json.dumps(notebook), encoding="utf-8")
    after = selection.notebook_defaults(str(copy))
    assert before["weight_decay"] != 0.125 and after["weight_decay"] == 0.125
    after["weight_decay"] = 1.0  # a caller's change stays its own
    assert selection.notebook_defaults(str(copy))["weight_decay"] == 0.125


def test_the_results_table_reads_each_summary_once(logs, monkeypatch):
    """The rows, the seed groups and the verdict are one view of runs that may be training."""
    monkeypatch.setattr(selection, "notebook_defaults", DEFAULTS.__getitem__)
    run(logs, "base-seed0", "base.ipynb", 0.82, "test", 0, learning_rate=0.001)
    run(logs, "base-seed1", "base.ipynb", 0.70, "test", 1, learning_rate=0.001)
    summary = json.loads((logs / "base-seed1" / "summary.json").read_text())
    summary.update(status="running", epochs_run=13, epochs_requested=20)  # no process: stopped
    (logs / "base-seed1" / "summary.json").write_text(json.dumps(summary))
    reads = []
    read_summary = run_folder.RunDir.record
    monkeypatch.setattr(run_folder.RunDir, "record",
                        lambda self: reads.append(self.name) or read_summary(self))
    text = results.terminal_table(logs)
    assert sorted(reads) == ["base-seed0", "base-seed1"]
    assert "sweep base -p seed 1   # base-seed1: interrupted after epoch 13 of 20" in text


FOLLOW_UP = SELECTION + """\
next_question:
  question: Does a better student reach 0.9?
  rule: the best candidate replaces today's recipe if it beats it by 0.5 points on the holdout
  candidates:
    - {name: residual, parameters: {weight_decay: 0.0005, residual: true}}
  holdout_seeds: 2
  margin: 0.005
"""


def follow_up(logs):
    result = outcome(logs)
    return selection.follow_up_outcome(result, logs_folder.load(logs).complete,
                                       defaults_of=DEFAULTS.__getitem__)


@pytest.mark.parametrize("residual_finals, verdict", [
    ((0.955, 0.955), "Replaced by residual: +0.50 points"),
    ((0.954, 0.955), "Today's recipe stays: the best candidate, residual, is +0.45 points"),
])
def test_a_candidate_replaces_todays_recipe_only_by_the_margin_over_all_its_seeds(
        logs, residual_finals, verdict):
    (logs / "selection.yaml").write_text(FOLLOW_UP)
    run(logs, "small-holdout-seed0", "student.ipynb", 0.95, "holdout", 0, weight_decay=0.0005)
    run(logs, "large-holdout", "student.ipynb", 0.90, "holdout", 0, weight_decay=0.005)
    answer = follow_up(logs)
    assert answer.todays.parameters == {"weight_decay": 0.0005}  # the first question's choice
    assert selection.follow_up_verdict(answer).startswith("Not answered yet: 1 of 4")
    assert [next_run.parameters for next_run in selection.follow_up_next_runs(
        answer, "student.ipynb")][0] == {"validation": "holdout", "weight_decay": 0.0005,
                                         "residual": True, "seed": 0}
    run(logs, "small-holdout-seed1", "student.ipynb", 0.95, "holdout", 1, weight_decay=0.0005)
    for seed, final in enumerate(residual_finals):
        run(logs, f"residual-seed{seed}", "student.ipynb", final, "holdout", seed,
            weight_decay=0.0005, residual=True)
    answer = follow_up(logs)
    assert answer.complete and selection.follow_up_verdict(answer).startswith(verdict)
    assert (answer.replacement is not None) == verdict.startswith("Replaced")


def every_holdout_run(logs, residual_final: float) -> None:
    """The first question's candidates, then today's recipe (0.95) and the residual candidate
    (`residual_final`) on the holdout with seeds 0 and 1."""
    run(logs, "large-holdout", "student.ipynb", 0.90, "holdout", 0, weight_decay=0.005)
    for seed in (0, 1):
        run(logs, f"small-holdout-seed{seed}", "student.ipynb", 0.95, "holdout", seed,
            weight_decay=0.0005)
        run(logs, f"residual-holdout-seed{seed}", "student.ipynb", residual_final, "holdout",
            seed, weight_decay=0.0005, residual=True)


def test_when_todays_recipe_stays_its_test_set_seeds_answer_the_question(logs):
    (logs / "selection.yaml").write_text(FOLLOW_UP + "  goal: 0.9\n")
    every_holdout_run(logs, residual_final=0.94)
    for seed in (0, 1):
        run(logs, f"small-seed{seed}", "student.ipynb", 0.88 + seed / 100, "test", seed,
            weight_decay=0.0005)
    answer = follow_up(logs)
    assert answer.replacement is None
    assert [run.name for run in answer.test_runs] == ["small-seed0", "small-seed1"]
    assert selection.follow_up_verdict(answer).endswith(
        "The answer is today's recipe's: mean final test accuracy 88.50% over 2 seeds, below "
        "the goal of 90.0%.")
    assert selection.follow_up_next_runs(answer, "student.ipynb") == []


def test_a_replacement_is_answered_by_its_own_test_set_seeds(logs, tmp_path):
    (logs / "selection.yaml").write_text(FOLLOW_UP + "  goal: 0.9\n  test_seeds: 2\n")
    every_holdout_run(logs, residual_final=0.96)
    run(logs, "small-seed0", "student.ipynb", 0.99, "test", 0, weight_decay=0.0005)  # today's
    answer = follow_up(logs)
    assert answer.replacement.name == "residual" and answer.test_runs == []
    assert selection.follow_up_verdict(answer).endswith("test-set seeds answer the question: "
                                                        "none is in.")
    assert [next_run.parameters for next_run in selection.follow_up_next_runs(
        answer, "student.ipynb")] == [{"weight_decay": 0.0005, "residual": True, "seed": seed}
                                      for seed in (0, 1)]
    run(logs, "residual-seed0", "student.ipynb", 0.88, "test", 0, weight_decay=0.0005,
        residual=True)
    answer = follow_up(logs)
    assert [run.name for run in answer.test_runs] == ["residual-seed0"]
    assert selection.follow_up_verdict(answer).endswith(
        "On the test set, 1 of 2 test-set seeds are in: mean final accuracy 88.00%, below the "
        "goal of 90.0%.")
    assert [next_run.parameters["seed"] for next_run in selection.follow_up_next_runs(
        answer, "student.ipynb")] == [1]
    text = "\n".join(report.follow_up_lines(answer, "selection.yaml"))
    assert "\n| on the test set |" in text and "\n| residual | test set | 1 | 88.00% |" in text
