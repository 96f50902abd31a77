"""Reads input files: the seed's ``input.json`` and JSON Lines, for ``simulate`` and ``trigger``.

``input.json`` maps processor names to the data each receives:
``{"hello_world_spout": "hello world"}``. A ``.jsonl`` (or ``.ndjson``) file holds one
event per line, ``{"processor": "reverse", "data": ...}``, for many events (also to the
same processor).

A topology's schedules are input too: ``scheduled_events`` makes the events its scheduled
processors receive in their first firings, as EventBridge would send them.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from . import graph
from .errors import InputError, did_you_mean, known, path_problem
from .model import Topology
from .schedules import fire_times

JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
DEFAULT_INPUT = "input.json"
DEFAULT_INPUT_LINES = "input.jsonl"
"""Read beside the topology when there is no ``input.json``: many events, one per line."""


class InputEvent(NamedTuple):
    """One event sent from outside to a processor (a tuple: cheap to make by the million).

    ``raw``, when given, is a Kinesis record's data as an outside producer wrote it (a
    KPL aggregate, a CloudWatch Logs subscription's gzip data, text, any bytes): it is
    written as it is into the processor's ingest stream, which it needs, and the
    processor gets the events in it as Lambda would; ``data`` is then unused.
    """

    processor: str
    data: Any
    where: str = ""
    """File and key or line it came from, for messages."""
    raw: bytes | None = None
    stream: str | None = None
    """With ``raw``: the topology stream (by its name in the graph, ``a->b``) it is written
    into instead of the ingest stream: how a dead letter goes back where it was read."""


def raw_record(processor: str, data: bytes) -> InputEvent:
    """Outside input of one Kinesis record's ``data``, written as it is into
    ``processor``'s ingest stream (see ``InputEvent.raw``)."""
    return InputEvent(processor, None, f"raw record for {processor}", data)


def scheduled_events(
    topology: Topology, ticks: int, start: datetime | None = None
) -> list[InputEvent]:
    """The events each scheduled processor receives in its first ``ticks`` firings after
    ``start`` (default: now), all in time order (processors in topology order at the same
    time): its constant event, or the scheduled time (``Schedule.event_at``)."""
    scheduled = {n: p.schedule for n, p in topology.processors.items() if p.schedule}
    if ticks and not scheduled:
        raise InputError(
            f"{topology.name}: no processor has a schedule to fire; give one a schedule: "
            "(e.g. schedule: rate(5 minutes)) or leave out --schedule-ticks"
        )
    order = {name: index for index, name in enumerate(topology.processors)}
    fired = sorted(
        (
            (time, order[name], name, schedule)
            for name, schedule in scheduled.items()
            for time in fire_times(schedule.expression, start or datetime.now(UTC), ticks)
        ),
        key=lambda f: (f[0], f[1]),
    )
    return [
        InputEvent(
            name, schedule.event_at(time), f"schedule of {name} at {time:%Y-%m-%d %H:%M} UTC"
        )
        for time, _, name, schedule in fired
    ]


def only_scheduled_entries(topology: Topology) -> bool:
    """Every entry processor has a schedule: its ticks are all the input it needs."""
    return all(topology.processors[name].schedule for name in graph.entries(topology))


def default_input(topology_file: Path) -> Path:
    """``input.json`` beside the topology file, or ``input.jsonl`` when only that exists
    (a pipeline fed many events keeps them one per line)."""
    given = topology_file.parent / DEFAULT_INPUT
    lines = topology_file.parent / DEFAULT_INPUT_LINES
    return lines if not given.exists() and lines.is_file() else given


def read_inputs(file: str | Path, processors: Collection[str]) -> list[InputEvent]:
    """Read an input file and check that every event names a known processor."""
    path = Path(file)
    problem = path_problem(str(file))
    if problem:
        raise InputError(f"{str(file)!r}: the input file's path {problem}")
    if not path.is_file():
        raise InputError(
            f'{path}: input file not found; create it (e.g. {{"processor_name": "data"}}) '
            "or pass another with --input FILE"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the input file: {exc}") from exc
    if path.suffix in JSON_LINES_SUFFIXES:
        events = _json_lines(path, text)
    else:
        events = read_input_object(path, text)
    check_processors(events, processors)
    return events


def check_processors(events: list[InputEvent], processors: Collection[str]) -> None:
    """Raise ``InputError`` for the first event naming a processor the topology lacks."""
    for event in events:
        if event.processor not in processors:
            raise InputError(
                f"{event.where}: unknown processor '{event.processor}'"
                f"{did_you_mean(event.processor, processors)} ({known(processors)})"
            )


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON data (JSON has no NaN or Infinity); use null or a string")


class DuplicateKey(ValueError):
    """One JSON object names a key twice: json keeps the last value, silently."""

    def __init__(self, key: str, line: int, depth: int) -> None:
        super().__init__(f"key {key[:80]!r} appears twice in one object (line {line})")
        self.key, self.line, self.depth = key, line, depth

    def message(self, where: str, *, events: bool) -> str:
        """The input error, at ``where`` (``file:line``); ``events``: the key names an event
        (a processor in input.json), so one of two events would be lost."""
        lost = (
            "only the second event would be sent: to send several events to one processor, "
            'write JSON Lines (.jsonl), one {"processor": ..., "data": ...} per line'
            if events
            else "the second would silently replace the first: rename or merge them"
        )
        return f"{where}: key {self.key[:80]!r} appears twice in one object; {lost}"


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        raise DuplicateKey("", 0, 0)  # located in the text by ``_loads``: the hook sees none
    return document


def _loads(text: str) -> Any:
    """``json.loads`` that refuses NaN and Infinity, which no consumer could read back, and
    an object naming a key twice, whose first value would be lost without a word."""
    try:
        return json.loads(
            text, parse_constant=_refuse_constant, object_pairs_hook=_refuse_duplicates
        )
    except DuplicateKey:
        located = first_duplicate_key(text)
        raise located if located else DuplicateKey("?", 1, 0) from None


def first_duplicate_key(text: str) -> DuplicateKey | None:
    """The first key (in reading order) that an object of JSON ``text`` names twice, with
    its second line and its depth (0: a key of the outermost object), or None.

    A scan of the text, run only once ``json`` found a duplicate: its hook sees no
    positions. Keys are compared decoded (``"p"`` and ``"\\u0070"`` are one key).
    """
    objects: list[set[str] | None] = []  # per open bracket: the keys seen, None for a list
    index, length = 0, len(text)
    while index < length:
        char = text[index]
        if char in "{[":
            objects.append(set() if char == "{" else None)
        elif char in "}]":
            if objects:
                objects.pop()
        elif char == '"':
            end = index + 1
            while end < length and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            after = end + 1
            while after < length and text[after] in " \t\r\n":
                after += 1
            keys = objects[-1] if objects else None
            if keys is not None and after < length and text[after] == ":":
                key = json.loads(text[index : end + 1])
                if key in keys:
                    line = text.count("\n", 0, index) + 1
                    return DuplicateKey(key, line, len(objects) - 1)
                keys.add(key)
            index = end
        index += 1
    return None


def read_input_object(path: Path, text: str) -> list[InputEvent]:
    try:
        document = _loads(text)
    except RecursionError:
        raise InputError(f"{path}: the input is nested too deeply to read") from None
    except DuplicateKey as exc:
        raise InputError(exc.message(f"{path}:{exc.line}", events=exc.depth == 0)) from None
    except ValueError as exc:
        if not isinstance(exc, json.JSONDecodeError):
            raise InputError(f"{path}: {exc}") from None
        hint = ""
        if exc.msg == "Extra data":
            hint = (
                "; one event per line is JSON Lines: name the file with .jsonl and write "
                '{"processor": ..., "data": ...} on each line'
            )
        raise InputError(
            f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}{hint}"
        ) from None
    if not isinstance(document, dict):
        raise InputError(
            f"{path}: input must be a JSON object mapping processor names to their data, "
            f'e.g. {{"hello_world_spout": "hello world"}} (given a {type(document).__name__}); '
            "for many events use JSON Lines (.jsonl)"
        )
    return [InputEvent(str(name), data, f"{path}: {name}") for name, data in document.items()]


def read_input_text(path: Path, text: str) -> list[InputEvent]:
    """Input typed rather than read from a named file: input.json's form, or JSON Lines.

    One JSON object is input.json's ``{processor: data}``, unless it is exactly one JSON
    Lines event (``{"processor": ..., "data": ...}``); objects one after another are JSON
    Lines. Messages are those of the file form the text is in.
    """
    try:
        document = _loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":  # a whole object, then more: one event per line
            return _json_lines(path, text)
        return read_input_object(path, text)  # raises with input.json's message
    except ValueError:
        return read_input_object(path, text)
    if isinstance(document, dict) and set(document) == {"processor", "data"}:
        return [InputEvent(str(document["processor"]), document["data"], f"{path}:1")]
    return read_input_object(path, text)


def _json_lines(path: Path, text: str) -> list[InputEvent]:
    events = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            item = _loads(line)
        except RecursionError:
            raise InputError(f"{where}: the line is nested too deeply to read") from None
        except DuplicateKey as exc:
            raise InputError(exc.message(where, events=False)) from None
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: invalid JSON at column {exc.colno}: {exc.msg}") from None
        except ValueError as exc:
            raise InputError(f"{where}: {exc}") from None
        if not isinstance(item, dict) or "processor" not in item or "data" not in item:
            raise InputError(
                f'{where}: each line must be {{"processor": name, "data": ...}} '
                f"(given {line.strip()[:80]})"
            )
        extra = sorted(set(item) - {"processor", "data"})
        if extra:
            raise InputError(f"{where}: unknown key '{extra[0]}' (allowed: processor, data)")
        events.append(InputEvent(str(item["processor"]), item["data"], where))
    return events
