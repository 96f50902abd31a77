"""Fails while being imported."""

raise RuntimeError("reverse cannot start: no dictionary configured")


def handler(event, context):
    context.emit("reversed", event[::-1])
