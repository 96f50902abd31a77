"""A processor's ``layers:`` and ``vpc:``: the function settings that are lists of AWS ids.

The scalar settings (``ephemeral_storage``, ``tracing``, ``architecture``, ``python``,
``reserved_concurrency``...) are rows of ``settings.PROCESSOR_SETTINGS``; these two hold
lists, read here with every problem an ``Issue`` at its path (``read_layers``,
``read_vpc``), in the shapes and counts Lambda's CreateFunction accepts
(https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html). The CDK layer
sets them on the function; ``attak simulate`` ignores both (they are deployment settings:
a layer's code is not on the laptop, and the local engines use the laptop's network).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import did_you_mean
from .grants import ACCOUNT, PARTITION, REGION, GrantStatement
from .settings import shown

Report = Callable[[str, str, str], None]
"""``issue(code, path, message)``, as the loader's reader takes it."""

# A layer version's ARN (API_Layer's Arn: 1 to 140 characters):
# https://docs.aws.amazon.com/lambda/latest/api/API_Layer.html
LAYER_ARN = re.compile(
    r"^arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9_-]+:[0-9]+$"
)
MAX_LAYER_ARN = 140
# "Function layers: five layers" (Lambda quotas, not adjustable):
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
MAX_LAYERS = 5
LAYER_EXAMPLE = "arn:aws:lambda:us-east-1:123456789012:layer:shared-libs:3"

# VpcConfig: at most 16 subnets and 5 security groups, each id the prefix and 8 or 17
# lowercase hex digits:
# https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-lambda-function-vpcconfig.html
# https://docs.aws.amazon.com/inspector/v2/APIReference/API_LambdaVpcConfig.html
SUBNET_ID = re.compile(r"^subnet-([0-9a-f]{8}|[0-9a-f]{17})$")
SECURITY_GROUP_ID = re.compile(r"^sg-([0-9a-f]{8}|[0-9a-f]{17})$")
MAX_SUBNETS = 16
MAX_SECURITY_GROUPS = 5
VPC_KEYS = {
    "subnets": "the ids of the subnets the function's network interfaces are placed in",
    "security_groups": "the ids of the security groups of those network interfaces",
}


@dataclass(frozen=True)
class Vpc:
    """The subnets and security groups a function reaches a VPC through."""

    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]
    where: str = ""


def read_layers(data: Any, where: str, report: Report) -> tuple[str, ...]:
    """``layers:`` at ``where``: a list of layer version ARNs; a bad one is left out."""
    if data is None:
        return ()
    if not isinstance(data, list):
        report(
            "invalid-layers",
            where,
            f"must be a list of layer version ARNs, e.g. [{LAYER_EXAMPLE}] (given {shown(data)})",
        )
        return ()
    layers: list[str] = []
    for index, arn in enumerate(data):
        path = f"{where}[{index}]"
        if not isinstance(arn, str) or len(arn) > MAX_LAYER_ARN or not LAYER_ARN.match(arn):
            report(
                "invalid-layers",
                path,
                "not a layer version ARN: write arn:PARTITION:lambda:REGION:ACCOUNT:layer:"
                f"NAME:VERSION, e.g. {LAYER_EXAMPLE} (given {shown(arn)})",
            )
        elif arn in layers:
            report("invalid-layers", path, f"{arn} is listed twice")
        else:
            layers.append(arn)
    return tuple(layers)


def layers_problem(own: Sequence[str], inherited: Sequence[str]) -> str | None:
    """What is wrong with a function's layers: ``inherited`` (``defaults.layers``) then
    its ``own``, together at most five (one written in both counts once), and one version
    of each layer (Lambda refuses two versions of one layer on a function)."""
    together = list(dict.fromkeys([*inherited, *own]))
    if len(together) > MAX_LAYERS:
        counted = f" with the {len(inherited)} of defaults.layers" if inherited else ""
        return f"{len(together)} layers{counted}; Lambda allows at most {MAX_LAYERS} per function"
    names = [arn.rsplit(":", 1)[0] for arn in together]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        return f"two versions of layer {twice[0]}: a function may use one version of a layer"
    return None


def read_vpc(data: Any, where: str, report: Report) -> Vpc | None:
    """``vpc:`` at ``where``: ``{subnets: [...], security_groups: [...]}``, at least one
    of each (a function in a VPC without a security group could reach nothing)."""
    if data is None:
        return None
    example = "{subnets: [subnet-0123456789abcdef0], security_groups: [sg-0123456789abcdef0]}"
    if not isinstance(data, dict):
        report("invalid-vpc", where, f"must be a mapping, e.g. {example} (given {shown(data)})")
        return None
    ok = True
    for key in data:
        if key not in VPC_KEYS:
            ok = False
            report(
                "invalid-vpc",
                f"{where}.{key}",
                f"unknown key '{key}'{did_you_mean(str(key), VPC_KEYS)} "
                f"(allowed here: {', '.join(VPC_KEYS)})",
            )
    lists: dict[str, tuple[str, ...]] = {}
    for key, pattern, most, shape in (
        ("subnets", SUBNET_ID, MAX_SUBNETS, "subnet-"),
        ("security_groups", SECURITY_GROUP_ID, MAX_SECURITY_GROUPS, "sg-"),
    ):
        path = f"{where}.{key}"
        ids = data.get(key)
        if not isinstance(ids, list) or not ids:
            ok = False
            report(
                "invalid-vpc",
                path,
                f"must be a list of 1 to {most} ids, e.g. [{shape}0123456789abcdef0] "
                f"(given {shown(ids)})",
            )
            continue
        if len(ids) > most:
            ok = False
            report("invalid-vpc", path, f"{len(ids)} ids; Lambda allows at most {most}")
        for index, value in enumerate(ids):
            if not isinstance(value, str) or not pattern.match(value):
                ok = False
                report(
                    "invalid-vpc",
                    f"{path}[{index}]",
                    f"not a {key[:-1].replace('_', ' ')} id: {shape} and 8 or 17 hex digits, "
                    f"e.g. {shape}0123456789abcdef0 (given {shown(value)})",
                )
        lists[key] = tuple(dict.fromkeys(str(value) for value in ids))
    if not ok:
        return None
    return Vpc(lists["subnets"], lists["security_groups"], where)


# What a function's role needs for Lambda to give it network interfaces in a VPC: the
# actions of AWSLambdaVPCAccessExecutionRole less its logs:* ones, each on the fewest
# resources EC2 authorizes it on. "ec2:DescribeNetworkInterfaces - This action only works
# if it's allowed on all resources", and EC2's Describe actions have no resource-level
# permissions at all; the interfaces' ids are not known before Lambda creates them.
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html
# https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaVPCAccessExecutionRole.html
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
NETWORK_INTERFACE_CREATE = ("ec2:CreateNetworkInterface",)
NETWORK_INTERFACE_MANAGE = (
    "ec2:AssignPrivateIpAddresses",
    "ec2:DeleteNetworkInterface",
    "ec2:UnassignPrivateIpAddresses",
)
NETWORK_DESCRIBE = ("ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets")
NETWORK_INTERFACES = f"arn:{PARTITION}:ec2:{REGION}:{ACCOUNT}:network-interface/*"


def network_interface_statements(vpc: Vpc) -> tuple[GrantStatement, ...]:
    """The statements a function in ``vpc`` needs: create interfaces in its own subnets
    with its own security groups only, manage the interfaces of this account and region,
    and describe (which EC2 allows only on every resource). A subnet or group is matched
    in any account (``:*:``): its id is unique, and a subnet shared with this account
    (VPC sharing) belongs to the account that shares it."""

    def ec2(kind: str, ids: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(f"arn:{PARTITION}:ec2:{REGION}:*:{kind}/{i}" for i in ids)

    return (
        GrantStatement(
            NETWORK_INTERFACE_CREATE,
            (
                NETWORK_INTERFACES,
                *ec2("subnet", vpc.subnets),
                *ec2("security-group", vpc.security_groups),
            ),
        ),
        GrantStatement(NETWORK_INTERFACE_MANAGE, (NETWORK_INTERFACES,)),
        GrantStatement(NETWORK_DESCRIBE, ("*",)),
    )
