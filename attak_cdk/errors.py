"""attak's error types and the ``Issue`` that validation reports.

Every expected failure is an ``AttakError`` whose message says what is wrong, the value
given, what is allowed and how to fix it. Only the CLI turns these into text on stderr and
an exit code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Issue:
    """One problem found in a topology: where it is, and what to do about it.

    ``path`` is the location inside the document (``streams[1].to``); ``file`` the
    topology file. ``code`` is a short stable identifier for tooling (``unknown-processor``).
    """

    code: str
    path: str
    message: str
    file: str = ""
    severity: Severity = "error"

    def __str__(self) -> str:
        where = ": ".join(part for part in (self.file, self.path) if part)
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}: {prefix}{self.message}" if where else f"{prefix}{self.message}"

    def as_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "severity": self.severity,
            "file": self.file,
            "path": self.path,
            "message": self.message,
        }


class AttakError(Exception):
    """Base of every error attak expects and explains."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TopologyError(AttakError):
    """The topology file cannot be used: carries every issue found, not only the first."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues = tuple(issues)
        errors = [i for i in self.issues if i.severity == "error"]
        count = f"{len(errors)} problem{'s' if len(errors) != 1 else ''}"
        lines = "\n".join(f"  {issue}" for issue in errors)
        super().__init__(f"the topology has {count}:\n{lines}")


class InputError(AttakError):
    """An input file (input.json or JSON Lines) cannot be read or names no processor."""


class UsageError(AttakError):
    """A command was given options that cannot work together or a value out of range.

    The command line itself is wrong, whatever the files and services it names: the CLI
    exits 2 for it, as for the usage errors its option parser finds.
    """


class OutputError(AttakError):
    """A file or folder attak was asked to write cannot be written there (checked first)."""


def did_you_mean(value: str, allowed: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest allowed word, or ``""``."""
    matches = get_close_matches(value, list(allowed), n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""


def known(allowed: Iterable[str]) -> str:
    """Render the allowed words for a message: ``known: a, b, c``."""
    words = sorted(allowed)
    return "known: " + ", ".join(words) if words else "none are defined"


def path_problem(text: str) -> str | None:
    """Why ``text`` cannot name a file on this system (NUL byte, over-long name), or None."""
    if "\0" in text:
        return "contains a NUL character"
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            return "is not valid Unicode text"
    if len(text.encode()) > 4096 or any(len(part.encode()) > 255 for part in Path(text).parts):
        return "is longer than file systems allow"
    return None


NO_CREDENTIALS = (
    "no AWS credentials were found: set AWS_PROFILE (after `aws configure` or `aws sso "
    "login`) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; for a local emulator (moto "
    "server) pass --endpoint-url"
)
"""What every command that talks to AWS says when there are no credentials."""

ENDPOINT_SCHEMES = ("http", "https")
_HOST = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$")


def endpoint_problem(url: str) -> str | None:
    """Why ``url`` cannot be an AWS endpoint (``http(s)://host[:port][/path]``), or None.

    botocore and the cdk CLI accept only http and https with a host; anything else fails
    deep inside them (a bare ``ValueError``, or an unsupported-scheme error at the first call).
    """
    if not url.strip():
        return "is empty"
    if url != url.strip() or any(c.isspace() or not c.isprintable() for c in url):
        return "contains spaces or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port  # reading it checks it: a number from 0 to 65535
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    if parts.scheme not in ENDPOINT_SCHEMES:
        if not parts.scheme or not parts.netloc:
            example = f"http://{url}" if "://" not in url else "http://localhost:5000"
            return f"is not a URL: it needs http:// or https:// and a host, e.g. {example}"
        return f"has the scheme '{parts.scheme}': AWS endpoints use http or https"
    host = parts.hostname or ""
    bracketed = parts.netloc.split("@")[-1].startswith("[")
    if not host or (not bracketed and not _HOST.match(host)):
        return "has no valid host name, e.g. http://localhost:5000"
    if port == 0:
        return "has port 0; give the port the endpoint listens on"
    return None


def display_path(file: Path) -> str:
    """A file as messages show it: relative to the working folder when it is below it."""
    try:
        return str(file.relative_to(Path.cwd()))
    except ValueError:
        return str(file)
