"""File names as printed (issue 22 item 14): no control character reaches an output line,
and a plain name is printed as it is."""

from __future__ import annotations

import unicodedata

from hypothesis import given, strategies as st

from pytest_ssot.domain.display import shown


@given(st.text())
def test_no_control_character_survives(name: str) -> None:
    out = shown(name)
    assert not [c for c in out if unicodedata.category(c) in ("Cc", "Zl", "Zp", "Cs")], out
    if "\\" not in name:  # the escapes are one-to-one: nothing is lost
        assert out == name or len(out) > len(name)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Zl", "Zp", "Cs"))))
def test_a_plain_name_is_unchanged(name: str) -> None:
    assert shown(name) == name


def test_the_escapes() -> None:
    assert shown("a\nb\r\tc") == "a\\nb\\r\\tc"
    assert shown("evil\n::error::x") == "evil\\n::error::x"
    assert shown("caf\udce9.py") == "caf\\xe9.py"  # an undecodable byte, as in the JSON
    assert shown("\x1b[31mred\x7f\x85\u2028") == "\\x1b[31mred\\x7f\\x85\\u2028"
