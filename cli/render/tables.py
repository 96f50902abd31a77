"""The table every listing attak prints is made from: borderless, numbers right-aligned."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table


def table(*columns: str, left: Iterable[str] = (), no_wrap: bool = False) -> Table:
    """A borderless table, like every listing attak prints. The first column and those
    named in ``left`` are text; the others are numbers, right-aligned."""
    text = {columns[0], *left}
    listing = Table(show_edge=False, box=None, pad_edge=False)
    for column in columns:
        listing.add_column(
            column,
            justify="left" if column in text else "right",
            overflow="fold",
            no_wrap=no_wrap,
        )
    return listing


def red_if(count: int) -> str:
    """A count cell, red when it is not zero (errors, dead letters)."""
    return f"[red]{count}[/]" if count else "0"
