"""Which parts of two names agree, when the name feature says only "strong" or "weak".

The name feature (``names.compare_names``) answers one level for the best pair of names. Two of its levels
mix cases that mean different things for identity:

* "strong" holds both "every part sounds the same" (Somchai / Somchay) and "the shorter name's parts all
  sound the same, the longer has more" (Kim San / Kim San Pich): another person often carries one more
  given name than a namesake or a relative;
* "weak" holds "a one-part name is one of the other's parts" (Dara / Sok Dara), "one part agrees and the
  other parts are different names" (Yi Vichhea / Yi Pich: siblings share the family name, not the given
  name) and "parts are only spelled closely" (a distant transliteration).

``compare_name_parts`` tells these apart; it is a refinement, so for any other name level it answers
MISSING (weight 0) and the name feature alone speaks. Its weights are trained like every feature's, on the
pairs where it has a level, so they say how much the finer case adds to or takes from "strong" or "weak".
It uses only the prepared name keys: folded tokens and their phonetic codes (two tokens "sound the same"
exactly when ``names`` would call them so: equal spellings or equal codes).
"""

from __future__ import annotations

from collections import Counter

from .names import NameKey, compare_names
from .types import MISSING, FeatureResult

# Levels, strongest first: the refinements of "strong", then those of "weak".
SAME_PARTS = "same_parts"          # strong: every part has a partner that sounds the same, none left over
EXTRA_PART = "extra_part"          # strong: the longer name has parts the shorter lacks
CONTAINED = "contained"            # weak: a name of one part is a part of the other name
PART_DIFFERS = "part_differs"      # weak: a part agrees, another part on each side has no partner
CLOSE_ONLY = "close_only"          # weak: no part sounds the same, parts or whole names are only spelled closely
NAME_PART_LEVELS = (SAME_PARTS, EXTRA_PART, CONTAINED, PART_DIFFERS, CLOSE_ONLY, MISSING)
# The name level each group refines (model.Feature.groups: m and u are estimated within each group).
NAME_PART_GROUPS = ((SAME_PARTS, EXTRA_PART), (CONTAINED, PART_DIFFERS, CLOSE_ONLY))

_NOT_REFINED = FeatureResult.missing("names agree or disagree clearly: no refinement")


def _keys(keys: list[NameKey]) -> list[NameKey]:
    """Every key with its spelling variants (Thai royin), as the name feature compares them."""
    return [v for k in keys for v in (k, *k.variants)]


def _unmatched(a: NameKey, b: NameKey) -> tuple[int, int]:
    """Parts of ``a`` and of ``b`` left without a partner that sounds the same (multiset of phonetic codes)."""
    ca, cb = Counter(a.codes), Counter(b.codes)
    common = sum((ca & cb).values())
    return len(a.codes) - common, len(b.codes) - common


def compare_name_parts(a: list[NameKey], b: list[NameKey], name_level: str | None = None) -> FeatureResult:
    """Refine a "strong" or "weak" name agreement by which parts agree; MISSING for other name levels.

    ``name_level`` is the name feature's level for the same pair when the caller has it (the model passes
    it); without it the names are compared here."""
    if not a or not b:
        return _NOT_REFINED
    level = compare_names(a, b).level if name_level is None else name_level
    if level not in ("strong", "weak"):
        return _NOT_REFINED
    best: tuple[int, int] | None = None  # (left over on the side with more, on the side with fewer), smallest
    for ka in _keys(a):
        for kb in _keys(b):
            ua, ub = _unmatched(ka, kb)
            if ua == len(ka.codes) or ub == len(kb.codes):  # no part sounds the same
                continue
            candidate = (max(ua, ub), min(ua, ub))
            if best is None or candidate[::-1] < best[::-1]:
                best = candidate
    if level == "strong":
        if best is not None and best == (0, 0):
            return FeatureResult(SAME_PARTS, 1.0, "every name part has a partner that sounds the same")
        return FeatureResult(EXTRA_PART, 0.8, "one name has parts the other lacks")
    if best is None:
        return FeatureResult(CLOSE_ONLY, 0.3, "no name part sounds the same; spelled closely only")
    if best[1] == 0:
        return FeatureResult(CONTAINED, 0.5, "one name is a part of the other")
    return FeatureResult(PART_DIFFERS, 0.2, "a name part agrees, other parts differ on both sides")
