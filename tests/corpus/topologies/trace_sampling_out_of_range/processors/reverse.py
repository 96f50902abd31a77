def handler(event, context):
    context.emit("reversed", event[::-1])
