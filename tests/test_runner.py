import nbformat
import pytest

from cnn_course import cli
from cnn_course.runs import notebook_runner, parameters
from cnn_course import notebooks


def make_notebook(path, parameters_source, body="result = epochs * 2", tagged_cells=1):
    cells = [nbformat.v4.new_markdown_cell("# test notebook")]
    for _ in range(tagged_cells):
        cell = nbformat.v4.new_code_cell(parameters_source)
        cell.metadata["tags"] = ["parameters"]
        cells.append(cell)
    cells.append(nbformat.v4.new_code_cell(body))
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    nbformat.write(notebook, str(path))
    return path


PARAMETERS = 'run_name = "demo"\nepochs = 2\nlearning_rate = 0.1\nsample = True\nnote = None\n'


@pytest.fixture
def notebook(tmp_path):
    return make_notebook(tmp_path / "demo.ipynb", PARAMETERS)


def test_parameters_are_read_from_the_tagged_cell(notebook):
    assert notebooks.parameter_defaults(notebook) == {
        "run_name": "demo", "epochs": 2, "learning_rate": 0.1, "sample": True, "note": None}


def test_unknown_parameter_lists_the_valid_ones(notebook):
    with pytest.raises(parameters.NotebookParameterError) as caught:
        parameters.check_parameters(notebook, {"epoch": 3})
    message = str(caught.value)
    assert "Unknown parameter ['epoch']" in message
    assert "epochs=2" in message and "learning_rate=0.1" in message


@pytest.mark.parametrize(
    "name, value",
    [("epochs", "three"), ("epochs", 2.5), ("sample", 1), ("epochs", True)],
)
def test_wrong_type_is_refused(notebook, name, value):
    with pytest.raises(parameters.NotebookParameterError, match=f"Parameter '{name}'.*expects"):
        parameters.check_parameters(notebook, {name: value})


def test_int_is_accepted_for_float_and_none_default_takes_anything(notebook):
    checked = parameters.check_parameters(notebook, {"learning_rate": 1, "note": [1, 2]})
    assert checked == {"learning_rate": 1.0, "note": [1, 2]}
    assert isinstance(checked["learning_rate"], float)


def test_two_parameters_cells_are_refused(tmp_path):
    path = make_notebook(tmp_path / "two.ipynb", "epochs = 1", tagged_cells=2)
    with pytest.raises(ValueError, match="has 2 cells tagged 'parameters'; expected exactly 1"):
        notebooks.parameter_defaults(path)


def test_computed_parameter_is_refused(tmp_path):
    path = make_notebook(tmp_path / "computed.ipynb", "epochs = 2 * 10")
    with pytest.raises(ValueError, match="'epochs' must be a literal"):
        notebooks.parameter_defaults(path)


@pytest.mark.parametrize(
    "text, value",
    [("3", 3), ("0.5", 0.5), ("1e-3", 0.001), ("False", False), ("true", True),
     ("None", None), ("[1, 2]", [1, 2]), ("mnist", "mnist")],
)
def test_command_line_values_are_parsed(text, value):
    assert parameters.parse_value(text) == value


def test_cli_reports_an_unknown_parameter_and_exits_2(notebook, capsys, tmp_path):
    code = cli.main(["run", str(notebook), "-p", "epoch", "3", "--logs-dir", str(tmp_path)])
    assert code == 2
    error = capsys.readouterr().err
    assert "Unknown parameter ['epoch']" in error and "epochs=2" in error


def test_cli_reads_a_yaml_parameters_file(notebook, tmp_path, capsys):
    params = tmp_path / "params.yaml"
    params.write_text("epochs: oops\n")
    assert cli.main(["run", str(notebook), "-f", str(params)]) == 2
    assert "Parameter 'epochs'" in capsys.readouterr().err


@pytest.mark.notebook
def test_run_notebook_executes_into_the_run_folder(notebook, tmp_path):
    output = notebook_runner.run_notebook(notebook, {"epochs": 5, "run_name": "custom"},
                                 logs_dir=tmp_path / "logs", log_output=False)
    assert output == tmp_path / "logs" / "custom" / "demo.ipynb"
    executed = nbformat.read(str(output), as_version=4)
    injected = [cell for cell in executed.cells
                if "injected-parameters" in cell.metadata.get("tags", [])]
    assert len(injected) == 1 and "epochs = 5" in injected[0].source


def test_run_notebook_checks_its_input_once_and_asks_the_run_rules_once(notebook, tmp_path,
                                                                        monkeypatch):
    calls = []
    for name in ("check_parameters", "choose_logs_dir"):
        original = getattr(notebook_runner, name)
        monkeypatch.setattr(notebook_runner, name,
                            lambda *args, _original=original, _name=name, **kwargs: (
                                calls.append(_name), _original(*args, **kwargs))[1])
    original_target = notebook_runner.RunDir.training_target
    monkeypatch.setattr(notebook_runner.RunDir, "training_target",
                        lambda self, *args, **kwargs: (calls.append("training_target"),
                                                       original_target(self, *args, **kwargs))[1])
    notebook_runner.run_notebook(notebook, logs_dir=tmp_path / "logs", log_output=False)
    assert sorted(calls) == ["check_parameters", "choose_logs_dir", "training_target"]


@pytest.mark.parametrize("variant, message", [
    ("lenet5", r"unknown model 'lenet5'\. Models for its dataset \(fashion_mnist\): \[.*'lenet'"),
    ("all_cnn_c", r"'all_cnn_c' is built for cifar10, but the notebook trains on fashion_mnist"),
])
def test_a_model_variant_for_another_dataset_is_refused_before_the_kernel(variant, message):
    notebook = notebooks.resolve("classic_architectures")
    with pytest.raises(parameters.NotebookParameterError, match=message):
        parameters.check_parameters(notebook, {"model_variant": variant})


def test_a_model_variant_of_the_notebooks_dataset_passes():
    notebook = notebooks.resolve("classic_architectures")
    checked = parameters.check_parameters(notebook, {"model_variant": "alexnet"})
    assert checked == {"model_variant": "alexnet"}


@pytest.mark.parametrize("dataset, message", [
    ("cifar10", r"'cifar10' is not a dataset of 28x28 images like 'mnist', which the notebook's "
                r"model takes; choose one of \['fashion_mnist', 'mnist'\]"),
    ("cifar100", "'cifar100' is not a dataset of 28x28 images")])
def test_a_dataset_the_notebooks_model_does_not_take_is_refused_before_the_kernel(dataset,
                                                                                   message):
    notebook = notebooks.resolve("quickstart")
    with pytest.raises(parameters.NotebookParameterError, match=f"Parameter 'dataset' of "
                                                               f"notebook 00_quickstart.ipynb: "
                                                               f"{message}"):
        parameters.check_parameters(notebook, {"dataset": dataset})
    assert parameters.check_parameters(notebook, {"dataset": "fashion_mnist"}) == {
        "dataset": "fashion_mnist"}
