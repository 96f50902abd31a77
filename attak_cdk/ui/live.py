"""The page's live view: the deployed topology, its CloudWatch metrics and its logs, and
the editor's input sent to it.

Everything is read through ``attak_cdk.live``, the code behind ``attak trigger`` and
``attak logs``, with the connection ``attak ui`` was started with (``--region``,
``--profile``, ``--endpoint-url``, ``--stack-name``). Nothing is looked up until the page
asks: a user who only simulates never waits on AWS. Why there is no live view (not
deployed, no credentials, nothing answering at the endpoint) is an answer, not a failure.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import AttakError, UsageError
from ..live.alarms import read_alarms
from ..live.connection import Connection
from ..live.deployment import Deployment, differences, find_deployment
from ..live.logs import LATE_MS, LogReader, TraceFilter, shown
from ..live.metrics import read_metrics
from ..loader import read_topology
from ..model import Topology

MAX_WINDOW_MINUTES = 24 * 60
"""The longest metrics window the page offers: a day, at five-minute points."""
MAX_LOG_LINES = 2_000
"""Log lines sent per request: the newest, when more were written since ``after``."""
DEPLOYMENT_TTL = 30.0
"""Seconds a found deployment is reused by the metrics and logs requests polling it;
the status request always looks again (the page asks it on opening and on Refresh)."""


class LiveView:
    """Answers the page's live requests for the topology in ``file``."""

    def __init__(
        self,
        file: Path,
        connection: Connection,
        stack_name: str | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.file = file
        self.connection = connection
        self.stack_name = stack_name
        self.clock = clock
        self._found: tuple[float, Deployment] | None = None
        self._lock = threading.Lock()  # requests arrive on worker threads

    def status(self) -> dict[str, Any]:
        """Where the deployment is and how it differs from the file, or why there is none."""
        try:
            topology = read_topology(self.file)
            deployment = self.deployment(topology)
        except AttakError as exc:
            return {"deployed": False, "message": exc.message, "where": self._where()}
        return {
            "deployed": True,
            "topology": deployment.topology,
            "stacks": list(deployment.stacks),
            "where": self._where(),
            "processors": {
                name: {
                    "function": p.function,
                    "log_group": p.log_group,
                    "dead_letter_queue": p.dead_letter_queue,
                    "ingest_stream": p.ingest_stream,
                }
                for name, p in deployment.processors.items()
            },
            "differences": differences(topology, deployment),
        }

    def metrics(self, minutes: int) -> dict[str, Any]:
        """Per-processor invocations, errors, iterator age and dead letters over the last
        ``minutes``, and its alarms as they are now."""
        if not 1 <= minutes <= MAX_WINDOW_MINUTES:
            raise UsageError(
                f"minutes must be from 1 to {MAX_WINDOW_MINUTES} (given {minutes}): the "
                "metrics window, counted back from now"
            )
        deployment = self.deployment()
        end = int(self.clock() * 1000)
        # One-minute points for a few hours; five-minute ones beyond keep a day's chart
        # (and the GetMetricData request) small.
        period = 60 if minutes <= 180 else 300
        cloudwatch = self.connection.client("cloudwatch")
        with self.connection.errors("reading the topology's metrics and alarms"):
            read = read_metrics(
                cloudwatch,
                self.connection.client("sqs"),
                deployment,
                start=end - minutes * 60_000,
                end=end,
                period=period,
            )
            alarms = read_alarms(cloudwatch, deployment)
        document = read.as_dict()
        for name, row in document["processors"].items():
            row["alarms"] = [alarm.as_dict() for alarm in alarms.get(name, [])]
        return document

    def logs(self, after: int | None, trace: str | None, processors: list[str]) -> dict[str, Any]:
        """Log lines of all (or some) processors written since ``after`` (epoch ms).

        ``trace`` keeps one input's lines: its record lines, what its handler printed and
        its errors. Each invocation's summary line comes as ``summary``, a record line as
        ``record``; the runtime's start lines are left out. The page asks again from just
        before the newest line it has (lines can arrive late) and drops the ones it already
        shows, by ``id``.
        """
        deployment = self.deployment()
        now = int(self.clock() * 1000)
        start = after if after is not None else now - 10 * 60_000
        reader = LogReader(self.connection.client("logs"), deployment, processors)
        with self.connection.errors("reading the processors' logs"):
            lines = reader.read(start)
        lines = TraceFilter(trace).feed(lines) if trace else shown(lines)
        newest = max((line.timestamp for line in lines), default=start)
        return {
            "lines": [{**line.as_dict(), "id": line.event_id} for line in lines[-MAX_LOG_LINES:]],
            "cut": max(0, len(lines) - MAX_LOG_LINES),
            "next": max(start, newest - LATE_MS),
            "processors": reader.processors,
        }

    def trigger(self, text: str) -> dict[str, Any]:
        """Send the editor's events to the deployment, as ``attak trigger`` does: into a
        processor's ingest stream, else by an asynchronous invoke; each with its trace id."""
        from ..live import trigger
        from .run import read_editor_input

        topology = read_topology(self.file)
        events = read_editor_input(text, topology)
        deployment = self.deployment()
        deliveries = trigger.plan(deployment, events)  # unknown processors fail before a send
        with self.connection.errors("sending the input to the deployed topology"):
            trigger.send(
                deliveries,
                # One attempt: the runtime's emitter retries PutRecords itself.
                self.connection.client("kinesis", attempts=1),
                # One attempt: a retried invoke could run the handler twice; attak retries
                # throttling itself, knowing the call did not run.
                self.connection.client("lambda", attempts=1),
            )
        return {
            "stacks": list(deployment.stacks),
            "ok": not any(d.failed for d in deliveries),
            "events": [d.as_dict() for d in deliveries],
        }

    def deployment(self, topology: Topology | None = None) -> Deployment:
        """The deployment of the topology in the file, looked up again when stale, or
        always when the caller read the ``topology`` afresh already."""
        with self._lock:
            fresh = topology is not None
            if not fresh and self._found and self.clock() - self._found[0] < DEPLOYMENT_TTL:
                return self._found[1]
            # The name is all it needs: the file's shape, not its handlers, is read.
            name = (topology or read_topology(self.file)).name
            found = find_deployment(self.connection, name, self.stack_name)
            self._found = (self.clock(), found)
            return found

    def _where(self) -> str:
        try:
            return self.connection.where()
        except AttakError:  # no region or credentials: the message says so already
            return self.connection.endpoint_url or "AWS"
