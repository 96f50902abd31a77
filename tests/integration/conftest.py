"""Local Kinesis emulators for the integration tests, started on free 127.0.0.1 ports.

Each emulator runs once per test session and is stopped at its end; a missing one skips
the tests that need it (``make setup`` installs both). The live-topology fixtures (a moto
server per module, a machine with no AWS configuration, boto3 clients of the server) are
in ``conftest_live`` and offered to every module here.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from attak_cdk.simulate import emulator
from tests.integration.conftest_live import (
    aws,
    aws_environment,
    deployed_sample,
    moto_server,
    shared_moto_server,
)

__all__ = ["aws", "aws_environment", "deployed_sample", "moto_server", "shared_moto_server"]


DEPLOYING_FIXTURES = frozenset({"deployed_sample", "fanout", "deployed"})
"""Fixtures that deploy a topology with the real cdk CLI (``conftest_live.deploy``)."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that needs a deployed topology runs the cdk CLI: mark it ``cdk``."""
    for item in items:
        if DEPLOYING_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.cdk)


def _serve(kind: str) -> Iterator[str]:
    if emulator.find(kind) is None:
        pytest.skip(f"{kind} is not installed (make setup installs it)")
    with emulator.start(kind) as running:
        yield running.endpoint_url


@pytest.fixture(scope="session")
def kinesalite() -> Iterator[str]:
    """The endpoint of a kinesalite server (Kinesis only)."""
    yield from _serve("kinesalite")


@pytest.fixture(scope="session")
def moto() -> Iterator[str]:
    """The endpoint of a moto server (Kinesis and SQS)."""
    yield from _serve("moto")
