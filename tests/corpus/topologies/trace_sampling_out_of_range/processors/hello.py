def handler(event, context):
    context.emit("greetings", event)
