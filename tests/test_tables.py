"""The package's one table printer and its formats (counts, accuracies, times)."""

import pytest

from cnn_course import tables


def test_text_tables_align_names_left_and_numbers_right_without_trailing_spaces():
    text = tables.render(("layer", "params", "note"), [("conv", "1,024", ""), ("dense_1", "10", "x")],
                         align="lrl")
    assert text.splitlines() == ["layer    params  note", "conv      1,024", "dense_1      10  x"]


def test_markdown_tables_mark_alignment_and_escape_pipes():
    text = tables.render(("a", "b"), [("x|y", 3)], format="markdown")
    assert text.splitlines() == ["| a | b |", "|---|--:|", "| x\\|y | 3 |"]


@pytest.mark.parametrize("align, format", [("l", "text"), ("lx", "text"), (None, "html")])
def test_a_bad_alignment_or_format_is_refused(align, format):
    with pytest.raises(ValueError, match="align must be|Unknown format"):
        tables.render(("a", "b"), [(1, 2)], align=align, format=format)


@pytest.mark.parametrize("value, text", [(0, "0"), (999, "999"), (1152, "1.152K"),
                                         (46_764_746, "46.76M"), (2.048e9, "2.048G")])
def test_human_keeps_four_significant_figures(value, text):
    assert tables.human(value) == text


def test_accuracies_and_times_have_one_format_each():
    assert tables.percent(0.8918) == "89.18%" and tables.percent(None) == "–"
    assert tables.percent_spread(0.85, 0.05) == "85.00% ± 5.00"
    assert tables.duration(7093.4) == "118 min 13 s" and tables.duration(34) == "34 s"
    assert tables.duration(None) == "–"
    assert tables.seconds(141.63) == "141.6 s" and tables.seconds(None) == "–"
