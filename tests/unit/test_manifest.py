"""The manifest schema: what the stack writes is what the live commands read."""

from __future__ import annotations

import json

import pytest

from attak_cdk import manifest
from attak_cdk.manifest import DeployedProcessor, Manifest, ManifestError


def written(found: Manifest) -> str:
    return json.dumps(manifest.document(found))


WHOLE = Manifest(
    topology="shop",
    processors={
        "orders": DeployedProcessor(
            "orders",
            "shop-Orders",
            "/aws/lambda/shop-Orders",
            dead_letter_queue="https://sqs/orders-dlq",
            ingest_stream="shop-OrdersInput",
            outputs=("orders->audit",),
        ),
        "audit": DeployedProcessor("audit", "shop-Audit", "g", inputs=("orders->audit",)),
    },
    streams={"orders->audit": "shop-OrdersToAudit", "input->orders": "shop-OrdersInput"},
)


def test_a_whole_manifest_reads_back_as_written() -> None:
    assert manifest.parse(written(WHOLE), "shop") == WHOLE


def test_a_manifest_part_reads_back_with_its_number() -> None:
    part = Manifest("shop", dict(WHOLE.processors), dict(WHOLE.streams), part=2, parts=3)
    document = manifest.document(part)
    assert (document["part"], document["parts"]) == (2, 3)
    assert manifest.parse(json.dumps(document), "shop-2") == part


def test_a_whole_manifest_has_no_part_fields_and_keeps_its_field_order() -> None:
    document = manifest.document(WHOLE)
    assert list(document) == ["version", "topology", "processors", "streams"]
    assert document["version"] == manifest.VERSION
    assert list(document["processors"]["orders"]) == [  # type: ignore[index]
        "function",
        "log_group",
        "dead_letter_queue",
        "ingest_stream",
        "inputs",
        "outputs",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "stack s: its attak manifest output is not JSON"),
        ("[1]", "stack s: its attak manifest output is not a JSON object"),
        ('{"version": 2}', "manifest version 2; this attak reads version 1"),
        ('{"version": 1, "part": 3, "parts": 2}', "part 3 of 2, which is not a part"),
        ('{"version": 1, "topology": "t"}', "its attak manifest lacks 'processors'"),
    ],
)
def test_a_manifest_this_attak_cannot_read_says_why(text: str, message: str) -> None:
    with pytest.raises(ManifestError, match=message.replace("(", r"\(")):
        manifest.parse(text, "s")
