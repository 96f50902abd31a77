"""The table every listing attak prints is made from: borderless, numbers right-aligned."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text


def table(
    *columns: str, left: Iterable[str] = (), no_wrap: bool = False, fold: Iterable[str] = ()
) -> Table:
    """A borderless table, like every listing attak prints. The first column and those
    named in ``left`` or ``fold`` are text; the others are numbers, right-aligned. With
    ``fold``, only those columns wrap (at words)."""
    folded = set(fold)
    text = {columns[0], *left, *folded}
    listing = Table(show_edge=False, box=None, pad_edge=False)
    for column in columns:
        listing.add_column(
            column,
            justify="left" if column in text else "right",
            overflow="fold",
            no_wrap=(no_wrap or bool(folded)) and column not in folded,
        )
    return listing


def red_if(count: int) -> str:
    """A count cell, red when it is not zero (errors, dead letters)."""
    return f"[red]{count}[/]" if count else "0"


def print_fitted(
    console: Console,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    left: Iterable[str] = (),
    fold: Iterable[str] = (),
) -> None:
    """A table that never cuts a number or a header.

    Every column keeps its cells whole except those named in ``fold`` (free text, wrapped
    at words). Piped, the table is as wide as it needs (the reader's pager or file has no
    edge); in a terminal too narrow for it, each row is printed as a block of
    ``column  value`` lines instead, which fits any width a name fits in.
    """
    folded = set(fold)
    # Every column whole but the folded ones (a table with none folds none).
    listing = table(*columns, left=left, no_wrap=True, fold=folded)
    for row in rows:
        listing.add_row(*row)
    whole, least = _widths(columns, rows, folded)
    if not console.is_terminal:
        # rich prints no wider than its console: widened for the table, then set back.
        width = console.width
        console.width = max(whole, width)
        try:
            console.print(listing)
        finally:
            console.width = width
    elif least <= console.width:
        console.print(listing)
    else:
        _stacked(console, columns, rows)


def _widths(
    columns: Sequence[str], rows: Sequence[Sequence[str]], folded: set[str]
) -> tuple[int, int]:
    """The width the table needs with every cell on one line, and the least it needs
    with ``folded`` columns wrapped at words (two spaces between columns, none outside)."""
    whole = least = 2 * (len(columns) - 1)
    for index, column in enumerate(columns):
        cells = [Text.from_markup(column), *(Text.from_markup(row[index]) for row in rows)]
        full = max(cell.cell_len for cell in cells)
        whole += full
        if column in folded:
            words = [w for cell in cells for w in cell.plain.split()]
            least += max((len(w) for w in words), default=0)
        else:
            least += full
    return whole, least


def _stacked(console: Console, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A heading line of the columns' names, then each row as its first cell and one
    indented ``column  value`` line per other cell that has a value."""
    labels = columns[1:]
    width = max((Text.from_markup(c).cell_len for c in labels), default=0)
    console.print(f"[bold]{columns[0]}[/]")
    for row in rows:
        console.print(row[0])
        for label, value in zip(labels, row[1:], strict=True):
            if value:
                pad = " " * (width - Text.from_markup(label).cell_len)
                console.print(f"  {label}{pad}  {value}")
