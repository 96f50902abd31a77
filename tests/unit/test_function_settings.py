"""A processor's function settings, read as Lambda's CreateFunction would take them.

The list settings (``layers``, ``vpc``) are read by ``attak_cdk.function_settings``, each
problem reported at its path; the scalar ones are rows of ``settings.PROCESSOR_SETTINGS``
checked by ``check_value``. Every message says what was given and what Lambda allows.
"""

from __future__ import annotations

from typing import Any

import pytest

from attak_cdk.function_settings import (
    MAX_LAYERS,
    Vpc,
    layers_problem,
    network_interface_statements,
    read_layers,
    read_vpc,
)
from attak_cdk.settings import PROCESSOR_SETTINGS, check_value

LAYER = "arn:aws:lambda:us-east-1:123456789012:layer:shared:3"
SUBNET = "subnet-0123456789abcdef0"
GROUP = "sg-0123456789abcdef0"

Found = list[tuple[str, str, str]]


def reading(read: Any, data: Any, where: str = "processors.a.x") -> tuple[Any, Found]:
    found: Found = []
    result = read(data, where, lambda code, path, message: found.append((code, path, message)))
    return result, found


def test_layer_version_arns_are_kept_in_order() -> None:
    other = "arn:aws-cn:lambda:cn-north-1:123456789012:layer:other-one_2:12"
    assert reading(read_layers, [LAYER, other]) == ((LAYER, other), [])


@pytest.mark.parametrize(
    "given",
    [
        "arn:aws:s3:::bucket",  # another service
        "arn:aws:lambda:us-east-1:123456789012:layer:shared",  # no version
        "arn:aws:lambda:us-east-1:1234:layer:shared:3",  # short account
        "shared:3",
        3,
    ],
)
def test_a_bad_layer_arn_is_refused_at_its_index(given: object) -> None:
    layers, found = reading(read_layers, [LAYER, given], "processors.a.layers")
    assert layers == (LAYER,)
    ((code, path, message),) = found
    assert (code, path) == ("invalid-layers", "processors.a.layers[1]")
    assert "not a layer version ARN: write arn:PARTITION:lambda:REGION:ACCOUNT:layer:" in message
    assert f"(given {given!r})" in message


def test_layers_must_be_a_list() -> None:
    _, found = reading(read_layers, LAYER, "defaults.layers")
    ((_, path, message),) = found
    assert path == "defaults.layers" and message.startswith("must be a list of layer version")


def test_six_layers_are_one_too_many() -> None:
    six = [f"arn:aws:lambda:us-east-1:123456789012:layer:l{i}:1" for i in range(6)]
    assert layers_problem(six[:MAX_LAYERS], ()) is None
    assert layers_problem(six, ()) == "6 layers; Lambda allows at most 5 per function"
    assert layers_problem(six[1:], six[:1]) == (
        "6 layers with the 1 of defaults.layers; Lambda allows at most 5 per function"
    )


def test_a_layer_in_defaults_and_in_a_processor_counts_once() -> None:
    five = [f"arn:aws:lambda:us-east-1:123456789012:layer:l{i}:1" for i in range(5)]
    assert layers_problem(five, five[:2]) is None


def test_two_versions_of_one_layer_are_refused() -> None:
    newer = LAYER.replace(":3", ":4")
    assert layers_problem([newer], [LAYER]) == (
        "two versions of layer arn:aws:lambda:us-east-1:123456789012:layer:shared: "
        "a function may use one version of a layer"
    )


def test_a_vpc_is_subnets_and_security_groups_by_id() -> None:
    short = "subnet-89abcdef"  # the older 8-digit ids are still valid
    vpc, found = reading(
        read_vpc, {"subnets": [SUBNET, short], "security_groups": [GROUP]}, "processors.a.vpc"
    )
    assert found == []
    assert vpc == Vpc((SUBNET, short), (GROUP,), "processors.a.vpc")


def test_every_vpc_problem_is_reported_at_its_path() -> None:
    given = {"subnets": ["subnet-123", SUBNET, "sg-0123456789abcdef0"], "groups": [GROUP]}
    vpc, found = reading(read_vpc, given, "processors.a.vpc")
    assert vpc is None
    messages = {path: message for _, path, message in found}
    assert "unknown key 'groups'" in messages["processors.a.vpc.groups"]
    assert messages["processors.a.vpc.subnets[0]"] == (
        "not a subnet id: subnet- and 8 or 17 hex digits, e.g. subnet-0123456789abcdef0 "
        "(given 'subnet-123')"
    )
    assert "not a subnet id" in messages["processors.a.vpc.subnets[2]"]
    assert messages["processors.a.vpc.security_groups"].startswith("must be a list of 1 to 5 ids")
    assert len(found) == 4


def test_a_vpc_holds_at_most_16_subnets_and_5_security_groups() -> None:
    subnets = [f"subnet-{i:08x}" for i in range(17)]
    groups = [f"sg-{i:08x}" for i in range(6)]
    _, found = reading(read_vpc, {"subnets": subnets, "security_groups": groups}, "v")
    assert [(path, message) for _, path, message in found] == [
        ("v.subnets", "17 ids; Lambda allows at most 16"),
        ("v.security_groups", "6 ids; Lambda allows at most 5"),
    ]


@pytest.mark.parametrize(
    ("setting", "given", "says"),
    [
        ("ephemeral_storage", 100, "must be an integer from 512 to 10240 MB (given 100)"),
        ("ephemeral_storage", 10241, "(given 10241)"),
        ("architecture", "arm", "must be one of arm64, x86_64 (given 'arm')"),
        ("tracing", "yes", "must be true or false (given 'yes')"),
        (
            "python",
            "3.8",
            "python 3.8 is deprecated in AWS Lambda since 2024-10-14: "
            "must be one of 3.12, 3.13, 3.14",
        ),
        ("python", "3.10", "python 3.10 is deprecated in AWS Lambda since 2026-06-30"),
        ("python", 3.12, "(given the number 3.12): write it in quotes, e.g. python: '3.12'"),
        ("python", 3.1, "YAML reads 3.10 as the number 3.1"),
        ("python", "3.15", "must be one of 3.12, 3.13, 3.14 (given '3.15')"),
        ("reserved_concurrency", -1, "must be an integer of at least 0 (given -1)"),
    ],
)
def test_a_scalar_setting_outside_lambdas_values_is_refused(
    setting: str, given: object, says: str
) -> None:
    problem = check_value(PROCESSOR_SETTINGS[setting], given)
    assert problem is not None and says in problem


@pytest.mark.parametrize(
    ("setting", "given"),
    [
        ("ephemeral_storage", 512),
        ("ephemeral_storage", 10240),
        ("architecture", "x86_64"),
        ("tracing", True),
        ("python", "3.12"),
        ("python", "3.14"),
        ("reserved_concurrency", 0),
    ],
)
def test_lambdas_own_bounds_and_choices_are_accepted(setting: str, given: object) -> None:
    assert check_value(PROCESSOR_SETTINGS[setting], given) is None


def test_a_vpc_function_may_create_interfaces_only_in_its_subnets_with_its_groups() -> None:
    create, manage, describe = network_interface_statements(Vpc((SUBNET,), (GROUP,)))
    here = "arn:${AWS::Partition}:ec2:${AWS::Region}"
    interfaces = f"{here}:${{AWS::AccountId}}:network-interface/*"
    assert create.actions == ("ec2:CreateNetworkInterface",)
    assert create.resources == (
        interfaces,
        f"{here}:*:subnet/{SUBNET}",
        f"{here}:*:security-group/{GROUP}",
    )
    assert manage.resources == (interfaces,)
    assert "ec2:DeleteNetworkInterface" in manage.actions
    # EC2's Describe actions have no resource-level permissions.
    assert describe.actions == ("ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets")
    assert describe.resources == ("*",)
