"""A Python topology with a processor name AWS cannot use."""

topology = {
    "name": "corpus-case",
    "processors": {
        "hello": "./processors/hello.py",
        "has space": "./processors/reverse.py",
    },
    "streams": [["hello", "has space"]],
}
