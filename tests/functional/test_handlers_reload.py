"""A handler file is imported again when it changes on disk, and only then."""

from __future__ import annotations

import os
import py_compile
import time
from importlib.util import cache_from_source
from pathlib import Path

import pytest

from attak_cdk import handlers
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


def test_a_module_still_importing_past_the_init_phase_is_refused_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_alarm_left: None
) -> None:
    monkeypatch.setattr(handlers, "INIT_SECONDS", 0.2)  # Lambda's is 10 s
    (tmp_path / "stuck.py").write_text(
        "import time\ntime.sleep(30)\n\ndef handler(event, context):\n    pass\n"
    )
    started = time.monotonic()
    with pytest.raises(HandlerError, match=r"did not finish within Lambda's 0.2 s init phase"):
        load_handler(Processor(name="stuck", file=tmp_path / "stuck.py"))
    assert time.monotonic() - started < 5  # cut at the bound, not after the 30 s sleep


def test_what_a_module_prints_at_import_is_kept_as_its_init_log(tmp_path: Path) -> None:
    (tmp_path / "loud.py").write_text(
        "print('warming up')\n\ndef handler(event, context):\n    pass\n"
    )
    processor = Processor(name="loud", file=tmp_path / "loud.py")
    load_handler(processor)
    assert handlers.printed_at_import(processor) == "warming up\n"
