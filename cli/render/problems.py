"""attak errors and a topology's issues, on stderr so they never mix with data on stdout."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.markup import escape

from attak_cdk.errors import AttakError, Issue, TopologyError

from .console import err, plural


def error(exc: AttakError) -> None:
    """An attak error on stderr: every issue for a topology error, else the message."""
    if isinstance(exc, TopologyError):
        errors = [i for i in exc.issues if i.severity == "error"]
        err.print(f"[bold red]error:[/] the topology has {plural(len(errors), 'problem')}:")
        for issue in exc.issues:
            _issue_line(err, issue)
        return
    err.print(f"[bold red]error:[/] {escape(exc.message)}")


def _issue_line(console: Console, issue: Issue) -> None:
    colour = "red" if issue.severity == "error" else "yellow"
    where = ": ".join(part for part in (issue.file, issue.path) if part)
    label = "" if issue.severity == "error" else "warning: "
    console.print(f"  [{colour}]{escape(where)}[/]: {label}{escape(issue.message)}")


def issues(found: Iterable[Issue]) -> None:
    """Warnings, on stderr so they never mix with data on stdout."""
    for issue in found:
        _issue_line(err, issue)
