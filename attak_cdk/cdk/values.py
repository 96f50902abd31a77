"""The aws-cdk-lib values every processor and stream is built with, each made once.

Reading ``lambda_.Runtime.PYTHON_3_13`` or calling ``Duration.seconds(60)`` is a call from
Python into Node (jsii, about 0.2 ms), and a topology asks for the same few values for
every processor and stream. They are immutable in aws-cdk-lib, so one of each is shared by
every construct that uses it, in every app the process builds.
"""

from __future__ import annotations

from functools import cache

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_

from ..settings import DEFAULT_PYTHON


@cache
def seconds(amount: int) -> Duration:
    return Duration.seconds(amount)


@cache
def minutes(amount: int) -> Duration:
    return Duration.minutes(amount)


@cache
def hours(amount: int) -> Duration:
    return Duration.hours(amount)


@cache
def days(amount: int) -> Duration:
    return Duration.days(amount)


@cache
def python_runtime(version: str = DEFAULT_PYTHON) -> lambda_.Runtime:
    """The Python runtime of ``version`` (``"3.13"``: ``python3.13``), on which a processor
    runs (``asset.py`` installs wheels for the same version)."""
    runtime: lambda_.Runtime = getattr(lambda_.Runtime, f"PYTHON_{version.replace('.', '_')}")
    return runtime


@cache
def architecture(name: str) -> lambda_.Architecture:
    """``arm64`` or ``x86_64`` as aws-cdk-lib's ``Architecture``."""
    return lambda_.Architecture.ARM_64 if name == "arm64" else lambda_.Architecture.X86_64
