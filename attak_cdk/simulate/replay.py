"""A simulation's dead letters as a file, and that file as the input of the next run.

``attak simulate --dead-letters-out FILE`` writes ``{"topology", "dead_letters": [...]}``,
each letter as ``attak simulate --json`` lists it (processor, source stream, event, trace,
error, traceback, attempts, topic, sender, hops). ``attak simulate --replay-dead-letters
FILE`` reads that file (or a whole ``--json`` document) back as input events, so a user
can fix the handler and run the failed events again:

- a letter read from a stream goes back into that stream, as the envelope it had (its
  trace, topic, sender and hops), so only its processor reads it, as it did the first time;
- a letter of a direct invocation (source ``input``) invokes its processor directly again.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from ..errors import InputError, path_problem
from ..inputs import InputEvent, check_processors
from ..runtime.envelope import EmitError, encode, encode_input
from .result import SimulationResult, dead_letter_document

INPUT = "input"
"""The source of a direct invocation (``engine.INPUT``)."""


def dead_letters_document(result: SimulationResult) -> dict[str, Any]:
    """What ``--dead-letters-out`` writes."""
    return {
        "topology": result.topology,
        "dead_letters": [dead_letter_document(d) for d in result.dead_letters],
    }


def write_dead_letters(file: Path, result: SimulationResult) -> None:
    """Write the run's dead letters to ``file`` (JSON); an ``InputError`` if it cannot be."""
    text = json.dumps(dead_letters_document(result), indent=2, ensure_ascii=False, default=repr)
    try:
        file.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError(
            f"--dead-letters-out {file}: cannot write the dead letters there ({exc.strerror}); "
            "give a file in a folder you can write to"
        ) from None


def read_dead_letters(file: Path, processors: list[str] | tuple[str, ...]) -> list[InputEvent]:
    """The letters of a ``--dead-letters-out`` file (or ``simulate --json`` document) as
    input events (see the module docstring); ``InputError`` naming the file and letter."""
    problem = path_problem(str(file))
    if problem:
        raise InputError(f"{str(file)!r}: the dead-letters file's path {problem}")
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            f"{file}: dead-letters file not found; write one with `attak simulate "
            "--dead-letters-out FILE`"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{file}: cannot read the dead-letters file: {exc}") from None
    letters = document.get("dead_letters") if isinstance(document, dict) else None
    if not isinstance(letters, list):
        raise InputError(
            f'{file}: not a dead-letters file (no "dead_letters" list); write one with '
            "`attak simulate --dead-letters-out FILE` (or `--json`)"
        )
    return letter_events(letters, str(file), processors)


def letter_events(
    letters: list[Any], origin: str, processors: list[str] | tuple[str, ...]
) -> list[InputEvent]:
    """Dead letters (as ``--json`` lists them) as input events; ``origin`` names where
    they came from in messages (a file, the UI's last run)."""
    events = [_event(f"{origin}: dead_letters[{i}]", letter) for i, letter in enumerate(letters)]
    check_processors(events, processors)
    return events


def _event(where: str, letter: Any) -> InputEvent:
    if not isinstance(letter, dict) or not isinstance(letter.get("processor"), str):
        raise InputError(f'{where}: a letter is an object with a "processor"')
    processor, source = letter["processor"], letter.get("source") or INPUT
    data = letter.get("event")
    if isinstance(data, dict) and set(data) == {"base64"}:  # binary data (event_document)
        data = base64.b64decode(data["base64"])
    if source == INPUT:
        return InputEvent(processor, data, where)
    trace = str(letter.get("trace") or "")
    if isinstance(data, bytes):  # an outside producer's bytes: the record as it was
        return InputEvent(processor, None, where, data, source)
    try:
        if letter.get("sender") is None and letter.get("topic") is None:
            payload = encode_input(data, trace)
        else:
            payload = encode(
                data,
                topic=str(letter.get("topic") or ""),
                source=str(letter.get("sender") or ""),
                trace=trace,
                hops=int(letter.get("hops") or 0),
            )
    except EmitError as exc:
        raise InputError(f"{where}: {exc}") from None
    return InputEvent(processor, None, where, payload.encode(), source)
