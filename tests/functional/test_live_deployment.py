"""Finding a deployment: stacks, their states, the manifest; the connection's defaults."""

from __future__ import annotations

import pytest

from attak_cdk.live.connection import Connection, LiveError
from attak_cdk.live.deployment import differences
from attak_cdk.project import load_topology
from attak_cdk.toolchain import cdk_environment
from tests.conftest import SAMPLE
from tests.fake_cloudformation import (
    REVERSE,
    SPOUT,
    find,
    manifest,
    part,
    stack,
)


def test_the_manifest_parts_of_a_split_topology_are_joined() -> None:
    deployment = find(
        stack("attak-example-streams-1"),
        stack("attak-example-1", value=part(1, 2, hello_world_spout=SPOUT)),
        stack("attak-example-2", value=part(2, 2, reverse=REVERSE)),
    )
    assert deployment.stacks == ("attak-example-streams-1", "attak-example-1", "attak-example-2")
    assert list(deployment.processors) == ["hello_world_spout", "reverse"]
    assert deployment.processors["hello_world_spout"].function == "F1"
    assert deployment.processors["reverse"].log_group == "G2"
    assert deployment.streams == {"hello_world_spout->reverse": "S1"}
    assert differences(load_topology(SAMPLE), deployment) == []


def test_a_missing_stack_says_how_to_deploy() -> None:
    with pytest.raises(
        LiveError,
        match=r"topology 'attak-example' is not deployed: no CloudFormation stack 'attak-example' in region us-east-1 at http://localhost:1; deploy it with `attak deploy`",
    ):
        find()


def test_differences_between_local_and_deployed_are_named() -> None:
    deployment = find(stack("attak-example", value=manifest()))
    topology = load_topology(SAMPLE)
    assert differences(topology, deployment) == []
    smaller = find(
        stack(
            "attak-example", value=manifest(hello_world_spout={"function": "F", "log_group": "G"})
        )
    )
    assert differences(topology, smaller) == ["processors not deployed yet: reverse"]


def test_an_endpoint_gets_placeholders_and_localhost_for_the_cdk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
    ):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    environment = cdk_environment(Connection(endpoint_url="http://127.0.0.1:5000"))
    assert environment["AWS_ENDPOINT_URL"] == "http://localhost:5000"
    assert environment["AWS_REGION"] == "us-east-1"
    assert environment["AWS_ACCESS_KEY_ID"] == "testing"
    assert cdk_environment(Connection(region="eu-west-1")) == {
        "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1",
    }  # fmt: skip
    with pytest.raises(LiveError, match="no AWS credentials were found"):
        _ = Connection(region="eu-west-1").session
