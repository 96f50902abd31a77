"""A fake CloudFormation holding attak stacks and their manifest outputs, for the tests
that find a deployment without a server."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from attak_cdk.live.connection import Connection
from attak_cdk.live.deployment import find_deployment

LOCAL = Connection(region="us-east-1", endpoint_url="http://localhost:1")


def manifest(topology: str = "attak-example", version: int = 1, **processors: Any) -> str:
    processors = processors or {
        "hello_world_spout": {"function": "F1", "log_group": "G1", "inputs": [], "outputs": ["hello_world_spout->reverse"]},
        "reverse": {"function": "F2", "log_group": "G2", "inputs": ["hello_world_spout->reverse"], "outputs": []},
    }  # fmt: skip
    return json.dumps(
        {"version": version, "topology": topology, "processors": processors,
         "streams": {"hello_world_spout->reverse": "S1"}}
    )  # fmt: skip


SPOUT = {
    "function": "F1",
    "log_group": "G1",
    "inputs": [],
    "outputs": ["hello_world_spout->reverse"],
}
REVERSE = {
    "function": "F2",
    "log_group": "G2",
    "inputs": ["hello_world_spout->reverse"],
    "outputs": [],
}


def part(
    number: int, total: int, topology: str = "attak-example", version: int = 1, **processors: Any
) -> str:
    """A split topology's manifest part, as each of its processor stacks carries one."""
    return json.dumps(
        {"version": version, "topology": topology, "part": number, "parts": total,
         "processors": processors, "streams": {"hello_world_spout->reverse": "S1"}}
    )  # fmt: skip


def stack(name: str, status: str = "CREATE_COMPLETE", value: str | None = None) -> dict[str, Any]:
    outputs = [{"OutputKey": "Manifest", "OutputValue": value}] if value else []
    return {"StackName": name, "StackStatus": status, "Outputs": outputs}


class FakeCloudFormation:
    def __init__(self, *stacks: dict[str, Any]) -> None:
        self.stacks = {s["StackName"]: s for s in stacks}

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        if StackName not in self.stacks:
            error = {
                "Error": {
                    "Code": "ValidationError",
                    "Message": f"Stack with id {StackName} does not exist",
                }
            }
            raise ClientError(error, "DescribeStacks")  # type: ignore[arg-type]
        return {"Stacks": [self.stacks[StackName]]}

    def get_paginator(self, _: str) -> Any:
        summaries = [
            {"StackName": n, "StackStatus": s["StackStatus"]} for n, s in self.stacks.items()
        ]

        class Pages:
            def paginate(self) -> list[dict[str, Any]]:
                return [{"StackSummaries": summaries}]

        return Pages()


def find(
    *stacks: dict[str, Any], topology: str = "attak-example", stack_name: str | None = None
) -> Any:
    return find_deployment(LOCAL, topology, stack_name, cloudformation=FakeCloudFormation(*stacks))
