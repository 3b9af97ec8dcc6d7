"""Prepared name keys, a phonetic code for South-East Asian romanisations, and the name feature.

``name_key`` turns one canonical name object ({"family", "given", "full", "script", "kind"}) into a
``NameKey`` once per record; ``compare_names`` then compares the keys of two records, best over every pair
of names (aliases against aliases), without caring about token order (Khmer and Vietnamese write the family
name first, Thai the given name first). The result is one of ``NAME_LEVELS`` with a short detail.

How two names agree, strongest first (see ``_levels`` and the thresholds in ``matching.magic``):
* exact    the same tokens, in any order, or the same letters split differently ("Sokha" / "Sok Ha");
* strong   every token of the shorter name has an equal or phonetically equal partner ("Somchai" /
           "Somchay"), the longer name may have one extra (middle) name;
* fuzzy    every token of the shorter name has a close partner (Jaro-Winkler and Levenshtein),
           or an initial stands for a token ("S. Dara" / "Sok Dara");
* weak     at least one token agrees, or the names are loosely similar as a whole;
* disagree nothing agrees. ``MISSING`` (matching.types) when either side has no usable name.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import regex
from rapidfuzz.distance import JaroWinkler, Levenshtein

from . import magic
from .normalize import fold, script_of
from .types import MISSING, FeatureResult

NAME_LEVELS = ("exact", "strong", "fuzzy", "weak", "disagree")
_RANK = {level: i for i, level in enumerate(NAME_LEVELS)}

# Phonetic rewriting, applied in order to a folded token. Written for how Khmer, Thai and Vietnamese names
# are romanised: aspirates (kh/k, th/t, ph/p/f, ch/j/c), Thai g for k, w for v, written length marks
# ("korn" / "kon"), final consonants that are one sound (g/k, d/t, b/p, l/n in Thai), vowel groups.
_CONSONANTS = [
    (r"(.)\1+", r"\1"),                      # double letters
    (r"tch|chh|ch|j|c(?=[eiy])|tj", "C"),     # ch / j / c (before e, i, y) are one sound
    (r"sh|x|z|ç", "s"),
    (r"ph|f|bh", "p"), (r"th|dh", "t"), (r"kh|gh|ck|q|c", "k"),
    (r"ng|gn", "N"), (r"nh|ny|ñ", "Y"),        # Vietnamese/Khmer nh is not n: "An" vs "Anh"
    (r"g", "k"), (r"w", "v"),
    (r"(?<=[aeiouy])r(?=[^aeiouy]|$)", ""),  # Thai "korn" / "kon", Khmer "cheurn" / "cheun"
    (r"(?<=[aeiouy])h(?=[^aeiouy]|$)", ""),  # silent h after a vowel ("sah" / "sa")
    (r"(?<=.)h", ""),                        # any other h after the first letter
    (r"(?<=[aeiouy])l$", "n"),               # Thai final l is read n ("kusumal" / "kusuman")
    (r"d$", "t"), (r"b$", "p"),
    (r"(.)\1+", r"\1"),
]
_VOWELS = regex.compile(r"[aeiouy]+")
_RULES = [(regex.compile(p), r) for p, r in _CONSONANTS]


def _vowel_class(group: str) -> str:
    """Vowel groups that romanisers swap: a/aa; e/i/ey/ai/ea/ie; o/u/ou/ao/oe/eu... (one letter each)."""
    if set(group) == {"a"}:
        return "a"
    if group[0] in "ou" or group in ("ao", "au", "eu", "oeu", "eou", "eo", "ue", "ua", "uo", "aeu"):
        return "o"
    return "e"


@lru_cache(maxsize=magic.TRANSLIT_CACHE_SIZE)
def phonetic(token: str) -> str:
    """Phonetic code of one folded token: equal codes mean "sounds the same" in SE Asian romanisations."""
    code = token.lower()
    if not code.isascii():
        code = fold(code).replace(" ", "")
    first_vowel = code[:1] if code[:1] in "aeiouy" else ""
    for pattern, repl in _RULES:
        code = pattern.sub(repl, code)
    code = _VOWELS.sub(lambda m: _vowel_class(m.group(0)), code)
    if first_vowel and code[:1] in "aeo":  # keep initial vowels comparable: "ouch" / "uch"
        code = "a" + code[1:]
    return code


@dataclass(frozen=True, slots=True)
class NameKey:
    """One name prepared for comparison: folded Latin tokens, joined form, script, kind, phonetic codes."""

    tokens: tuple[str, ...]
    joined: str
    script: str
    kind: str
    codes: tuple[str, ...]
    sorted_tokens: tuple[str, ...]
    joined_code: str


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def name_key(name: Any) -> NameKey | None:
    """The key of a canonical name object; None when nothing usable (never raises on messy input).

    "full" is used when present; otherwise family then given. A bare string is read as a full name."""
    if isinstance(name, str):
        name = {"full": name}
    if not isinstance(name, dict):
        return None
    full = _text(name.get("full"))
    text = full if fold(full) else " ".join(_text(name.get(k)) for k in ("family", "given"))
    toks = tuple(fold(text).split())[: magic.NAME_MAX_TOKENS]
    if not toks:
        return None
    script = _text(name.get("script")) or script_of(text)
    kind = _text(name.get("kind")) or "primary"
    joined = "".join(toks)
    return NameKey(toks, joined, script[:8], kind[:20], tuple(phonetic(t) for t in toks),
                   tuple(sorted(toks)), phonetic(joined))


@lru_cache(maxsize=1 << 16)
def _token_sim(a: str, b: str) -> float:
    """Similarity of two tokens in [0, 1]: 1 equal, PHONETIC_SIM for equal phonetic codes, else the mean of
    Jaro-Winkler and normalised Levenshtein (JW alone is too generous to short tokens: "an" / "anh")."""
    if a == b:
        return 1.0
    if phonetic(a) == phonetic(b):
        return magic.NAME_PHONETIC_SIM
    if len(a) == 1 or len(b) == 1:
        return magic.NAME_INITIAL_SIM if a[0] == b[0] else 0.0
    return (JaroWinkler.similarity(a, b) + Levenshtein.normalized_similarity(a, b)) / 2


def _merge_split(short: tuple[str, ...], other: tuple[str, ...]) -> tuple[str, ...]:
    """Join neighbours of ``other`` that are written as one token in ``short`` ("sok ha" -> "sokha")."""
    if len(other) < 2:
        return other
    wanted = set(short)
    out: list[str] = []
    i = 0
    while i < len(other):
        if i + 1 < len(other) and other[i] + other[i + 1] in wanted:
            out.append(other[i] + other[i + 1])
            i += 2
        else:
            out.append(other[i])
            i += 1
    return tuple(out)


def _align(a: tuple[str, ...], b: tuple[str, ...]) -> list[float]:
    """Greedy one-to-one alignment of the shorter name's tokens to the longer's; similarities, best first."""
    if len(a) > len(b):
        a, b = b, a
    pairs = sorted(((_token_sim(x, y), i, j) for i, x in enumerate(a) for j, y in enumerate(b)), reverse=True)
    used_a: set[int] = set()
    used_b: set[int] = set()
    sims: list[float] = []
    for sim, i, j in pairs:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            sims.append(sim)
    return sims


def _compare_pair(a: NameKey, b: NameKey) -> tuple[int, float, str]:
    if a.sorted_tokens == b.sorted_tokens:
        return _RANK["exact"], 1.0, "same name" if a.tokens == b.tokens else "same names in other order"
    if a.joined == b.joined:
        return _RANK["exact"], 1.0, "same name, split differently"
    ta, tb = _merge_split(b.tokens, a.tokens), _merge_split(a.tokens, b.tokens)
    sims = _align(ta, tb)
    extra = abs(len(ta) - len(tb))
    mean = sum(sims) / len(sims)
    initials = sum(1 for s in sims if s == magic.NAME_INITIAL_SIM)
    if min(sims) >= magic.NAME_PHONETIC_SIM and (extra == 0 or len(sims) >= 2):
        detail = "names sound the same" + (", one side has more names" if extra else "")
        return _RANK["strong"], mean, detail
    if min(sims) >= magic.NAME_TOKEN_CLOSE and initials <= 1 and (extra == 0 or len(sims) >= 2):
        if initials:
            return _RANK["fuzzy"], mean, "an initial stands for a name"
        return _RANK["fuzzy"], mean, "names spelled closely"
    if max(sims) >= magic.NAME_PHONETIC_SIM:
        agree = sum(1 for s in sims if s >= magic.NAME_PHONETIC_SIM)
        return _RANK["weak"], mean, f"{agree} of {max(len(ta), len(tb))} name parts agree"
    whole = JaroWinkler.similarity(a.joined, b.joined)
    if whole >= magic.NAME_WHOLE_WEAK:
        return _RANK["weak"], whole, "names loosely similar"
    return _RANK["disagree"], mean, "names differ"


def compare_names(a: list[NameKey], b: list[NameKey]) -> FeatureResult:
    """The name feature: the best agreement over every pair of names of the two records."""
    if not a or not b:
        return FeatureResult.missing("no usable name on one side")
    best = (len(NAME_LEVELS), -1.0, "")
    for ka in a:
        for kb in b:
            result = _compare_pair(ka, kb)
            if (result[0], -result[1]) < (best[0], -best[1]):
                best = result
                if result[0] == 0:
                    break
        if best[0] == 0:
            break
    rank, score, detail = best
    level = NAME_LEVELS[rank]
    return FeatureResult(level, round(score, 3), detail)


def blocking_tokens(key: NameKey) -> set[str]:
    """Keys the candidate index blocks on: the phonetic code of each token long enough to be selective,
    and of the joined name (catches split/joined writing and one-token names)."""
    out = {"p:" + code for code in key.codes if len(code) >= magic.NAME_BLOCK_MIN_CODE}
    out.add("j:" + key.joined_code)
    return out


__all__ = ["MISSING", "NAME_LEVELS", "NameKey", "blocking_tokens", "compare_names", "name_key", "phonetic"]
