"""Drops clicks from crawlers and from users clicking faster than a person can."""

BOT_WORDS = ("bot", "crawler", "spider", "headless")
last_click: dict[str, int] = {}


def handler(event, context):
    agent = event["agent"].lower()
    if any(word in agent for word in BOT_WORDS):
        return
    previous = last_click.get(event["user"])
    last_click[event["user"]] = event["ms"]
    if previous is not None and 0 <= event["ms"] - previous < 50:
        return
    event.pop("agent")
    context.emit("human", event, key=event["user"])
