"""A Python topology that does not parse."""

topology = {
    "name": "corpus-case",
    "processors": {"hello": "./processors/hello.py" "reverse": "./processors/reverse.py"},
}
