"""Alerts when a category's views in a minute jump past three times its running average."""

averages: dict[str, float] = {}


def handler(event, context):
    average = averages.get(event["category"])
    averages[event["category"]] = (
        event["views"] if average is None else 0.9 * average + 0.1 * event["views"]
    )
    if average is not None and event["views"] > 3 * average:
        print(f"ALERT {event['category']}: {event['views']} views at minute {event['minute']}")
