"""A handler file is imported again when it changes on disk, and only then."""

from __future__ import annotations

import os
import py_compile
from importlib.util import cache_from_source
from pathlib import Path

import pytest

from attak_cdk.handlers import HandlerError, load_handler
from attak_cdk.model import Processor

COUNTING = """
from pathlib import Path

with (Path(__file__).parent / "imports.log").open("a") as log:
    log.write("imported\\n")

def handler(event, context):
    return {answer}
"""


def handler_file(tmp_path: Path, answer: str) -> Processor:
    file = tmp_path / "answer.py"
    file.write_text(COUNTING.format(answer=answer))
    return Processor(name="answer", file=file)


def imports(tmp_path: Path) -> int:
    return len((tmp_path / "imports.log").read_text().splitlines())


def test_an_unchanged_file_is_imported_once(tmp_path: Path) -> None:
    processor = handler_file(tmp_path, "1")
    first = load_handler(processor)
    again = load_handler(processor)
    assert again is first
    assert imports(tmp_path) == 1


def test_an_edited_file_is_imported_again(tmp_path: Path) -> None:
    processor = handler_file(tmp_path, "1")
    assert load_handler(processor)(None, None) == 1
    processor.file.write_text(COUNTING.format(answer="'one'"))
    assert load_handler(processor)(None, None) == "one"
    assert imports(tmp_path) == 2


def test_an_edit_keeping_the_size_within_the_second_is_seen(tmp_path: Path) -> None:
    processor = handler_file(tmp_path, "1")
    file, second = processor.file, 1_700_000_000 * 10**9
    os.utime(file, ns=(second, second))
    # A bytecode cache of the old code that Python's own check (mtime in seconds, size)
    # would still take for the new one.
    py_compile.compile(str(file), cfile=cache_from_source(str(file)))
    assert load_handler(processor)(None, None) == 1
    file.write_text(COUNTING.format(answer="2"))
    os.utime(file, ns=(second + 1000, second + 1000))
    assert load_handler(processor)(None, None) == 2


def test_a_broken_edit_fails_and_its_fix_loads(tmp_path: Path) -> None:
    processor = handler_file(tmp_path, "1")
    load_handler(processor)
    processor.file.write_text("def handler(event, context):\n    return (\n")
    with pytest.raises(HandlerError, match=r"answer.py, line 2: SyntaxError"):
        load_handler(processor)
    processor.file.write_text(COUNTING.format(answer="3"))
    assert load_handler(processor)(None, None) == 3
