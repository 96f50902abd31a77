"""A Python topology whose `reverse` handler takes one argument."""

topology = {
    "name": "corpus-case",
    "processors": {
        "hello": "./processors/hello.py",
        "reverse": "./processors/reverse.py",
    },
    "streams": [["hello", "reverse"]],
}
