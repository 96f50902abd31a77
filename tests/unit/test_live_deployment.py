"""Finding a deployment: stacks, their states, the manifest; the connection's defaults."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from attak_cdk.live.connection import LiveError, emulator_endpoint
from attak_cdk.manifest import VERSION as MANIFEST_VERSION
from tests.fake_cloudformation import (
    LOCAL,
    REVERSE,
    SPOUT,
    find,
    manifest,
    part,
    stack,
)


def test_the_stack_named_after_the_topology_is_read_through_its_manifest() -> None:
    deployment = find(stack("attak-example", value=manifest()))
    assert deployment.stacks == ("attak-example",)
    assert deployment.processors["reverse"].function == "F2"
    assert deployment.processors["reverse"].log_group == "G2"
    assert deployment.processors["hello_world_spout"].ingest_stream is None
    assert deployment.streams == {"hello_world_spout->reverse": "S1"}


def test_a_split_topology_with_one_whole_manifest_is_read_from_it() -> None:
    # An attak that kept the whole manifest in the last processor stack deployed these.
    deployment = find(
        stack("attak-example-streams-1"), stack("attak-example-1"),
        stack("attak-example-2", value=manifest()),
    )  # fmt: skip
    assert deployment.stacks == ("attak-example-streams-1", "attak-example-1", "attak-example-2")


def test_a_missing_manifest_part_is_refused_with_what_is_there() -> None:
    with pytest.raises(
        LiveError,
        match=r"topology 'attak-example' is deployed only in part: manifest part\(s\) 2 of 3 are missing \(part 1 in attak-example-1, part 3 in attak-example-3\)",
    ):
        find(
            stack("attak-example-1", value=part(1, 3, hello_world_spout=SPOUT)),
            stack("attak-example-3", value=part(3, 3, reverse=REVERSE)),
        )
    with pytest.raises(
        LiveError, match=r"part\(s\) 2 of 2 are missing .*without a manifest: attak-example-2\)"
    ):
        find(
            stack("attak-example-1", value=part(1, 2, hello_world_spout=SPOUT)),
            stack("attak-example-2"),
        )


def test_manifest_parts_that_disagree_are_refused() -> None:
    first = stack("attak-example-1", value=part(1, 2, hello_world_spout=SPOUT))
    with pytest.raises(
        LiveError,
        match="disagree on how many parts there are \\(attak-example-1 says 2, attak-example-2 says 3\\)",
    ):
        find(first, stack("attak-example-2", value=part(2, 3, reverse=REVERSE)))
    with pytest.raises(
        LiveError,
        match="the stacks of topology 'attak-example' disagree on the topology: stack attak-example-2 holds 'other'",
    ):
        find(first, stack("attak-example-2", value=part(2, 2, "other", reverse=REVERSE)))
    with pytest.raises(
        LiveError,
        match="stack attak-example-2 was deployed by another attak version \\(manifest version 2",
    ):
        find(first, stack("attak-example-2", value=part(2, 2, version=2, reverse=REVERSE)))
    with pytest.raises(
        LiveError,
        match="whole manifest in attak-example-2, manifest parts in attak-example-1",
    ):
        find(first, stack("attak-example-2", value=manifest()))
    with pytest.raises(
        LiveError, match="stacks attak-example-1 and attak-example-2 both hold part 1 of 2"
    ):
        find(first, stack("attak-example-2", value=part(1, 2, reverse=REVERSE)))
    with pytest.raises(LiveError, match="processor 'hello_world_spout' is in two manifest parts"):
        find(first, stack("attak-example-2", value=part(2, 2, hello_world_spout=SPOUT)))


def test_one_part_asked_for_by_stack_name_is_refused() -> None:
    with pytest.raises(
        LiveError,
        match=r"stack attak-example-2 holds only part 2 of 2 of topology 'attak-example' .*leave out --stack-name",
    ):
        find(
            stack("attak-example-2", value=part(2, 2, reverse=REVERSE)),
            stack_name="attak-example-2",
        )


def deployed_at(day: int, found: dict[str, Any]) -> dict[str, Any]:
    return {**found, "CreationTime": datetime(2024, 1, day, tzinfo=UTC)}


def test_a_topology_left_in_two_layouts_is_refused_naming_the_older() -> None:
    # `cdk deploy` keeps the stacks of the old layout when a topology grows past one stack
    # (or shrinks back into one): reading the stack named after it would reach the old one.
    split = [
        deployed_at(2, stack("attak-example-streams-1")),
        deployed_at(2, stack("attak-example-1", value=part(1, 2, hello_world_spout=SPOUT))),
        deployed_at(2, stack("attak-example-2", value=part(2, 2, reverse=REVERSE))),
    ]
    twice = (
        "topology 'attak-example' is deployed twice: in stack attak-example, and spread over "
        "stacks attak-example-1, attak-example-2, attak-example-streams-1"
    )
    with pytest.raises(LiveError, match=re.escape(twice)) as grown:
        find(deployed_at(1, stack("attak-example", value=manifest())), *split)
    assert str(grown.value).endswith(
        "delete the older deployment, in this order: "
        "aws cloudformation delete-stack --stack-name attak-example; then try again"
    )
    with pytest.raises(LiveError, match=re.escape(twice)) as shrunk:
        find(deployed_at(3, stack("attak-example", value=manifest())), *split)
    assert (
        "in this order: aws cloudformation delete-stack --stack-name attak-example-1; "
        "aws cloudformation delete-stack --stack-name attak-example-2; "
        "aws cloudformation delete-stack --stack-name attak-example-streams-1; then try again"
    ) in str(shrunk.value)
    with pytest.raises(
        LiveError, match="delete the deployment you no longer use in CloudFormation"
    ):
        find(stack("attak-example", value=manifest()), *split)  # no time to tell which is older
    # Asked for by name, the stack is read as it is.
    named = find(stack("attak-example", value=manifest()), *split, stack_name="attak-example")
    assert named.stacks == ("attak-example",)


def test_a_stack_of_another_topology_named_like_a_part_is_not_a_second_layout() -> None:
    deployment = find(
        stack("attak-example", value=manifest()),
        stack("attak-example-1", value=manifest("attak-example-1")),
    )
    assert deployment.stacks == ("attak-example",)


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("CREATE_IN_PROGRESS", "still being created"),
        ("ROLLBACK_COMPLETE", "half-created"),
        ("CREATE_FAILED", "half-created"),
        ("DELETE_IN_PROGRESS", "being deleted"),
        ("UPDATE_IN_PROGRESS", "being updated"),
        ("UPDATE_ROLLBACK_FAILED", "repair it in CloudFormation"),
    ],
)
def test_a_stack_not_ready_is_refused_with_its_state(status: str, words: str) -> None:
    with pytest.raises(LiveError, match=f"stack attak-example is {status}: .*{words}"):
        find(stack("attak-example", status, manifest()))


def test_a_stack_part_not_ready_is_refused_too() -> None:
    with pytest.raises(LiveError, match="stack attak-example-1 is ROLLBACK_COMPLETE"):
        find(
            stack("attak-example-1", "ROLLBACK_COMPLETE"),
            stack("attak-example-2", value=manifest()),
        )


def test_another_manifest_version_or_topology_or_none_is_refused() -> None:
    with pytest.raises(
        LiveError, match=rf"manifest version 2; this attak reads version {MANIFEST_VERSION}"
    ):
        find(stack("attak-example", value=manifest(version=2)))
    with pytest.raises(LiveError, match="stack Mine holds topology 'other', not 'attak-example'"):
        find(stack("Mine", value=manifest("other")), stack_name="Mine")
    with pytest.raises(LiveError, match="stack attak-example has no attak manifest output"):
        find(stack("attak-example"))


def test_emulator_endpoints_are_written_with_localhost() -> None:
    assert emulator_endpoint("http://127.0.0.1:4566/") == "http://localhost:4566/"
    assert (
        emulator_endpoint("https://kinesis.eu-west-1.amazonaws.com")
        == "https://kinesis.eu-west-1.amazonaws.com"
    )


def test_botocore_failures_become_sentences() -> None:
    down = EndpointConnectionError(endpoint_url="http://localhost:1")
    assert LOCAL.explain(
        down
    ) is not None and "nothing answers at http://localhost:1" in LOCAL.explain(down)  # type: ignore[operator]
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "x"}}, "Op")  # type: ignore[arg-type]
    with (
        pytest.raises(LiveError, match="reading: AWS kept throttling the requests"),
        LOCAL.errors("reading"),
    ):
        raise throttled
    with pytest.raises(KeyError), LOCAL.errors("reading"):
        raise KeyError("not botocore's: a bug stays a bug")
