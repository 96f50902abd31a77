def handler(event, context):
    context.emit("lines", event)
