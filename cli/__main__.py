"""``python -m cli``: the same as the ``attak`` command."""

from .main import main

main()
