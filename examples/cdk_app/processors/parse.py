"""Parses a raw click (a JSON line) and passes it on; a user clicking faster than a person
can is passed on as suspicious too."""

import json

SUSPICIOUS_PER_MINUTE = 100


def handler(event, context):
    click = json.loads(event)
    context.emit("clicks", click, key=click["user"])
    if click.get("per_minute", 0) > SUSPICIOUS_PER_MINUTE:
        context.emit("suspicious", click, key=click["user"])
