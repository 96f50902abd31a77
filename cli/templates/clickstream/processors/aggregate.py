"""Counts views and revenue per category and minute.

A category's minute is emitted once one of its events two minutes later arrives: clicks
reach aggregate from many users' sessions, a little out of order, and a minute of
lateness lets them in. The counts live as long as the container (or the simulate run);
keep them in a table (DynamoDB) when a lost minute matters.
"""

counts: dict[tuple[str, int], list[float]] = {}
latest_minute: dict[str, int] = {}


def handler(event, context):
    category, minute = event["category"], event["ms"] // 60_000
    views_revenue = counts.setdefault((category, minute), [0, 0.0])
    views_revenue[0] += 1
    if event["type"] == "purchase":
        views_revenue[1] += event["price"] * event["quantity"]
    if minute <= latest_minute.get(category, 0):
        return
    latest_minute[category] = minute
    for done in sorted(key for key in counts if key[0] == category and key[1] < minute - 1):
        views, revenue = counts.pop(done)
        total = {"category": category, "minute": done[1], "views": views, "revenue": revenue}
        context.emit("page_minute", total, key=category)
