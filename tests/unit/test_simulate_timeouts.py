"""The simulators stop an invocation that runs past its processor's timeout, as Lambda does.

Here, what needs no run: Lambda's on-failure record of a timed-out invocation. The runs
themselves are in tests/functional/test_simulate_timeouts.py.
"""

from __future__ import annotations

import pytest

from attak_cdk.simulate.dead_letters import direct_message
from attak_cdk.simulate.result import DeadLetter

TIMED_OUT = "Task timed out after 1.00 seconds"


pytestmark = pytest.mark.usefixtures("no_alarm_left")


def test_the_on_failure_record_of_a_timed_out_invoke_is_lambdas() -> None:
    letter = DeadLetter("entry", "input", "x", "t", TIMED_OUT, 3, 3)
    payload = direct_message("entry", "x", letter, "us-east-1")["responsePayload"]
    assert payload == {"errorType": "Sandbox.Timedout", "errorMessage": TIMED_OUT}
