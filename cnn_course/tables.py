"""The package's one table printer, and one format each for large counts, accuracies and times.

Every table the course prints or writes (layer tables, cost tables, run tables, per-class
tables) goes through `render`, so plain text and Markdown look alike everywhere; every MAC,
FLOP or parameter count shortened for a table goes through `human`; every accuracy through
`percent`, every wall time through `duration` or `seconds`. (`tabulate` would print
the tables too; these few lines keep the notebooks free of one more dependency in Colab.)
"""

from __future__ import annotations

from collections.abc import Sequence

FORMATS = ("text", "markdown")


def human(value: float) -> str:
    """1234 → '1.234K', 46764746 → '46.76M', 999 → '999' (four significant figures)."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(value) >= size:
            return f"{value / size:.4g}{unit}"
    return f"{value:g}"


def percent(value: float | None) -> str:
    """0.8918 → '89.18%'; None (not measured) → '–'."""
    return "–" if value is None else f"{100 * value:.2f}%"


def percent_spread(mean: float, spread: float) -> str:
    """A mean and its standard deviation over seeds: (0.85, 0.05) → '85.00% ± 5.00' (points)."""
    return f"{percent(mean)} ± {100 * spread:.2f}"


def duration(seconds: float | None) -> str:
    """A wall time: 7093.4 → '118 min 13 s', 34 → '34 s'; None → '–'."""
    if seconds is None:
        return "–"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def seconds(value: float | None) -> str:
    """A time per epoch: 141.63 → '141.6 s'; None → '–'."""
    return "–" if value is None else f"{value:.1f} s"


def render(header: Sequence[str], rows: Sequence[Sequence[object]], align: str | None = None,
           format: str = "text") -> str:
    """The rows under the header as plain text (columns two spaces apart, no trailing spaces)
    or as a Markdown table.

    Args:
        align: one letter per column, "l" (left) or "r" (right); default: the first column
            left, the others right (names, then numbers).
        format: "text" or "markdown" (a "|" inside a cell is escaped).
    """
    if format not in FORMATS:
        raise ValueError(f"Unknown format {format!r}: expected one of {FORMATS}.")
    align = align or "l" + "r" * (len(header) - 1)
    if len(align) != len(header) or set(align) - {"l", "r"}:
        raise ValueError(f"align must be one 'l' or 'r' per column ({len(header)}); "
                         f"received align={align!r}")
    cells = [[str(cell) for cell in row] for row in rows]
    if format == "markdown":
        rule = "|" + "|".join("---" if side == "l" else "--:" for side in align) + "|"
        lines = [list(header), *cells]
        return "\n".join(["| " + " | ".join(cell.replace("|", "\\|") for cell in lines[0])
                          + " |", rule]
                         + ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |"
                            for row in lines[1:]])
    widths = [max(len(cell) for cell in column) for column in zip(header, *cells)]

    def line(row: Sequence[str]) -> str:
        return "  ".join(cell.ljust(width) if side == "l" else cell.rjust(width)
                         for cell, width, side in zip(row, widths, align)).rstrip()

    return "\n".join(line(row) for row in [list(header), *cells])
