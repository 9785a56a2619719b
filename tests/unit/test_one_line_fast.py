"""Text that is all printable passes the line cleaners untouched: none of what they remove or change
is printable, so skipping them for such text changes nothing."""

from __future__ import annotations

import sys

from engine.values import _CONTROL, _LINE_BREAKS, _multi_line, _one_line


def test_no_printable_character_is_one_the_cleaners_touch() -> None:
    for point in range(sys.maxunicode + 1):
        char = chr(point)
        if char.isprintable():
            assert not _CONTROL.match(char), hex(point)
            assert not _LINE_BREAKS.match(char), hex(point)


def test_the_cleaners_still_clean() -> None:
    assert _one_line("a\tb\r\nc\x00d\u202e") == "a b cd"
    assert _multi_line("a\r\nb\rc\x1bd\te") == "a\nb\ncd\te"
    assert _one_line("Résident 12") == "Résident 12"
