"""Drops clicks from crawlers and from users clicking faster than a person can."""

BOT_WORDS = ("bot", "crawler", "spider", "headless")
FASTEST_HUMAN_MS = 50

# Module state lives as long as the Lambda container (or the simulate run): good enough
# to catch a burst; a table (DynamoDB) would hold it across containers.
last_click: dict[str, int] = {}


def handler(event, context):
    agent = event["agent"].lower()
    if any(word in agent for word in BOT_WORDS):
        return
    previous = last_click.get(event["user"])
    last_click[event["user"]] = event["ms"]
    if previous is not None and 0 <= event["ms"] - previous < FASTEST_HUMAN_MS:
        return
    event.pop("agent")
    context.emit("human", event, key=event["user"])
