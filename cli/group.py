"""The command group every ``attak`` command runs in: the one place attak's errors become a
message on stderr and an exit code (1; 2 for usage, with the command's own ``--help``).

A group of subcommands (``attak dead-letters``) uses it too, so a usage error deep in one
names the command that was run (``attak dead-letters replay --help``), not its group.
"""

from __future__ import annotations

import sys
from typing import Any

import typer
from typer.core import TyperGroup

from attak_cdk.errors import AttakError, UsageError

from .render.problems import error


class AttakGroup(TyperGroup):
    """Turns attak's own errors into a message on stderr and exit code 1 (2 for usage)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            error(exc)
            command = f"{ctx.command_path} {ctx.invoked_subcommand or ''}".strip()
            sys.stderr.write(f"Try '{command} --help' for help.\n")
            raise typer.Exit(2) from None
        except AttakError as exc:
            error(exc)
            raise typer.Exit(1) from None
