"""The manifest: how a deployed stack tells attak's live commands what it holds.

The CDK stack writes it as a ``CfnOutput`` (``OUTPUT_KEY``, described as ``DESCRIPTION``);
``attak trigger``, ``attak logs`` and the UI's Live tab read it back. Both sides use this
module, so the version, the output's key and the field names are written down once.

A whole topology's stack holds one manifest. A topology spread over several processor
stacks holds one part in each (``part`` N of ``parts``), naming only that stack's
processors and the streams they read or write.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .errors import AttakError

VERSION = 1
"""The manifest version written, and the only one read."""
OUTPUT_KEY = "Manifest"
"""The id of the manifest output in its stack."""
DESCRIPTION = "attak manifest"
"""How the manifest output's description starts: how a stack of the user's naming is found."""


class ManifestError(AttakError):
    """A manifest output that this attak cannot read."""


@dataclass(frozen=True)
class DeployedProcessor:
    """One processor as deployed: its Lambda function, log group, queue and streams."""

    name: str
    function: str
    log_group: str
    dead_letter_queue: str | None = None
    ingest_stream: str | None = None
    """Physical name of the stream outside input goes to (``input: stream``), else None."""
    inputs: tuple[str, ...] = ()
    """Local names of the topology streams mapped into it."""
    outputs: tuple[str, ...] = ()
    """Local names of the streams it writes."""
    url: str | None = None
    """Its function URL (``http:``), or None."""
    url_auth: str | None = None
    """The function URL's auth: ``iam`` (requests signed with SigV4) or ``none``."""


@dataclass(frozen=True)
class Manifest:
    """One manifest output: a whole topology's, or one numbered part of a split one."""

    topology: str
    processors: dict[str, DeployedProcessor]
    streams: dict[str, str] = field(default_factory=dict)
    """Local stream name (``a->b``, ``input->a``) -> physical Kinesis stream name."""
    part: int | None = None
    """This part's number (from 1) when the topology is split over processor stacks."""
    parts: int | None = None
    """How many parts the split topology's manifest has; None for a whole manifest."""


def document(manifest: Manifest) -> dict[str, object]:
    """The manifest as the JSON object the stack outputs (values may be CDK tokens)."""
    numbered = (
        {"part": manifest.part, "parts": manifest.parts} if manifest.parts is not None else {}
    )
    return {
        "version": VERSION,
        "topology": manifest.topology,
        **numbered,
        "processors": {
            name: {
                "function": p.function,
                "log_group": p.log_group,
                "dead_letter_queue": p.dead_letter_queue,
                "ingest_stream": p.ingest_stream,
                "inputs": list(p.inputs),
                "outputs": list(p.outputs),
                # Only for an http: entry, so every other processor's entry reads as before.
                **({"url": p.url, "url_auth": p.url_auth} if p.url is not None else {}),
            }
            for name, p in manifest.processors.items()
        },
        "streams": dict(manifest.streams),
    }


def parse(text: str, stack: str) -> Manifest:
    """Read the manifest output ``text`` of ``stack``; a ``ManifestError`` says what to do
    when it is not one this attak can read."""
    try:
        found = json.loads(text)
    except ValueError:
        raise ManifestError(f"stack {stack}: its attak manifest output is not JSON") from None
    if not isinstance(found, dict):
        raise ManifestError(f"stack {stack}: its attak manifest output is not a JSON object")
    version = found.get("version")
    if version != VERSION:
        raise ManifestError(
            f"stack {stack} was deployed by another attak version (manifest version "
            f"{version!r}; this attak reads version {VERSION}): deploy it again with "
            "this attak (`attak deploy`)"
        )
    part, parts = found.get("part"), found.get("parts")
    if (part, parts) != (None, None) and not (
        isinstance(part, int) and isinstance(parts, int) and 1 <= part <= parts
    ):
        raise ManifestError(
            f"stack {stack}: its attak manifest is part {part!r} of {parts!r}, which is not a "
            "part of a whole: deploy it again with `attak deploy`"
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
                url=entry.get("url"),
                url_auth=entry.get("url_auth"),
            )
            for name, entry in found["processors"].items()
        }
        streams = {str(k): str(v) for k, v in found.get("streams", {}).items()}
        return Manifest(str(found["topology"]), processors, streams, part, parts)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ManifestError(f"stack {stack}: its attak manifest lacks {exc}") from None
