"""Test a topology in your own tests: run it whole, or call one processor's handler.

``run_topology`` simulates the topology with the memory engine (the runtime Lambda runs)
and returns the ``SimulationResult``; ``result.assert_ok()`` fails with every dead
letter's processor, data, error, trace and traceback. ``invoke`` calls one processor's
handler with one event, as a direct invocation, and returns what it emitted, without
running the rest of the topology; ``lambda_context`` is the fake Lambda context both use.
The README's "Test your topology" shows them together
(``sample_topology/tests/test_sample_topology.py``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from . import graph
from .errors import InputError, did_you_mean, known
from .handlers import Handler, load_handler, with_environment
from .inputs import (
    InputEvent,
    check_processors,
    default_input,
    only_scheduled_entries,
    raw_record,
    read_inputs,
    scheduled_events,
)
from .model import Topology
from .project import load_topology
from .runtime.context import Emit, Routes
from .runtime.envelope import Envelope, encode_input, new_id
from .runtime.handler import Record, Runner
from .simulate.configuration import ConfigurationError, local_environments
from .simulate.lambda_events import LOCAL_REGION, LambdaContext
from .simulate.memory import simulate
from .simulate.result import DeadLetter, Invocation, SimulationResult

__all__ = [
    "ConfigurationError",
    "DeadLetter",
    "Emit",
    "Invocation",
    "LambdaContext",
    "SimulationResult",
    "invoke",
    "lambda_context",
    "raw_record",
    "run_topology",
]

Inputs = Mapping[str, Any] | Iterable[tuple[str, Any] | InputEvent] | str | Path


def run_topology(
    topology: str | Path | Topology,
    inputs: Inputs | None = None,
    *,
    input_file: str | Path | None = None,
    handlers: Mapping[str, Handler] | None = None,
    max_hops: int | None = None,
    seed: int = 0,
    timeouts: bool = True,
    env_file: str | Path | None = None,
    environment: Mapping[str, str] | None = None,
    schedule_ticks: int = 0,
    schedule_start: datetime | None = None,
) -> SimulationResult:
    """Simulate ``topology`` (a path, ``str`` or ``Path``, or a loaded model) with
    ``inputs`` and return the result.

    ``inputs`` is an input file's path (``str`` or ``Path``: ``input.json``'s form, or
    JSON Lines in a ``.jsonl`` file; a relative path not found from the current folder is
    looked for beside the topology), or events in memory: a mapping of processor names to
    data like ``input.json``, or a sequence of ``(processor, data)`` pairs to send several
    events to one processor; a pair may also be an ``InputEvent``, such as
    ``raw_record(processor, data)``: bytes an outside producer wrote into the processor's
    ingest stream (a KPL aggregate, a CloudWatch Logs subscription's gzip data), which the
    processor reads as Lambda would. Without ``inputs``, ``input_file`` (default:
    ``input.json`` beside the topology) is read.

    ``schedule_ticks`` fires each scheduled processor's schedule that many times after the
    inputs, as ``attak simulate --schedule-ticks`` does: its next firings after
    ``schedule_start`` (default: now), each with its constant event or the scheduled time
    (``{"time": "2026-12-03T08:00:00Z", "schedule": "rate(5 minutes)"}``). When every
    entry processor is scheduled, no input file is needed.

    ``handlers`` maps processor names to functions that replace their handlers for this
    run (a fake, a spy); the other processors run their own.

    The result's ``emitted`` maps processor -> topic -> data; ``dead_letters`` lists the
    records that failed for good; ``ok`` is true when every record was processed, and
    ``assert_ok()`` fails with what went wrong otherwise.

    Each invocation runs under its processor's ``timeout``, as in Lambda: one that runs
    past it fails with "Task timed out after N.NN seconds" and is retried, then
    dead-lettered. Timeouts are enforced with SIGALRM, so only when the run is in the main
    thread on POSIX: in another thread, or on Windows, handlers run untimed. A SIGALRM
    timer of your own (pytest-timeout's) keeps working. An active debugger
    (``breakpoint()``) is never interrupted; ``timeouts=False`` turns timing off.

    Environment values the topology keeps in SSM or Secrets Manager (``{ssm: ...}``,
    ``{secret: ...}``) are never read from AWS: each comes from ``environment`` (a mapping
    of variable names to values), else the process environment, else ``env_file`` (a
    dotenv file; default: ``.env`` beside the topology, if there is one). One with no
    value raises ``ConfigurationError`` naming it, before anything runs.
    """
    model = _load(topology)
    if inputs is not None and input_file is not None:
        raise InputError("run_topology: give the events as inputs or as input_file, not both")
    if handlers:
        for name in handlers:
            _check_processor(model, name, "handlers")
    if inputs is None or isinstance(inputs, (str, Path)):
        file = inputs if inputs is not None else input_file
        path = _input_path(file, model) if file is not None else default_input(model.file)
        ticks_only = file is None and schedule_ticks and only_scheduled_entries(model)
        events = [] if ticks_only and not path.exists() else read_inputs(path, model.processors)
    else:
        pairs = inputs.items() if isinstance(inputs, Mapping) else inputs
        events = [_input_event(pair) for pair in pairs]
        check_processors(events, model.processors)
    environments = _environments(model, env_file, environment)
    events += scheduled_events(model, schedule_ticks, schedule_start)
    return simulate(
        model,
        events,
        max_hops=max_hops,
        seed=seed,
        timeouts=timeouts,
        handlers=handlers,
        environments=environments,
    )


def invoke(
    topology: str | Path | Topology,
    processor: str,
    event: Any,
    *,
    context: LambdaContext | None = None,
    handler: Handler | None = None,
    env_file: str | Path | None = None,
    environment: Mapping[str, str] | None = None,
) -> dict[str, list[Any]]:
    """Call ``processor``'s handler once with ``event`` and return what it emitted, topic
    -> data in emit order; the handler's exception is raised as it is.

    The call goes through the runtime as a direct invocation does in Lambda: ``event``
    travels as JSON (a tuple arrives as a list), ``context.emit`` checks and routes each
    emit as in AWS (a sink topic too), and ``context`` is the processor's Lambda context
    (``lambda_context``) unless one is given. Nothing else runs: what it emitted goes
    nowhere, and the processor's timeout is not enforced (``run_topology`` enforces it).
    ``handler`` replaces the processor's own, to test one not yet in the topology file.
    Its environment is set as ``run_topology`` sets it (``environment``, ``env_file``),
    for this processor alone.
    """
    model = _load(topology)
    _check_processor(model, processor, "invoke")
    routes = graph.resolve(model).processors[processor].routes
    alone = replace(model, processors={processor: model.processors[processor]})
    variables = _environments(alone, env_file, environment)[processor]
    runner = Runner(
        handler=with_environment(
            handler or load_handler(model.processors[processor], variables), variables
        ),
        processor=processor,
        topology=model.name,
        routes=Routes.from_json(graph.routes_payload(routes)),
        transport=_Nowhere(),
        max_hops=model.max_hops,
    )
    trace = new_id()
    emitted: list[Emit] = []

    def observe(
        record: object,
        envelope: Envelope | None,
        emits: list[Emit],
        error: BaseException | None,
        seconds: float,
        attempt: int,
    ) -> None:
        emitted.extend(emits)

    if context is None:
        settings = model.processors[processor]
        context = lambda_context(processor, timeout=settings.timeout, memory=settings.memory)
    failed = runner.process([Record(trace, trace, encode_input(event, trace))], context, observe)
    if failed is not None:
        raise failed[1]
    table: dict[str, list[Any]] = {}
    for emit in emitted:
        table.setdefault(emit.topic, []).append(emit.data)
    return table


def lambda_context(
    processor: str = "handler", *, timeout: int = 60, memory: int = 256, request_id: str = ""
) -> LambdaContext:
    """A fake of the context object Lambda hands a handler: ``function_name``,
    ``aws_request_id`` (a random UUID unless given), ``memory_limit_in_mb``,
    ``invoked_function_arn``, ``log_group_name`` and ``get_remaining_time_in_millis()``
    counting down from ``timeout`` seconds. Pass it to a handler you call yourself, or
    to ``invoke``."""
    return LambdaContext(processor, timeout, memory, LOCAL_REGION, request_id)


class _Nowhere:
    """The transport of a lone handler call: its emits are returned, not sent."""

    def put(self, stream: str, emits: object) -> None:
        pass


def _environments(
    model: Topology, env_file: str | Path | None, environment: Mapping[str, str] | None
) -> dict[str, dict[str, str]]:
    """Each processor's variables: ``environment`` first, then the process' and the file's."""
    given = Path(env_file) if env_file is not None else None
    return local_environments(model, given, {**os.environ, **(environment or {})})


def _load(topology: str | Path | Topology) -> Topology:
    return topology if isinstance(topology, Topology) else load_topology(topology)


def _check_processor(model: Topology, name: str, where: str) -> None:
    if name not in model.processors:
        raise InputError(
            f"{where}: unknown processor '{name}'"
            f"{did_you_mean(name, model.processors)} ({known(model.processors)})"
        )


def _input_path(file: str | Path, model: Topology) -> Path:
    """An input file's path: as given, or beside the topology when a relative path is
    not found from the current folder (a test names the file next to its topology)."""
    path = Path(file)
    if not path.is_absolute() and not path.exists():
        beside = model.file.parent / path
        if beside.exists():
            return beside
    return path


def _input_event(pair: tuple[str, Any] | InputEvent) -> InputEvent:
    if isinstance(pair, InputEvent):
        return pair
    try:
        processor, data = pair
    except (TypeError, ValueError):
        raise InputError(
            f"inputs: each event is a (processor, data) pair or an InputEvent (given {pair!r}); "
            "for an input file, pass its path as a str or Path"
        ) from None
    return InputEvent(str(processor), data, f"inputs[{processor!r}]")
