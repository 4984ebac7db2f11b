"""The assignments' rules: the committed runs pass, small submissions that break one rule each
are caught by exactly that rule, grading a mixed cohort writes the expected CSV, and nothing a
submission holds is executed or written outside its place."""

import csv
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import keras
import nbformat
import pytest

from cnn_course import assignments, data, receptive_field
from cnn_course.assignments import cifar10, grading
from cnn_course.models import training
from cnn_course import environment
from cnn_course.runs import record, training_log

ROOT = Path(__file__).resolve().parents[1]


def student_model(conv2d_in_block=False, dropout=0.2, dense=0):
    inputs = keras.Input((32, 32, 3), dtype="uint8", name="image")
    x = keras.layers.Rescaling(1 / 255, name="rescale")(inputs)
    x = keras.layers.SeparableConv2D(8, 3, strides=4, padding="same", name="sep1")(x)
    x = keras.layers.BatchNormalization(name="bn1")(x)
    x = keras.layers.ReLU(name="relu1")(x)
    block = [keras.layers.SeparableConv2D(8, 3, padding="same", name="sep2")]
    if conv2d_in_block:
        block.append(keras.layers.Conv2D(8, 1, name="conv1x1"))
    x = keras.Sequential(block, name="stage2")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="drop")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    if dense:
        x = keras.layers.Dense(dense, name="wide")(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="scores")(x)
    return keras.Model(inputs, outputs, name="student")


def write_notebook(run_dir: Path, model, with_table=True):
    lines = []
    receptive_field.summary(model, print_fn=lambda text: lines.append(text))
    cell = nbformat.v4.new_code_cell("receptive_field.summary(model)")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                           text=lines[0] + "\n" if with_table else "hello\n")]
    notebook = nbformat.v4.new_notebook(cells=[cell])
    nbformat.write(notebook, run_dir / "03_cifar10_separable.ipynb")


def train(logs, name, model, epochs=50):
    environment.set_seed(0)
    split = data.split("cifar10", "test", sample=True)
    (x, y), (xv, yv) = split
    training.compile_classifier(model, keras.optimizers.Adam(0.01))
    run = training_log.LoggedRun(name, split, {"batch_size": 800}, logs)
    model.fit(x, y, batch_size=800, epochs=epochs, validation_data=(xv, yv), callbacks=[run],
              verbose=0)
    write_notebook(logs / name, model)
    return logs / name


def fake_base(logs, template: Path, final=0.05, **recipe):
    """A base run beside the students: the template's files, named and scored as the base,
    trained with the course's recipe but for `recipe`."""
    base = logs / "cifar10_base"
    shutil.copytree(template, base)
    written = record.read(base)
    record.write(base, written.replace(run_name="cifar10_base",
                                       model={"name": cifar10.BASE_MODEL},
                                       recipe={**written.recipe, "batch_size": 128,
                                               "learning_rate": 0.001, **recipe},
                                       results={"final_val_accuracy": final}))
    return base


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """A good student run and one run breaking each rule, plus a base to compare with."""
    logs = tmp_path_factory.mktemp("logs")
    runs = {"good": train(logs, "good", student_model())}
    runs["conv2d"] = train(logs, "conv2d", student_model(conv2d_in_block=True))
    runs["big"] = train(logs, "big", student_model(dense=12_000))
    runs["no_dropout"] = train(logs, "no_dropout", student_model(dropout=0))
    runs["epochs49"] = train(logs, "epochs49", student_model(), epochs=49)
    runs["not_reproduced"] = logs / "not_reproduced"
    shutil.copytree(runs["good"], runs["not_reproduced"])
    good = record.read(runs["good"])  # a log its model does not reproduce:
    record.write(runs["not_reproduced"], good.replace(
        results={"final_val_accuracy": good.final_accuracy + 0.1}))
    runs["no_table"] = logs / "no_table"
    shutil.copytree(runs["good"], runs["no_table"])
    write_notebook(runs["no_table"], student_model(), with_table=False)
    fake_base(logs, runs["good"])
    return logs, runs


STUDENT_RULES = [rule.rule_id for rule in cifar10.RULES if rule.role == "student"]


def failing(run_dir):
    """The student rules a run fails, but the full-data one: the cohort trains on the embedded
    sample (CI has no full CIFAR-10), and that rule has its own test."""
    return [o.rule_id for o in assignments.check_run(run_dir, "cifar10") if o.status != "pass"
            and o.rule_id.startswith("student.") and o.rule_id != "student.full_data"]


def test_the_good_student_passes_every_student_rule(cohort):
    _, runs = cohort
    assert failing(runs["good"]) == []


@pytest.mark.parametrize("name, rule", [
    ("conv2d", "student.separable_only"), ("big", "student.parameters"),
    ("no_dropout", "student.dropout"), ("epochs49", "student.epochs"),
    ("not_reproduced", "student.reproduces"), ("no_table", "student.rf_table")])
def test_each_broken_submission_is_caught_by_exactly_the_rule_it_breaks(cohort, name, rule):
    _, runs = cohort
    assert failing(runs[name]) == [rule]


def test_the_hidden_conv2d_is_named_with_its_block(cohort):
    _, runs = cohort
    outcome = {o.rule_id: o for o in assignments.check_run(runs["conv2d"])}
    assert outcome["student.separable_only"].evidence == "found Conv2D `conv1x1` in block `stage2`"


def test_a_hundred_thousand_parameters_is_not_fewer_than_a_hundred_thousand(cohort):
    _, runs = cohort
    outcome = {o.rule_id: o for o in assignments.check_run(runs["big"])}
    assert "≥ 100,000" in outcome["student.parameters"].evidence


def test_a_summary_edited_by_hand_fails_with_the_field_named_not_a_type_error(tmp_path, cohort):
    logs, runs = cohort
    edited = tmp_path / "edited"
    shutil.copytree(runs["good"], edited)
    summary = json.loads((edited / "summary.json").read_text())
    summary["model"]["params"] = "95k"
    (edited / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(ValueError, match=r"'model.params' is '95k' \(str\), expected int"):
        assignments.check_run(edited, "cifar10")
    shutil.copytree(runs["good"], tmp_path / "student")
    (tmp_path / "cifar10_base").mkdir()  # a base whose summary is no object
    (tmp_path / "cifar10_base" / "summary.json").write_text("[0.9]")
    outcome = {o.rule_id: o for o in assignments.check_run(tmp_path / "student")}
    assert outcome["student.beats_base"].status == "fail"
    assert "holds a JSON list, not an object" in outcome["student.beats_base"].evidence
    broken = tmp_path / "broken_history"
    shutil.copytree(runs["good"], broken)
    history = broken / "history.csv"
    history.write_text(history.read_text().replace("\n1,", "\nfirst,", 1))  # a word, not 1
    outcome = {o.rule_id: o for o in assignments.check_run(broken, base=logs / "cifar10_base")}
    assert outcome["student.beats_base"].status == "fail"
    assert "holds a value that is not a number" in outcome["student.beats_base"].evidence


def test_a_lambda_model_is_refused_without_running_its_code(tmp_path, cohort):
    _, runs = cohort
    run = tmp_path / "lambda"
    shutil.copytree(runs["good"], run)
    marker = tmp_path / "executed"
    where = str(marker)
    inputs = keras.Input((32, 32, 3))
    outputs = keras.layers.Lambda(lambda t: (open(where, "w").close(), t)[1])(inputs)
    keras.Model(inputs, outputs).save(run / "model.keras")
    marker.unlink(missing_ok=True)
    outcome = {o.rule_id: o for o in assignments.check_run(run, "cifar10")}
    assert outcome["student.separable_only"].status == "fail"
    assert "Lambda" in outcome["student.separable_only"].evidence
    assert not marker.exists()


def test_submit_then_grade_a_mixed_cohort_into_a_stable_csv(tmp_path, cohort):
    logs, runs = cohort
    good = assignments.submit([runs["good"], logs / "cifar10_base"], tmp_path / "alice.zip")
    bad = assignments.submit([runs["no_dropout"], logs / "cifar10_base"], tmp_path / "bob.zip")
    with zipfile.ZipFile(good) as zipped:
        names = zipped.namelist()
    assert "SUBMISSION.md" in names and "good/model.keras" in names
    corrupt = tmp_path / "carol.zip"
    corrupt.write_bytes(b"not a zip")
    mnist_run = tmp_path / "dave"
    shutil.copytree(ROOT / "logs" / "quickstart", mnist_run)
    output = tmp_path / "grades.csv"
    assignments.grade([good, bad, corrupt, mnist_run], "cifar10", output, say=lambda _: None)
    rows = list(csv.DictReader(output.open()))
    assert [row["submission"] for row in rows] == ["alice", "bob", "carol", "dave"]
    assert list(rows[0]) == ["submission", *(rule.rule_id for rule in cifar10.RULES), "total",
                             "reason"]
    assert rows[0]["student.dropout"] == "pass" and rows[1]["student.dropout"] == "fail"
    assert rows[2]["total"] == "0/14" and "not a readable zip" in rows[2]["reason"]
    assert rows[3]["total"] == "0/14" and "wrong assignment" in rows[3]["reason"]


def test_check_submit_and_grade_take_the_folder_one_stands_in_as_dot(tmp_path, cohort,
                                                                      monkeypatch):
    _, runs = cohort
    monkeypatch.chdir(runs["good"])
    outcomes = {o.rule_id: o.status for o in assignments.check_run(".", "cifar10")}
    assert outcomes["student.separable_only"] == outcomes["base.recipe"] == "pass"  # beside it
    archive = assignments.submit(["."], tmp_path / "dot.zip")
    with zipfile.ZipFile(archive) as zipped:
        assert "good/summary.json" in zipped.namelist()
    monkeypatch.chdir(runs["good"].parent)
    rows = assignments.grade(["."], "cifar10", tmp_path / "grades.csv", say=lambda _: None)
    assert rows[0]["submission"] == runs["good"].parent.name


def test_a_zip_with_a_path_out_of_its_folder_is_refused_without_effect(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("../escaped.txt", "hi")
    rows = assignments.grade([archive], "cifar10", tmp_path / "grades.csv", say=lambda _: None)
    assert "outside the archive" in rows[0]["reason"]
    assert not (tmp_path.parent / "escaped.txt").exists()


def test_a_zip_bomb_is_refused_before_extraction(tmp_path, monkeypatch):
    monkeypatch.setattr(grading, "MAX_UNPACKED_BYTES", 1000)
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("run/summary.json", "0" * 100_000)
    rows = assignments.grade([archive], "mnist", tmp_path / "grades.csv", say=lambda _: None)
    assert "refused" in rows[0]["reason"]


def _version(text):
    return tuple(int(part) for part in text.split(".")[:2])


def test_committed_mnist_run_passes_its_rules_as_far_as_the_data_allows():
    saved_with = record.read(ROOT / "logs" / "mnist_net").environment.versions["keras"]
    if _version(keras.__version__) < _version(saved_with):
        pytest.skip(f"a model saved by Keras {saved_with} does not load in {keras.__version__}")
    outcomes = assignments.check_run(ROOT / "logs" / "mnist_net")
    statuses = {o.rule_id: o.status for o in outcomes}
    assert statuses["mnist.full_data"] == statuses["mnist.parameters"] == "pass"
    assert statuses["mnist.accuracy"] == "pass"
    assert statuses["mnist.reproduces"] in ("pass", "not checked")


def test_a_run_on_the_embedded_sample_fails_the_full_data_rules(tmp_path, cohort):
    logs, runs = cohort
    outcomes = {o.rule_id: o for o in assignments.check_run(runs["good"], "cifar10")}
    for rule in ("student.full_data", "base.full_data"):
        assert outcomes[rule].status == "fail"
        assert outcomes[rule].evidence == (
            "trained on the embedded sample (200 validation images); the assignment's run "
            "uses the full cifar10: run it with `sample = False` in the notebook (`-p sample "
            "False` with `cnn-course run`)")
    full = tmp_path / "full"
    shutil.copytree(runs["good"], full)
    record.write(full, record.read(full).replace(data={"sample": False}))
    outcome = {o.rule_id: o for o in assignments.check_run(
        full, "cifar10", base=logs / "cifar10_base")}["student.full_data"]
    assert (outcome.status, outcome.evidence) == (
        "pass", "the full cifar10 (200 validation images)")


def test_a_base_trained_with_another_recipe_fails_the_base_recipe_rule(tmp_path, cohort):
    logs, runs = cohort
    outcomes = {o.rule_id: o for o in assignments.check_run(runs["good"], "cifar10")}
    assert outcomes["base.recipe"].status == "pass"
    sabotaged = fake_base(tmp_path, runs["good"], learning_rate=0.1)
    outcome = {o.rule_id: o for o in assignments.check_run(
        runs["good"], "cifar10", base=sabotaged)}["base.recipe"]
    assert (outcome.status, outcome.evidence) == (
        "fail", "trained with learning_rate 0.1 (the course's: 0.001)")


def test_a_run_of_another_assignment_is_bad_input_naming_its_data_set(cohort):
    _, runs = cohort
    with pytest.raises(ValueError, match="is a run on cifar10, which the mnist assignment "
                                         "does not grade"):
        assignments.check_run(runs["good"], "mnist")


def test_a_submission_holding_two_runs_of_one_name_is_refused_before_writing(tmp_path, cohort):
    _, runs = cohort
    with pytest.raises(ValueError, match="More than one run named 'good'"):
        assignments.submit([runs["good"], runs["good"]], tmp_path / "twice.zip")
    assert list(tmp_path.iterdir()) == []


def test_check_command_prints_the_rules_and_exits_by_them(cohort):
    _, runs = cohort
    result = subprocess.run([sys.executable, "-m", "cnn_course", "check", str(runs["good"]),
                             "--json"], capture_output=True, text=True)
    outcomes = json.loads(result.stdout)
    assert {o["rule_id"] for o in outcomes} == {rule.rule_id for rule in cifar10.RULES}
    assert result.returncode == 1  # the fake base's own model does not reproduce its score


def test_a_graded_zip_names_its_own_paths_without_the_temporary_folder_or_logs_advice(
        tmp_path, cohort):
    logs, runs = cohort
    archive = assignments.submit([runs["good"], logs / "cifar10_base"], tmp_path / "erin.zip")
    cut = tmp_path / "frank.zip"  # the same, its model cut short
    with zipfile.ZipFile(archive) as original, zipfile.ZipFile(cut, "w") as copy:
        for member in original.infolist():
            payload = original.read(member)
            copy.writestr(member, payload[:2000] if member.filename == "good/model.keras" else
                          payload)
    garbled = tmp_path / "grace.zip"  # a lone run at the zip's root, its summary garbled
    with zipfile.ZipFile(garbled, "w") as zipped:
        zipped.writestr("summary.json", '{"schema": 2, "x":')
    rows = assignments.grade([cut, garbled], "cifar10", tmp_path / "grades.csv",
                             say=lambda _: None)
    assert ("good: model.keras is not a .keras file (a zip archive): it is damaged, cut short"
            in rows[0]["reason"])
    assert rows[1]["reason"].startswith("broken submission: grace/summary.json cannot be read "
                                        "(Expecting value")
    for row in rows:
        assert "cnn-course-grade-" not in row["reason"] and "Restore it" not in row["reason"]


def test_a_run_whose_summary_names_no_data_set_is_refused_in_words(tmp_path, cohort):
    _, runs = cohort
    shutil.copytree(runs["good"], tmp_path / "nameless")
    written = record.read(tmp_path / "nameless")
    record.write(tmp_path / "nameless", written.replace(data={"dataset": None}))
    with pytest.raises(ValueError, match="names no data set .* so no assignment can grade it"):
        assignments.check_run(tmp_path / "nameless")


def test_a_run_on_a_data_set_no_assignment_grades_is_refused_without_a_dead_end(tmp_path):
    with pytest.raises(ValueError, match="No assignment grades a run on 'fashion_mnist': the "
                                         "assignments are mnist and cifar10"):
        assignments.check_run(ROOT / "logs" / "lenet-seed0")


def test_a_base_that_is_not_the_base_network_is_refused_before_any_rule(tmp_path, cohort):
    logs, runs = cohort
    with pytest.raises(ValueError, match=r"The base run .*no_dropout is student on cifar10, not "
                                         r"the base network \(cifar10_base_net on cifar10\)"):
        assignments.check_run(runs["good"], base=runs["no_dropout"])
    with pytest.raises(ValueError, match="The base run: .*missing holds no summary.json"):
        assignments.check_run(runs["good"], base=tmp_path / "missing")
    outcomes = {o.rule_id: o for o in assignments.check_run(runs["good"],
                                                            base=logs / "cifar10_base")}
    assert outcomes["base.epochs"].status == "pass"


def test_a_run_folder_holding_a_link_is_refused_before_the_zip_is_written(tmp_path, cohort):
    _, runs = cohort
    shutil.copytree(runs["good"], tmp_path / "linked")
    outside = tmp_path / "private.txt"
    outside.write_text("not the run's")
    (tmp_path / "linked" / "notes.txt").symlink_to(outside)
    with pytest.raises(ValueError, match=r"linked/notes.txt: a link, not a file of the run"):
        assignments.submit([tmp_path / "linked"], tmp_path / "out.zip")
    assert not (tmp_path / "out.zip").exists()


def test_grading_on_several_workers_without_dask_says_how_to_install_it(tmp_path, monkeypatch):
    """Dask is an extra (`cnn-course[sweep]`): without it, one line, before any grading."""
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` fails
    with pytest.raises(ValueError, match=r"Dask, which is not installed: pip install "
                                         r"'cnn-course\[sweep\]'.*--workers 1"):
        grading.grade([tmp_path], "mnist", tmp_path / "grades.csv", workers=2)
    assert not (tmp_path / "grades.csv").exists()


def test_submissions_sharing_a_name_are_refused_before_grading(tmp_path):
    """Two students' run folders both called cifar10_separable: two CSV rows of one name."""
    for student in ("alice", "bob"):
        (tmp_path / student / "cifar10_separable").mkdir(parents=True)
    submissions = [tmp_path / student / "cifar10_separable" for student in ("alice", "bob")]
    with pytest.raises(ValueError, match="share a name in the CSV; name each after its student"):
        grading.grade(submissions, "cifar10", tmp_path / "grades.csv", say=lambda _: None)
    assert not (tmp_path / "grades.csv").exists()


def test_a_zip_written_into_the_run_folder_it_packs_is_refused(tmp_path, monkeypatch):
    """`cnn-course submit . -o submission.zip` inside the run folder: the zip would sit in the
    run and be packed into the next submission."""
    run = shutil.copytree(ROOT / "logs" / "quickstart", tmp_path / "quickstart")
    monkeypatch.chdir(run)
    with pytest.raises(ValueError, match="is inside the run folder .*-o ../submission.zip"):
        assignments.submit(["."], "submission.zip")
    assert not list(run.glob("*.zip")) and not list(run.glob(".*.tmp"))
    assert assignments.submit(["."], "../submission.zip").is_file()


def test_a_run_without_its_executed_notebook_says_how_to_keep_it(tmp_path, cohort):
    """A run made by hand in Colab keeps no notebook in its folder; the rule says what to do."""
    _, runs = cohort
    hand = shutil.copytree(runs["good"], tmp_path / "hand")
    for notebook in hand.glob("*.ipynb"):
        notebook.unlink()
    outcome = {o.rule_id: o for o in assignments.check_run(hand, "cifar10")}["student.rf_table"]
    assert outcome.status == "fail"
    assert "run by hand (Jupyter, Colab), save the notebook with its outputs" in outcome.evidence
