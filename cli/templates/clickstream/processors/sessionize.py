"""Gives each click its session: a new one after 30 minutes without a click."""

GAP_MS = 30 * 60 * 1000

# Per container, like filter_bots: the stream is keyed by user, so a user's clicks reach
# the same shard, in order.
sessions: dict[str, tuple[str, int]] = {}


def handler(event, context):
    user, ms = event["user"], event["ms"]
    session, last = sessions.get(user, (None, 0))
    if session is None or ms - last > GAP_MS:
        session = f"{user}-{ms}"
    sessions[user] = (session, ms)
    event["session"] = session
    # Keyed by category from here: aggregate counts per category, so each category's
    # counts are kept by the one container reading its shard.
    context.emit("session_event", event, key=event["category"])
