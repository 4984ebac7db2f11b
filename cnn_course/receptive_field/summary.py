"""`summary(model)`: a `model.summary`-like table with output, params, MACs, RF and jump."""

from __future__ import annotations

from fractions import Fraction

import keras

from cnn_course import tables
from cnn_course.receptive_field.annotate import LayerRow, annotate

COLUMNS = ("Layer (type)", "Output", "Params", "MACs", "RF", "Jump", "Start", "Notes")
ALIGN = "llrrrrrl"


def _axes(values: tuple, default: str = "-") -> str:
    """(5, 5) -> '5'; (7, 5) -> '7×5'; () -> default."""
    if not values:
        return default
    texts = [_number(value) for value in values]
    return texts[0] if len(set(texts)) == 1 else "×".join(texts)


def _number(value) -> str:
    if value is None:
        return "?"
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _cells(row: LayerRow) -> list[str]:
    notes = list(row.notes)
    if row.is_global:
        notes.append("sees the whole input")
    rf = _axes(row.rf, "1")
    if not row.uniform and row.rf:
        rf += " (max)"
    return [
        f"{row.layer} ({row.kind})",
        str(tuple(row.output_shape)),
        f"{row.params:,}",
        "?" if row.macs is None else tables.human(row.macs),
        rf,
        "-" if row.is_global else _axes(row.jump, "1"),
        _axes(row.start, "0") if not row.is_global else _axes(row.start, "-"),
        "; ".join(notes),
    ]


def summary(model: keras.Model, format: str = "text", print_fn=None) -> str | None:
    """Prints (text) or returns (markdown) the annotated layer table of `model`.

    Args:
        format: "text" prints a table like `model.summary()` (and returns None);
            "markdown" returns a Markdown table for README files and notebooks.
        print_fn: where text goes (default: print).
    """
    if format not in ("text", "markdown"):
        raise ValueError(f"Unknown format {format!r}: expected 'text' or 'markdown'.")
    rows = annotate(model)
    table = [_cells(row) for row in rows]
    total_params = model.count_params()
    macs = [row.macs for row in rows]
    total_macs = ("? (they depend on the input's size, which is not fixed)" if None in macs
                  else f"{tables.human(sum(macs))} ({sum(macs):,})")
    footer = f"Total params: {total_params:,} | Total MACs: {total_macs}"
    if format == "markdown":
        return (f"**{model.name}**\n\n" + tables.render(COLUMNS, table, ALIGN, "markdown")
                + f"\n\n{footer}")
    header, *lines = tables.render(COLUMNS, table, ALIGN).splitlines()
    rule = "─" * max(len(line) for line in [header, *lines])
    text = "\n".join([f'Model: "{model.name}"', rule, header, rule, *lines, rule, footer])
    (print_fn or print)(text)
    return None
