"""The state of a deployed topology's CloudWatch alarms, per processor.

Each processor's stack gives it three alarms (errors, iterator age, dead letters: see
``attak_cdk.cdk.processor``), named by CloudFormation after their stack. They are read
with DescribeAlarms by stack-name prefix, a few calls for the whole topology, and
matched to processors by what they watch: the function (``FunctionName``) or its
dead-letter queue (``QueueName``). Alarms of other stacks that share the prefix watch
other functions and are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from .connection import with_backoff
from .deployment import Deployment

FIRING = "ALARM"


@dataclass(frozen=True)
class AlarmState:
    """One alarm as CloudWatch holds it now."""

    name: str
    metric: str
    state: str
    """``OK``, ``ALARM`` or ``INSUFFICIENT_DATA``."""
    reason: str
    since: str | None
    """When it entered this state (ISO 8601), if CloudWatch says."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "metric": self.metric,
            "state": self.state,
            "reason": self.reason,
            "since": self.since,
        }


def read_alarms(cloudwatch: Any, deployment: Deployment) -> dict[str, list[AlarmState]]:
    """Processor -> its alarms, by name; every processor is listed, maybe with none."""
    functions = {p.function: name for name, p in deployment.processors.items()}
    queues = {
        p.dead_letter_queue.rstrip("/").rsplit("/", 1)[-1]: name
        for name, p in deployment.processors.items()
        if p.dead_letter_queue
    }
    found: dict[str, dict[str, AlarmState]] = {name: {} for name in deployment.processors}
    for prefix in _prefixes(deployment.stacks):
        request: dict[str, Any] = {"AlarmNamePrefix": prefix, "AlarmTypes": ["MetricAlarm"]}
        while True:
            page = with_backoff(partial(cloudwatch.describe_alarms, **request))
            for alarm in page.get("MetricAlarms", ()):
                watched = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", ())}
                processor = functions.get(watched.get("FunctionName", "")) or queues.get(
                    watched.get("QueueName", "")
                )
                if processor is not None:
                    found[processor][alarm["AlarmName"]] = _state(alarm)
            token = page.get("NextToken")
            if not token or token == request.get("NextToken"):
                break
            request["NextToken"] = token
    return {name: [alarms[key] for key in sorted(alarms)] for name, alarms in found.items()}


def _prefixes(stacks: tuple[str, ...]) -> list[str]:
    """The stack names no other of them begins: ``x`` covers ``x-1`` and ``x-streams-1``."""
    ordered = sorted(set(stacks))
    return [s for s in ordered if not any(s != o and s.startswith(o) for o in ordered)]


def _state(alarm: dict[str, Any]) -> AlarmState:
    since = alarm.get("StateUpdatedTimestamp")
    return AlarmState(
        name=str(alarm["AlarmName"]),
        metric=str(alarm.get("MetricName", "")),
        state=str(alarm.get("StateValue", "INSUFFICIENT_DATA")),
        reason=str(alarm.get("StateReason", "")),
        since=since.isoformat() if isinstance(since, datetime) else None,
    )
