"""Checks a folder attak is about to write into (a cloud assembly, a new project) before
anything is written there.

A path that cannot work (an existing file, a file further up, a read-only folder, ``/proc``)
fails at once with the reason, instead of as a traceback halfway through writing, or as a
hang inside the cdk toolchain. The check writes only a probe, removed at once: a refused
path is left exactly as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from .errors import OutputError, path_problem


def check_writable_folder(folder: Path, what: str, fix: str) -> None:
    """Raise ``OutputError`` unless ``folder`` is, or can be made, a folder to write into.

    ``what`` names the folder in the message ("the cloud assembly folder (--output)"),
    ``fix`` says what to do instead ("pass another folder with -o").
    """
    problem = path_problem(str(folder))
    if problem:
        raise OutputError(f"{str(folder)!r}: the path of {what} {problem}; {fix}")
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: {what} must be a folder, and this is a file; {fix}")
    nearest = folder
    while not nearest.exists() and nearest != nearest.parent:
        nearest = nearest.parent
    if not nearest.is_dir():
        raise OutputError(
            f"{folder}: {what} cannot be made there: {nearest} is a file, not a folder; {fix}"
        )
    try:
        # A real write, not os.access: root passes every permission check, and access()
        # knows nothing of /proc or /sys, which refuse new files whoever asks.
        probe = Path(tempfile.mkdtemp(prefix=".attak-probe-", dir=nearest))
        try:
            (probe / "probe").write_bytes(b"")
        finally:
            shutil.rmtree(probe, ignore_errors=True)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise OutputError(
            f"{folder}: {what} cannot be written in {nearest} ({reason}); {fix}"
        ) from None
