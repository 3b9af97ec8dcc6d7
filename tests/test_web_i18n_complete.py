"""Every page label has a Khmer text that carries the same ``{placeholders}`` as its English text.

A key missing in Khmer silently falls back to English (a mixed page for a Khmer-speaking officer), and a Khmer
text with a misspelt or missing placeholder either raises ``KeyError`` when the page is drawn or drops a value
the officer needs (a user name, a chain link). Importing ``exchange.web.routes`` registers every page's labels.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

import pytest

import exchange.web.routes  # noqa: F401  (registers every page module's labels)
from exchange.web import i18n


def _placeholders(text: str) -> set[str]:
    """The field names of ``text`` as ``str.format`` sees them (``{n}`` -> ``n``; ``{{`` is not a field)."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def _missing(en: Mapping[str, str], km: Mapping[str, str]) -> list[str]:
    return sorted(key for key in en if key not in km)


def _placeholder_mismatches(en: Mapping[str, str], km: Mapping[str, str]) -> list[str]:
    return sorted(key for key in en if key in km and _placeholders(km[key]) != _placeholders(en[key]))


def test_every_english_key_has_a_khmer_text() -> None:
    en, km = i18n.messages("en"), i18n.messages("km")
    assert len(en) > 100  # the page modules were really registered
    assert _missing(en, km) == []


def test_no_khmer_key_is_unknown_in_english() -> None:
    en, km = i18n.messages("en"), i18n.messages("km")
    assert sorted(key for key in km if key not in en) == []


def test_khmer_texts_carry_the_same_placeholders_as_english() -> None:
    assert _placeholder_mismatches(i18n.messages("en"), i18n.messages("km")) == []


def test_no_khmer_text_is_empty() -> None:
    km = i18n.messages("km")
    assert sorted(key for key, text in km.items() if not text.strip()) == []


def test_every_khmer_text_formats_with_the_english_values() -> None:
    """Drawing each Khmer text with the values the English one takes must not raise (e.g. a stray brace)."""
    en, km = i18n.messages("en"), i18n.messages("km")
    for key, text in km.items():
        values = dict.fromkeys(_placeholders(en[key]), "X")
        text.format(**values)


def test_the_checks_notice_a_gap() -> None:
    """The helpers above do fail: a dropped key and a renamed placeholder are both reported."""
    en = {"a.one": "Account {username}", "a.two": "Saved."}
    assert _missing(en, {"a.one": "គណនី {username}"}) == ["a.two"]
    assert _placeholder_mismatches(en, {"a.one": "គណនី {user}", "a.two": "បានរក្សាទុក។"}) == ["a.one"]
    assert _placeholder_mismatches(en, {"a.one": "គណនី", "a.two": "បានរក្សាទុក។"}) == ["a.one"]
    assert _placeholders("{{literal}} {n} rows, link {seq}") == {"n", "seq"}


@pytest.mark.parametrize("key", ["admin.user.title", "audit.sealed", "stats.total", "audit.verify.whole"])
def test_known_placeholders_survive_in_khmer(key: str) -> None:
    en, km = i18n.messages("en"), i18n.messages("km")
    assert _placeholders(en[key])  # these keys do take values
    assert _placeholders(km[key]) == _placeholders(en[key])
