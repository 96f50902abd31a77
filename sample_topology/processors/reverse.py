"""Reverses every string it receives."""


def handler(event, context):
    reversed_text = event[::-1]
    context.emit("reversed strings", reversed_text)
