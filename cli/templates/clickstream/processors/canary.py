"""Every 5 minutes (schedule: in topology.yml) sends one synthetic click down the pipeline.

Its minute counts and archive objects, under the "canary" category, show the whole path
works even when no visitor clicks; an alarm on them missing is one `attak` alarm away.
"""

import time


def handler(event, context):
    now_ms = int(time.time() * 1000)
    click = {
        "event_id": f"canary-{now_ms}",
        "type": "view",
        "ms": now_ms,
        "user": "canary",
        "url": "/canary",
        "category": "canary",
        "agent": "attak-canary",
        "price": 0.0,
        "quantity": 0,
    }
    context.emit("click", click, key="canary")
