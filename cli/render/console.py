"""Where the CLI's output goes, and what every renderer shares.

``out`` and ``err`` are rich consoles on stdout and stderr. Documents (``--json``,
``synth --print``) bypass rich and are written to stdout as they are.
"""

from __future__ import annotations

import json
import sys

from rich.console import Console

# Piped output gets room for tables (rich would assume 80 columns); a terminal keeps its own.
_PIPED_WIDTH = None if sys.stdout.isatty() else 120
# No emoji codes: an ARN such as arn:aws:secretsmanager:...:secret:db would print ㊙.
out = Console(highlight=False, soft_wrap=True, width=_PIPED_WIDTH, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, width=_PIPED_WIDTH, emoji=False)

PREVIEW = 70
"""Characters of event data shown per line in a trace."""


def preview(data: object) -> str:
    """Data as compact JSON, cut to fit one line."""
    try:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        text = repr(data)
    return text if len(text) <= PREVIEW else text[: PREVIEW - 1] + "…"


def plural(count: int, word: str) -> str:
    """``1 stream``, ``2 streams``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def print_json(document: object) -> None:
    """A ``--json`` document on stdout, indented; values JSON lacks are written as text."""
    text = json.dumps(document, indent=2, ensure_ascii=False, default=str)
    # A lone surrogate (from a \\ud800 escape in user data) has no UTF-8 form; written back
    # as its JSON escape, the document stays valid.
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    sys.stdout.write(text + "\n")


def print_yaml(document: object) -> None:
    """A document on stdout as YAML, keys in their order."""
    import yaml

    sys.stdout.write(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
