def handler(event):
    return event[::-1]
