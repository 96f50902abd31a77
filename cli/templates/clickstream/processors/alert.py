"""Alerts when a category's views in a minute pass three times its running average."""

averages: dict[str, float] = {}


def handler(event, context):
    category, views = event["category"], event["views"]
    average = averages.get(category)
    averages[category] = views if average is None else 0.9 * average + 0.1 * views
    if average is not None and views > 3 * average:
        context.emit("alert", {"category": category, "minute": event["minute"], "views": views})
