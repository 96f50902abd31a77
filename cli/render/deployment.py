"""Warnings about what is deployed, on stderr: a topology that differs from the local file,
an older stack layout left beside the new one."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape

from .console import err


def deployment_differs(path: Path, differences: list[str]) -> None:
    """Warn, on stderr, that the deployed topology is not the local one."""
    if not differences:
        return
    err.print(
        f"[yellow]warning:[/] the deployed topology differs from {escape(str(path))} "
        "(`attak diff` shows how, `attak deploy` updates it):"
    )
    for line in differences:
        err.print(f"  [yellow]{escape(line)}[/]")


def layout_left_behind(message: str | None) -> None:
    """Warn that an older layout of the stacks is still deployed (``None``: nothing left)."""
    if message:
        err.print(f"[yellow]warning:[/] {escape(message)}")
