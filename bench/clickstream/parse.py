"""Keeps the fields the pipeline uses, with the time as epoch milliseconds."""

from datetime import datetime


def handler(event, context):
    stamp = datetime.fromisoformat(event["ts"].replace("Z", "+00:00"))
    click = {
        "event_id": event["event_id"],
        "type": event["type"],
        "ms": int(stamp.timestamp() * 1000),
        "user": event["user_id"],
        "url": event["page"]["url"],
        "category": event["page"]["category"],
        "agent": event["user_agent"],
        "country": event["geo"]["country"],
        "price": event["metrics"]["price"],
        "quantity": event["metrics"]["quantity"],
    }
    context.emit("click", click, key=click["user"])
