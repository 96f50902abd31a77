"""Forgot to define `topology`: only a misspelled name is here."""

topolgy = {
    "name": "corpus-case",
    "processors": {"hello": "./processors/hello.py", "reverse": "./processors/reverse.py"},
    "streams": [["hello", "reverse"]],
}
