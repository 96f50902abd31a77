"""Counts views and revenue per page category and minute; emits a minute once it ends."""

counts: dict[tuple[str, int], list[float]] = {}
latest = 0


def handler(event, context):
    global latest
    minute = event["ms"] // 60_000
    key = (event["category"], minute)
    views_revenue = counts.setdefault(key, [0, 0.0])
    views_revenue[0] += 1
    if event["type"] == "purchase":
        views_revenue[1] += event["price"] * event["quantity"]
    if minute > latest:
        latest = minute
        for done in [k for k in counts if k[1] < minute - 1]:
            views, revenue = counts.pop(done)
            context.emit(
                "page_minute",
                {"category": done[0], "minute": done[1], "views": views, "revenue": revenue},
                key=done[0],
            )
