"""Birth place: read once per record, compared across scripts and spellings.

Countries write a birth place their own way: Cambodia "Phnom Penh" or "ភ្នំពេញ", a clerk "Phnum Penh", a
Thai record "จังหวัดตราด" (with the word for province), a Vietnamese one "Thành phố Hồ Chí Minh".
``prepare_birth_place`` turns the raw text into a :class:`Place` once per record:

1. administrative words written in Khmer or Thai script are cut first (they are glued to the name:
   "ខេត្តកំពត" is "province Kampot"), then ``matching.normalize.fold`` romanises Khmer and Thai and strips
   diacritics, as it does for names;
2. administrative and country words (``PLACE_ADMIN_WORDS``: province, city, khet, changwat, tinh, thanh
   pho ...) are dropped while something remains;
3. the tokens are joined without spaces (Khmer and Thai scripts write no spaces: "phnompenh" must meet
   "phnom penh"), and a few well-known other names of a place (``PLACE_ALIASES``: Saigon, Krung Thep ...)
   are mapped to one form.

``compare_birth_places`` answers one of ``PLACE_LEVELS``: ``exact`` (the same joined form), ``similar``
(rapidfuzz ratio of the joined forms, or of their phonetic codes from ``matching.names.phonetic``, at least
``PLACE_SIMILAR_MIN``; or every token of one place is in the other: "Phnom Penh" / "Phnom Penh Cambodia"),
``different``, and ``missing`` when a side has none (weight 0: most records carry no birth place).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

from . import magic
from .names import phonetic
from .normalize import fold
from .types import MISSING, FeatureResult

PLACE_LEVELS = ("exact", "similar", "different", MISSING)


@dataclass(frozen=True, slots=True)
class Place:
    """A birth place in comparison form: folded tokens, their joined form and its phonetic code."""

    tokens: tuple[str, ...]
    joined: str
    code: str

    @property
    def shown(self) -> str:
        """The folded place as the detail shows it, cut to ``PLACE_DETAIL_CHARS``."""
        return " ".join(self.tokens)[: magic.PLACE_DETAIL_CHARS]


_ADMIN_WORDS = sorted(magic.PLACE_ADMIN_WORDS, key=len, reverse=True)  # longest first: "kingdom of cambodia"
_ADMIN_RE = re.compile(r"(?<= )(?:" + "|".join(re.escape(w) for w in _ADMIN_WORDS) + r")(?= )")


def prepare_birth_place(raw: object) -> Place | None:
    """The comparison form of a raw birth place; None for anything without a usable place name."""
    if isinstance(raw, Place):
        return raw
    if not isinstance(raw, str) or not raw.strip():
        return None
    return _prepare(raw[: magic.PLACE_INPUT_MAX])


@lru_cache(maxsize=1 << 14)  # registers repeat a few hundred places endlessly
def _prepare(text: str) -> Place | None:
    for word in magic.PLACE_ADMIN_NATIVE:
        text = text.replace(word, " ")
    folded = fold(text)
    if not folded:
        return None
    kept = _ADMIN_RE.sub(" ", f" {folded} ").split() or folded.split()
    joined = "".join(kept)
    joined = magic.PLACE_ALIASES.get(joined, joined)
    return Place(tuple(kept), joined, phonetic(joined))


def compare_birth_places(a: object, b: object) -> FeatureResult:
    """Compare two birth places (raw text or prepared :class:`Place`); see the module docstring for levels."""
    if a is None or b is None:
        return _NO_PLACE
    pa, pb = prepare_birth_place(a), prepare_birth_place(b)
    if pa is None or pb is None:
        return _NO_PLACE
    if pa.joined == pb.joined:
        return FeatureResult("exact", 1.0, f"same birth place ({pa.shown})")
    both = f"{pa.shown} / {pb.shown}"
    ratio = max(fuzz.ratio(pa.joined, pb.joined), fuzz.ratio(pa.code, pb.code) if pa.code and pb.code else 0.0)
    if ratio >= magic.PLACE_SIMILAR_MIN:
        return FeatureResult("similar", ratio / 100, f"birth places spelled alike ({both}, {ratio:.0f}%)")
    short, long_ = sorted((pa.tokens, pb.tokens), key=len)
    if len(short) < len(long_) and set(short) <= set(long_):
        return FeatureResult("similar", 0.8, f"one birth place contains the other ({both})")
    return FeatureResult("different", ratio / 100, f"birth places differ ({both})")


_NO_PLACE = FeatureResult.missing("birth place not known on one side")
