"""The spout: passes each input event on to the rest of the topology."""


def handler(event, context):
    print(event)  # prints 'hello world'
    context.emit("greetings", event)
