"""File names as we print them. Pure: stdlib only.

A file name may hold any byte but ``/`` and NUL: a newline in one would start a new
output line, and under GitHub Actions a line starting ``::error`` is a workflow command
(SPEC 12: escaped in every output). ``shown`` writes each control character (C0, DEL,
C1, the Unicode line and paragraph separators) as a Python escape and each undecodable
byte (a lone surrogate of ``surrogateescape``) as ``\\xNN``, as the JSON report does; a
name without them is returned as it is (the common case costs one regex search).
"""

from __future__ import annotations

import re

__all__ = ["shown"]

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\udc80-\udcff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(m: re.Match[str]) -> str:
    ch = m.group()
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(text: str) -> str:
    """``text`` safe to print on one line: no control character reaches the terminal."""
    return _UNSAFE.sub(_escape, text) if _UNSAFE.search(text) else text
