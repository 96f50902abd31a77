"""Finds a deployed topology: its CloudFormation stack(s) and the manifest output in them.

attak's stack is named after the topology; a large topology is spread over
``<name>-streams-N`` and ``<name>-N`` stacks, each processor stack holding the manifest
part (``part`` N of ``parts``) of its own processors, and the parts are joined here.
A topology built into your own CDK app lives in a stack of your naming: ``stack_name``
points there. The manifest (a ``CfnOutput`` described as "attak manifest") names every
processor's function, log group and ingest stream, so nothing is guessed from names.

A stack that is missing, still being created, failed, or holds another topology or a
manifest version this attak cannot read, and a split topology whose manifest parts are
not all there or disagree, is a ``LiveError`` that says what to do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .. import graph
from ..errors import did_you_mean, known
from ..manifest import (
    DESCRIPTION,
    OUTPUT_KEY,
    DeployedProcessor,
    Manifest,
    ManifestError,
    parse,
)
from ..model import Topology
from .connection import Connection, LiveError, error_code

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


def parse_manifest(text: str, stack: str) -> Manifest:
    """The topology, processors, streams (and part number, if any) of a manifest output."""
    try:
        return parse(text, stack)
    except ManifestError as exc:
        raise LiveError(str(exc)) from None


def manifests(stack: dict[str, Any]) -> list[str]:
    """The attak manifest outputs of a described stack (a CDK app may hold several)."""
    return [
        str(output["OutputValue"])
        for output in stack.get("Outputs", ())
        if output.get("OutputKey") == OUTPUT_KEY
        or str(output.get("Description", "")).startswith(DESCRIPTION)
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
        stack = _describe(cloudformation, stack_name or topology)
        streams: list[str] = []
        processors: list[str] = []
        if stack is None and stack_name is None:
            streams, processors = _split_stacks(cloudformation, topology)
        described = [_describe(cloudformation, name) for name in streams + processors]
        if stack is None and not processors:
            named = f"stack '{stack_name}'" if stack_name else f"stack '{topology}'"
            raise LiveError(
                f"topology '{topology}' is not deployed: no CloudFormation {named} in "
                f"{connection.where()}; deploy it with `attak deploy`, or pass --stack-name "
                "if it was deployed in a stack of another name"
            )
        if stack is not None and stack_name is None:
            _refuse_two_layouts(cloudformation, stack, topology)
    for found in [stack, *described]:
        if found is not None:
            check_ready(found)
    if stack is not None:
        return _from_stack(stack, topology)
    # A stack listed a moment ago may be gone by now: its part is then missing.
    parts = [found for found in described[len(streams) :] if found is not None]
    return _from_parts(parts, topology, tuple(streams + processors))


def leftover_layout(connection: Connection, topology: str) -> str | None:
    """Why a deploy left the topology in two layouts (one stack, and split), with the
    commands that delete the older; ``None`` when it is in one layout (or not readable)."""
    try:
        find_deployment(connection, topology)
    except TwoLayoutsError as exc:
        return f"{exc.situation}; {exc.advice}"
    except LiveError:
        return None  # half deployed, or not at all: the cdk CLI has said what happened
    return None


def stack_exists(connection: Connection, name: str) -> bool:
    """Whether a stack ``name`` exists (in any state but deleted)."""
    with connection.errors(f"looking for stack {name}"):
        stack = _describe(connection.client("cloudformation"), name)
    return stack is not None and stack["StackStatus"] != "DELETE_COMPLETE"


def _from_stack(stack: dict[str, Any], topology: str) -> Deployment:
    name = stack["StackName"]
    manifest, held = _manifest_of(stack, topology)
    if held and manifest is None:
        raise LiveError(
            f"stack {name} holds topology {', '.join(repr(h) for h in held)}, not "
            f"'{topology}': pass the --stack-name of '{topology}', or the topology that stack "
            "holds"
        )
    if manifest is None:
        raise LiveError(
            f"stack {name} has no attak manifest output: it was not deployed "
            "from an attak topology, or by an attak too old to trigger; deploy it again with "
            "`attak deploy`"
        )
    if manifest.parts is not None:
        raise LiveError(
            f"stack {name} holds only part {manifest.part} of {manifest.parts} of topology "
            f"'{topology}' (a topology spread over several stacks): leave out --stack-name, "
            "and attak reads every part from the topology's numbered stacks"
        )
    return Deployment(topology, (name,), manifest.processors, manifest.streams)


def _manifest_of(stack: dict[str, Any], topology: str) -> tuple[Manifest | None, list[str]]:
    """The stack's manifest of ``topology`` (None if it has none), and the names of the
    other topologies its manifests describe."""
    held: list[str] = []
    for text in manifests(stack):
        manifest = parse_manifest(text, stack["StackName"])
        if manifest.topology == topology:
            return manifest, held
        held.append(manifest.topology)
    return None, held


def _from_parts(stacks: list[dict[str, Any]], topology: str, names: tuple[str, ...]) -> Deployment:
    """The deployment a split topology's processor stacks describe, their parts joined.

    Every part must be there and agree on how many there are: a deployment known only in
    part would make ``trigger`` and ``logs`` miss processors without saying so.
    """
    again = "deploy the topology again with `attak deploy`"
    found: dict[str, Manifest] = {}
    bare: list[str] = []
    for stack in stacks:
        manifest, held = _manifest_of(stack, topology)
        if held and manifest is None:
            raise LiveError(
                f"the stacks of topology '{topology}' disagree on the topology: stack "
                f"{stack['StackName']} holds {', '.join(repr(h) for h in held)}; remove the "
                f"stacks that are not part of '{topology}', or {again}"
            )
        if manifest is None:
            bare.append(stack["StackName"])
        else:
            found[stack["StackName"]] = manifest
    whole = [name for name, manifest in found.items() if manifest.parts is None]
    if whole and len(found) == 1:
        # The processors fit one stack, or an earlier attak kept the whole manifest in the
        # last one: either way it names everything.
        manifest = found[whole[0]]
        return Deployment(topology, names, manifest.processors, manifest.streams)
    if not found:
        raise LiveError(
            f"stacks {', '.join(bare) or 'of the processors'} of topology '{topology}' have no "
            "attak manifest output: they were not deployed from an attak topology, or by an "
            f"attak too old to trigger; {again}"
        )
    if whole:
        raise LiveError(
            f"the stacks of topology '{topology}' disagree: whole manifest in "
            f"{', '.join(whole)}, manifest parts in "
            f"{', '.join(n for n in found if n not in whole)}, as when a deployment stopped "
            f"half-way; {again}"
        )
    totals = {name: manifest.parts for name, manifest in found.items()}
    if len(set(totals.values())) > 1:
        said = ", ".join(f"{name} says {total}" for name, total in totals.items())
        raise LiveError(
            f"the manifest parts of topology '{topology}' disagree on how many parts there "
            f"are ({said}), as when a deployment stopped half-way or left an old stack "
            f"behind; {again}"
        )
    total = next(iter(totals.values())) or 0
    by_part: dict[int, str] = {}
    for name, manifest in found.items():
        assert manifest.part is not None  # parse_manifest reads part and parts together
        if manifest.part in by_part:
            raise LiveError(
                f"stacks {by_part[manifest.part]} and {name} both hold part {manifest.part} "
                f"of {total} of the manifest of topology '{topology}'; {again}"
            )
        by_part[manifest.part] = name
    missing = sorted(set(range(1, total + 1)) - set(by_part))
    if missing:
        present = ", ".join(f"part {part} in {name}" for part, name in sorted(by_part.items()))
        without = f"; without a manifest: {', '.join(bare)}" if bare else ""
        raise LiveError(
            f"topology '{topology}' is deployed only in part: manifest part(s) "
            f"{', '.join(map(str, missing))} of {total} are missing ({present}{without}); if a "
            f"deployment is running, wait for it to finish, else {again}"
        )
    processors: dict[str, DeployedProcessor] = {}
    streams: dict[str, str] = {}
    owners: dict[str, str] = {}
    for part in range(1, total + 1):
        manifest = found[by_part[part]]
        for local, physical in manifest.streams.items():
            if streams.setdefault(local, physical) != physical:
                raise LiveError(
                    f"the manifest parts of topology '{topology}' name two Kinesis streams "
                    f"for {local} ({streams[local]} and {physical}); {again}"
                )
        for name, processor in manifest.processors.items():
            if name in processors:
                raise LiveError(
                    f"processor '{name}' is in two manifest parts of topology '{topology}' "
                    f"(stacks {owners[name]} and {by_part[part]}); {again}"
                )
            processors[name], owners[name] = processor, by_part[part]
    return Deployment(topology, names, processors, streams)


class TwoLayoutsError(LiveError):
    """The topology is deployed both in one stack and spread over several."""

    def __init__(self, message: str, advice: str) -> None:
        super().__init__(f"{message}; {advice}; then try again")
        self.situation = message
        self.advice = advice
        """Which stacks to delete, as commands in order when known."""


def _refuse_two_layouts(cloudformation: Any, whole: dict[str, Any], topology: str) -> None:
    """Refuse a topology deployed both in its own stack and spread over numbered stacks.

    `cdk deploy` never removes a stack the app no longer has, so a topology that grew past
    one stack (or shrank back into one) leaves the old layout's stacks behind, and reading
    the stack named after the topology would trigger the old deployment without a word.
    Every split layout has a processor stack 1: one look tells whether both are there.
    """
    first = _describe(cloudformation, f"{topology}-1")
    if first is None or not _describes(first, topology):
        return  # no split layout, or a stack of another topology named like one
    streams, processors = _split_stacks(cloudformation, topology)
    split = [*processors, *streams]  # processor stacks first: they import from stream stacks

    def deployed(stack: dict[str, Any]) -> Any:
        return stack.get("LastUpdatedTime") or stack.get("CreationTime")

    times = deployed(whole), deployed(first)
    delete = "delete the deployment you no longer use in CloudFormation"
    if times[0] and times[1]:
        older = [whole["StackName"]] if times[0] < times[1] else split
        commands = "; ".join(f"aws cloudformation delete-stack --stack-name {n}" for n in older)
        delete = f"delete the older deployment, in this order: {commands}"
    raise TwoLayoutsError(
        f"topology '{topology}' is deployed twice: in stack {whole['StackName']}, and spread "
        f"over stacks {', '.join(split)} (`attak deploy` leaves the old stacks behind when a "
        "topology grows past one stack or shrinks back into one)",
        delete,
    )


def _describes(stack: dict[str, Any], topology: str) -> bool:
    """Whether one of the stack's attak manifests, whole or part, is of ``topology``."""
    for text in manifests(stack):
        try:
            document = json.loads(text)
        except ValueError:
            continue
        if isinstance(document, dict) and document.get("topology") == topology:
            return True
    return False


def _describe(cloudformation: Any, name: str) -> dict[str, Any] | None:
    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except Exception as exc:
        # CloudFormation answers a missing stack with a ValidationError "does not exist".
        if error_code(exc) == "ValidationError" and "does not exist" in str(exc):
            return None
        raise
    return dict(stacks[0]) if stacks else None


def _split_stacks(cloudformation: Any, topology: str) -> tuple[list[str], list[str]]:
    """The stream stacks and the processor stacks a large topology was spread over, each
    in number order."""
    pattern = re.compile(rf"{re.escape(topology)}-(streams-)?(\d+)")
    found: dict[bool, set[tuple[int, str]]] = {True: set(), False: set()}
    for page in cloudformation.get_paginator("list_stacks").paginate():
        for summary in page["StackSummaries"]:
            match = pattern.fullmatch(summary["StackName"])
            if match and summary["StackStatus"] != "DELETE_COMPLETE":
                found[match.group(1) is not None].add((int(match.group(2)), match.group(0)))
    streams, processors = ([name for _, name in sorted(found[kind])] for kind in (True, False))
    return streams, processors


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
    resolved = graph.resolve(topology)
    local_streams = {name for name, stream in resolved.streams.items() if not stream.ingest}
    deployed_streams = {
        name for name in deployment.streams if name not in _ingest_names(deployment)
    }
    if local_streams != deployed_streams:
        changed = listed(local_streams ^ deployed_streams)
        found.append(f"streams differ from the deployed ones: {changed}")
    for name in sorted(local & deployed):
        wants_stream = resolved.processors[name].ingest is not None
        if wants_stream != (deployment.processors[name].ingest_stream is not None):
            found.append(f"processor '{name}': its input (stream or direct) changed")
        http = topology.processors[name].http
        deployed_auth = deployment.processors[name].url_auth
        if (http.auth if http is not None else None) != deployed_auth:
            found.append(f"processor '{name}': its HTTPS endpoint (http:) changed")
    return found


def _ingest_names(deployment: Deployment) -> set[str]:
    return {graph.ingest_stream_name(name) for name in deployment.processors}
