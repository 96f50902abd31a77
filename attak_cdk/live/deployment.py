"""Finds a deployed topology: its CloudFormation stack(s) and the manifest output in them.

attak's stack is named after the topology; a large topology is spread over
``<name>-streams-N`` and ``<name>-N`` stacks with the manifest in the last processor stack.
A topology built into your own CDK app lives in a stack of your naming: ``stack_name``
points there. The manifest (a ``CfnOutput`` described as "attak manifest") names every
processor's function, log group and ingest stream, so nothing is guessed from names.

A stack that is missing, still being created, failed, or holds another topology or a
manifest version this attak cannot read is a ``LiveError`` that says what to do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .. import graph
from ..errors import did_you_mean, known
from ..model import Topology
from .connection import Connection, LiveError, error_code

MANIFEST_VERSION = 1
"""The manifest version this attak reads (kept equal to the one ``attak_cdk.cdk`` writes)."""
MANIFEST_KEY = "Manifest"
MANIFEST_DESCRIPTION = "attak manifest"

READY = frozenset(
    {
        "CREATE_COMPLETE",
        "UPDATE_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE",
        "IMPORT_COMPLETE",
        "IMPORT_ROLLBACK_COMPLETE",
    }
)
"""Stack states whose outputs describe resources that exist."""


@dataclass(frozen=True)
class DeployedProcessor:
    """One processor as deployed: its Lambda function, log group and ingest stream."""

    name: str
    function: str
    log_group: str
    dead_letter_queue: str | None = None
    ingest_stream: str | None = None
    """Physical name of the stream outside input goes to (``input: stream``), else None."""
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Deployment:
    """A topology as it is deployed: what ``trigger`` and ``logs`` talk to."""

    topology: str
    stacks: tuple[str, ...]
    processors: dict[str, DeployedProcessor]
    streams: dict[str, str] = field(default_factory=dict)
    """Local stream name (``a->b``, ``input->a``) -> physical Kinesis stream name."""

    def processor(self, name: str) -> DeployedProcessor:
        """The deployed processor ``name``, or a ``LiveError`` with a did-you-mean."""
        found = self.processors.get(name)
        if found is None:
            raise LiveError(
                f"processor '{name}' is not in the deployed topology '{self.topology}' "
                f"(stack {', '.join(self.stacks)}){did_you_mean(name, self.processors)} "
                f"({known(self.processors)}); if it is new, deploy first with `attak deploy`"
            )
        return found


def parse_manifest(
    text: str, stack: str
) -> tuple[str, dict[str, DeployedProcessor], dict[str, str]]:
    """Topology name, processors and streams of a manifest output's value."""
    try:
        document = json.loads(text)
    except ValueError:
        raise LiveError(f"stack {stack}: its attak manifest output is not JSON") from None
    if not isinstance(document, dict):
        raise LiveError(f"stack {stack}: its attak manifest output is not a JSON object")
    version = document.get("version")
    if version != MANIFEST_VERSION:
        raise LiveError(
            f"stack {stack} was deployed by another attak version (manifest version "
            f"{version!r}; this attak reads version {MANIFEST_VERSION}): deploy it again with "
            "this attak (`attak deploy`)"
        )
    try:
        processors = {
            str(name): DeployedProcessor(
                name=str(name),
                function=str(entry["function"]),
                log_group=str(entry["log_group"]),
                dead_letter_queue=entry.get("dead_letter_queue"),
                ingest_stream=entry.get("ingest_stream"),
                inputs=tuple(entry.get("inputs", ())),
                outputs=tuple(entry.get("outputs", ())),
            )
            for name, entry in document["processors"].items()
        }
        streams = {str(k): str(v) for k, v in document.get("streams", {}).items()}
        return str(document["topology"]), processors, streams
    except (KeyError, TypeError, AttributeError) as exc:
        raise LiveError(f"stack {stack}: its attak manifest lacks {exc}") from None


def manifests(stack: dict[str, Any]) -> list[str]:
    """The attak manifest outputs of a described stack (a CDK app may hold several)."""
    return [
        str(output["OutputValue"])
        for output in stack.get("Outputs", ())
        if output.get("OutputKey") == MANIFEST_KEY
        or str(output.get("Description", "")).startswith(MANIFEST_DESCRIPTION)
    ]


def check_ready(stack: dict[str, Any]) -> None:
    """Refuse a stack whose resources are not all there (being made, failed, deleted)."""
    name, status = stack["StackName"], stack["StackStatus"]
    if status in READY:
        return
    if status in ("CREATE_IN_PROGRESS", "REVIEW_IN_PROGRESS"):
        hint = "it is still being created: wait for `attak deploy` to finish"
    elif status.startswith("DELETE"):
        hint = "it is being deleted: deploy it again once it is gone"
    elif status in (
        "CREATE_FAILED",
        "ROLLBACK_IN_PROGRESS",
        "ROLLBACK_COMPLETE",
        "ROLLBACK_FAILED",
    ):
        hint = (
            "it is half-created (its creation failed and was rolled back): read the stack's "
            "events in CloudFormation, remove it with `attak destroy`, then `attak deploy` again"
        )
    elif status.endswith("_IN_PROGRESS"):
        hint = "it is being updated: wait for the deployment to finish"
    else:
        hint = "an update failed to roll back: repair it in CloudFormation, then deploy again"
    raise LiveError(f"stack {name} is {status}: {hint}")


def find_deployment(
    connection: Connection,
    topology: str,
    stack_name: str | None = None,
    *,
    cloudformation: Any = None,
) -> Deployment:
    """The deployment of ``topology`` (by its stack name, or ``stack_name``).

    ``cloudformation``: a client to use instead of the connection's (tests pass a fake).
    """
    cloudformation = cloudformation or connection.client("cloudformation")
    with connection.errors(f"reading the deployment of topology '{topology}'"):
        names = [stack_name] if stack_name else [topology]
        stack = _describe(cloudformation, names[0])
        if stack is None and stack_name is None:
            parts = _split_stacks(cloudformation, topology)
            if parts:
                names = parts
                stack = _describe(cloudformation, parts[-1])
        if stack is None:
            named = f"stack '{stack_name}'" if stack_name else f"stack '{topology}'"
            raise LiveError(
                f"topology '{topology}' is not deployed: no CloudFormation {named} in "
                f"{connection.where()}; deploy it with `attak deploy`, or pass --stack-name "
                "if it was deployed in a stack of another name"
            )
        others = [_describe(cloudformation, name) for name in names[:-1]]
    for described in [*others, stack]:
        if described is not None:
            check_ready(described)
    return _from_stack(stack, topology, tuple(names))


def stack_exists(connection: Connection, name: str) -> bool:
    """Whether a stack ``name`` exists (in any state but deleted)."""
    with connection.errors(f"looking for stack {name}"):
        stack = _describe(connection.client("cloudformation"), name)
    return stack is not None and stack["StackStatus"] != "DELETE_COMPLETE"


def _from_stack(stack: dict[str, Any], topology: str, names: tuple[str, ...]) -> Deployment:
    found = manifests(stack)
    if not found:
        raise LiveError(
            f"stack {stack['StackName']} has no attak manifest output: it was not deployed "
            "from an attak topology, or by an attak too old to trigger; deploy it again with "
            "`attak deploy`"
        )
    held = []
    for text in found:
        name, processors, streams = parse_manifest(text, stack["StackName"])
        if name == topology:
            return Deployment(name, names, processors, streams)
        held.append(name)
    raise LiveError(
        f"stack {stack['StackName']} holds topology {', '.join(repr(h) for h in held)}, not "
        f"'{topology}': pass the --stack-name of '{topology}', or the topology that stack holds"
    )


def _describe(cloudformation: Any, name: str) -> dict[str, Any] | None:
    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except Exception as exc:
        # CloudFormation answers a missing stack with a ValidationError "does not exist".
        if error_code(exc) == "ValidationError" and "does not exist" in str(exc):
            return None
        raise
    return dict(stacks[0]) if stacks else None


def _split_stacks(cloudformation: Any, topology: str) -> list[str]:
    """The stacks a large topology was spread over, streams first, the manifest's last."""
    pattern = re.compile(rf"{re.escape(topology)}-(streams-)?(\d+)")
    found: list[tuple[bool, int, str]] = []
    for page in cloudformation.get_paginator("list_stacks").paginate():
        for summary in page["StackSummaries"]:
            match = pattern.fullmatch(summary["StackName"])
            if match and summary["StackStatus"] != "DELETE_COMPLETE":
                found.append((match.group(1) is None, int(match.group(2)), match.group(0)))
    return [name for _, _, name in sorted(set(found))]


def differences(topology: Topology, deployment: Deployment) -> list[str]:
    """How the local topology differs from the deployed one, one sentence each."""
    found = []

    def listed(names: Iterable[str]) -> str:
        return ", ".join(sorted(names))

    local, deployed = set(topology.processors), set(deployment.processors)
    if local - deployed:
        found.append(f"processors not deployed yet: {listed(local - deployed)}")
    if deployed - local:
        found.append(f"deployed processors no longer in the topology: {listed(deployed - local)}")
    local_streams = {graph.stream_name(s) for s in topology.streams}
    deployed_streams = {
        name for name in deployment.streams if name not in _ingest_names(deployment)
    }
    if local_streams != deployed_streams:
        changed = listed(local_streams ^ deployed_streams)
        found.append(f"streams differ from the deployed ones: {changed}")
    for name in sorted(local & deployed):
        wants_stream = topology.processors[name].input == "stream"
        if wants_stream != (deployment.processors[name].ingest_stream is not None):
            found.append(f"processor '{name}': its input (stream or direct) changed")
    return found


def _ingest_names(deployment: Deployment) -> set[str]:
    return {graph.ingest_stream_name(name) for name in deployment.processors}
