"""The web app behind ``attak ui``: the page, its assets, and a small JSON + event-stream API.

``GET /``               the page (``static/index.html``; it loads only ``/static/`` files,
                        so it works with no network)
``GET /api/topology``   the topology view: placed nodes and edges with their issues, and
                        the input editor's starting text (see ``view.topology_view``)
``POST /api/run``       body ``{"input": "<input.json text>", "max_hops"?, "seed"?}``: runs
                        the simulation and answers with its server-sent events (see
                        ``run``); a bad input or a topology with errors is a 400 with
                        ``{"error": message}`` (and ``"topology_errors": true`` when the
                        file on disk is what is wrong: the page reads it again to show
                        where); the page cancels a run by closing it
``POST /api/schedule``  body ``{"processor": name, "ticks"?: 1}``: fires that processor's
                        schedule as ``attak simulate --schedule-ticks`` does (its next
                        firings, with its constant event or the scheduled time) and
                        answers as ``/api/run``; a processor without a schedule is a 400
``GET /api/live``       the deployed topology (stacks, functions, how it differs from the
                        file) or why none was found: ``{"deployed": false, "message"}``
``GET /api/live/metrics?minutes=15``
                        per-processor CloudWatch metrics and dead-letter counts
``GET /api/live/logs?after=MS&trace=ID&processor=NAME...``
                        the processors' log lines since ``after``, or one trace's
``POST /api/live/trigger``
                        body ``{"input": "<input.json text>"}``: sends the events to the
                        deployment as ``attak trigger`` does; answers each one's trace id,
                        how it went (``stream`` or ``invoke``) and whether it was sent

A live request that AWS (or the emulator) fails is a 502 with ``{"error": message}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..errors import AttakError, InputError, TopologyError, UsageError
from ..inputs import InputEvent, scheduled_events
from ..live.connection import Connection
from ..loader import find_topology_file
from ..model import Topology
from ..project import inspect_topology
from ..simulate.configuration import local_environments
from ..simulate.replay import letter_events
from .run import read_editor_input, run_events
from .view import topology_view

if TYPE_CHECKING:
    from .live import LiveView

STATIC = Path(__file__).resolve().parent / "static"

MAX_TICKS = 100
"""Firings of one schedule a request may ask for."""

_NO_CACHE = {"Cache-Control": "no-store"}
"""The page and its data change whenever the topology does: always ask again."""


def create_app(
    path: str | Path,
    connection: Connection | None = None,
    stack_name: str | None = None,
    env_file: Path | None = None,
) -> Starlette:
    """The app for the topology at ``path``; a path with no topology raises ``TopologyError``
    now, while one whose topology has problems is served and shows them. ``env_file``
    gives the values the topology keeps in AWS to its runs (default: ``.env`` beside it).

    ``connection`` and ``stack_name`` say where to look for its deployment (default:
    boto3's own region and credentials, and the topology's name as the stack).
    """
    file = find_topology_file(path)
    live: list[LiveView] = []  # made on the first live request: simulating never asks AWS

    def live_view() -> LiveView:
        if not live:
            from .live import LiveView

            live.append(LiveView(file, connection or Connection(), stack_name))
        return live[0]

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers=_NO_CACHE)

    def topology(request: Request) -> Response:
        # A plain function: Starlette runs it in a worker thread, as it imports handlers.
        return JSONResponse(topology_view(file), headers=_NO_CACHE)

    async def run(request: Request) -> Response:
        body = await _editor_request(request)
        if body is None:
            return _bad_request(
                'the request body must be JSON: {"input": "<input.json text>"} or '
                '{"dead_letters": [a run\'s dead letters]} (optional: "max_hops", "seed")'
            )
        max_hops, seed = body.get("max_hops"), body.get("seed", 0)
        if max_hops is not None and not (isinstance(max_hops, int) and max_hops >= 1):
            return _bad_request(f"max_hops must be a whole number from 1 (given {max_hops!r})")
        if not isinstance(seed, int):
            return _bad_request(f"seed must be a whole number (given {seed!r})")
        try:
            model = await run_in_threadpool(_runnable, file)
            # A value kept in AWS with no local one: said now, before a worker starts.
            await run_in_threadpool(local_environments, model, env_file)
            if "dead_letters" in body:  # "Replay dead letters": the last run's, run again
                events = letter_events(body["dead_letters"], "replay", tuple(model.processors))
            else:
                events = read_editor_input(body["input"], model)
        except TopologyError as exc:  # edited since the page read it, say
            return _bad_request(exc.message, topology_errors=True)
        except AttakError as exc:
            return _bad_request(exc.message)
        return _streamed(model, events, env_file, max_hops=max_hops, seed=seed)

    async def schedule(request: Request) -> Response:
        body = await _json_body(request) or {}
        name, ticks = body.get("processor"), body.get("ticks", 1)
        if not isinstance(name, str):
            return _bad_request('the request body must be JSON: {"processor": name, "ticks"?: 1}')
        if isinstance(ticks, bool) or not (isinstance(ticks, int) and 1 <= ticks <= MAX_TICKS):
            return _bad_request(
                f"ticks must be a whole number from 1 to {MAX_TICKS} (given {ticks!r})"
            )
        try:
            model = await run_in_threadpool(_runnable, file)
            await run_in_threadpool(local_environments, model, env_file)
        except TopologyError as exc:
            return _bad_request(exc.message, topology_errors=True)
        except AttakError as exc:
            return _bad_request(exc.message)
        processor = model.processors.get(name)
        if processor is None or processor.schedule is None:
            return _bad_request(f"processor {name!r} has no schedule to fire")
        events = [e for e in scheduled_events(model, ticks) if e.processor == name]
        return _streamed(model, events, env_file)

    # Plain functions, run in worker threads: each waits on AWS.
    def live_status(request: Request) -> Response:
        return JSONResponse(live_view().status(), headers=_NO_CACHE)

    def live_metrics(request: Request) -> Response:
        return _live_answer(lambda: live_view().metrics(_number(request, "minutes", 15)))

    def live_logs(request: Request) -> Response:
        after = request.query_params.get("after")
        return _live_answer(
            lambda: live_view().logs(
                _number(request, "after", 0) if after else None,
                request.query_params.get("trace") or None,
                request.query_params.getlist("processor"),
            )
        )

    async def live_trigger(request: Request) -> Response:
        body = await _editor_request(request)
        if body is None or not isinstance(body.get("input"), str):
            return _bad_request('the request body must be JSON: {"input": "<input.json text>"}')
        return await run_in_threadpool(_live_answer, lambda: live_view().trigger(body["input"]))

    return Starlette(
        routes=[
            Route("/", page),
            Route("/api/topology", topology),
            Route("/api/run", run, methods=["POST"]),
            Route("/api/schedule", schedule, methods=["POST"]),
            Route("/api/live", live_status),
            Route("/api/live/metrics", live_metrics),
            Route("/api/live/logs", live_logs),
            Route("/api/live/trigger", live_trigger, methods=["POST"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ]
    )


def _streamed(
    model: Topology,
    events: list[InputEvent],
    env_file: Path | None,
    *,
    max_hops: int | None = None,
    seed: int = 0,
) -> Response:
    """A run of ``events``, as the server-sent events the page reads (see ``run``)."""
    return StreamingResponse(
        run_events(model, events, max_hops=max_hops, seed=seed, env_file=env_file),
        media_type="text/event-stream",
        headers={**_NO_CACHE, "X-Accel-Buffering": "no"},
    )


def _runnable(file: Path) -> Topology:
    """The topology as it is on disk now, if it has no errors (warnings do not stop a run)."""
    model, issues = inspect_topology(file)
    if model is None or any(i.severity == "error" for i in issues):
        raise TopologyError(issues)
    return model


async def _editor_request(request: Request) -> dict[str, Any] | None:
    """A JSON request body with the editor's ``input`` text, or None when it is not one."""
    try:
        body = json.loads(await request.body())
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("dead_letters"), list) and body["dead_letters"]:
        return body
    if not isinstance(body.get("input"), str):
        return None
    return body


async def _json_body(request: Request) -> dict[str, Any] | None:
    """A JSON object request body, or None when it is not one."""
    try:
        body = json.loads(await request.body())
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _number(request: Request, name: str, default: int) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"{name} must be a whole number (given {text!r})") from None


def _live_answer(read: Callable[[], dict[str, Any]]) -> Response:
    """``read``'s document; a bad parameter or input is a 400, a failure on AWS's side
    (or no deployment) a 502."""
    try:
        return JSONResponse(read(), headers=_NO_CACHE)
    except (UsageError, InputError) as exc:
        return _bad_request(exc.message)
    except AttakError as exc:
        return JSONResponse({"error": exc.message}, status_code=502, headers=_NO_CACHE)


def _bad_request(message: str, *, topology_errors: bool = False) -> Response:
    body: dict[str, Any] = {"error": message}
    if topology_errors:
        body["topology_errors"] = True
    return JSONResponse(body, status_code=400, headers=_NO_CACHE)
