"""Entry: reads a raw page event and keeps the fields the pipeline uses.

Events arrive as your producers wrote them into parse's ingest stream:
{"event_id", "type", "ts" (ISO 8601), "user_id", "page": {"url", "category"},
 "user_agent", "price"?, "quantity"?}
"""

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
        "price": event.get("price", 0.0),
        "quantity": event.get("quantity", 0),
    }
    # Keyed by user: one user's clicks stay in order, on one shard.
    context.emit("click", click, key=click["user"])
