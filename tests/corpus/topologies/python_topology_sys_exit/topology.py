"""A topology script that stops early when it has nothing to build."""

import sys

STAGES: dict[str, str] = {}

if not STAGES:
    sys.exit(0)  # "nothing to deploy": must not end attak silently with success

topology = {"name": "corpus-case", "processors": STAGES}
