"""A dynamic topology whose function fails."""


def topology():
    stages = {"hello": "./processors/hello.py"}
    raise ValueError("no stages configured for this environment")
