"""Prepared name keys, a phonetic code for South-East Asian romanisations, and the name feature.

``name_key`` turns one canonical name object ({"family", "given", "full", "script", "kind"}) into a
``NameKey`` once per record; ``compare_names`` then compares the keys of two records, best over every pair
of names (aliases against aliases), without caring about token order (Khmer and Vietnamese write the family
name first, Thai the given name first). The result is one of ``NAME_LEVELS`` with a short detail.

How two names agree, strongest first (see ``_compare_pair`` and the thresholds in ``matching.magic``):
* exact    the same tokens, in any order, or the same letters split differently ("Sokha" / "Sok Ha");
* strong   every token of the shorter name has an equal or phonetically equal partner ("Somchai" /
           "Somchay"), the longer name may have one extra (middle) name;
* fuzzy    every token of the shorter name has a close partner (Jaro-Winkler and OSA edit distance),
           or an initial stands for a token ("S. Dara" / "Sok Dara");
* weak     at least one token agrees, or the names are loosely similar as a whole;
* disagree nothing agrees. ``MISSING`` (matching.types) when either side has no usable name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import regex
from rapidfuzz.distance import OSA, JaroWinkler

from . import magic
from .normalize import fold, folded_tokens, script_of
from .translit import thai_alternative
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
    (r"[dCs]$", "t"), (r"b$", "p"),          # Thai finals ch/j/s/d are all read t ("jakkris" / "chakkrit")
    (r"y(?=[aeiou])", "J"),                  # y before a vowel is a consonant ("yos", "maya")
    (r"(.)\1+", r"\1"),
]
_VOWELS = regex.compile(r"[aeiouy]+")
_RULES = [(regex.compile(p), r) for p, r in _CONSONANTS]
# The same rules written out for the usual input, lower-case ASCII letters (a folded token or a joined name),
# in the standard library's ``re`` (cheaper per call than ``regex``, identical on these patterns), each run
# only when what it needs is in the text (see ``_phonetic_letters``). ``tests/test_matching_names.py`` checks
# that both give the same code (every string of up to three letters, and random longer ones).
_R = [re.compile(p) for p, _ in _CONSONANTS]
_VOWEL_RUNS = re.compile(r"([aeiouy]+)")


def _group1(m: re.Match[str]) -> str:
    return m.group(1)


def _vowel_class(group: str) -> str:
    """Vowel groups that romanisers swap: a/aa; e/i/ey/ai/ea/ie; o/u/ou/ao/oe/eu... (one letter each)."""
    if set(group) == {"a"}:
        return "a"
    if group[0] in "ou" or group in ("ao", "au", "eu", "oeu", "eou", "eo", "ue", "ua", "uo", "aeu"):
        return "o"
    return "e"


@lru_cache(maxsize=4096)
def _vowel_class_cached(group: str) -> str:
    return _vowel_class(group)


@lru_cache(maxsize=magic.TRANSLIT_CACHE_SIZE)
def phonetic(token: str) -> str:
    """Phonetic code of one folded token: equal codes mean "sounds the same" in SE Asian romanisations."""
    code = token.lower()
    if not code.isascii():
        code = fold(code).replace(" ", "")
    if code.isalpha():  # the usual case (a folded token or joined name): cheaper, same result
        return _phonetic_letters(code)
    for pattern, repl in _RULES:
        code = pattern.sub(repl, code)
    return _VOWELS.sub(lambda m: _vowel_class(m.group(0)), code)


def _phonetic_letters(c: str) -> str:
    """``phonetic`` of lower-case ASCII letters: the rules of ``_CONSONANTS`` in order, each skipped when the
    text lacks what it needs to match (no line break can occur, so ``$`` is the end of the text)."""
    r = _R
    c = r[0].sub(_group1, c)                                       # double letters
    if "c" in c or "j" in c:
        c = r[1].sub("C", c)                                       # tch|chh|ch|j|c(?=[eiy])|tj
    if "sh" in c or "x" in c or "z" in c:
        c = r[2].sub("s", c)
    if "ph" in c or "f" in c or "bh" in c:
        c = r[3].sub("p", c)
    if "th" in c or "dh" in c:
        c = r[4].sub("t", c)
    if "h" in c or "c" in c or "q" in c:
        c = r[5].sub("k", c)                                       # kh|gh|ck|q|c
    if "ng" in c or "gn" in c:
        c = r[6].sub("N", c)
    if "nh" in c or "ny" in c:
        c = r[7].sub("Y", c)
    c = c.replace("g", "k").replace("w", "v")
    if "r" in c:
        c = r[10].sub("", c)                                       # r after a vowel, before a consonant or end
    if "h" in c:
        c = r[12].sub("", r[11].sub("", c))                        # silent h, then any h after the first letter
    if c[-1:] == "l":
        c = r[13].sub("n", c)
    if c[-1:] in ("d", "C", "s"):
        c = c[:-1] + "t"
    elif c[-1:] == "b":
        c = c[:-1] + "p"
    if "y" in c:
        c = r[16].sub("J", c)                                      # y before a vowel
    c = r[17].sub(_group1, c)
    parts = _VOWEL_RUNS.split(c)
    parts[1::2] = [_vowel_class_cached(group) for group in parts[1::2]]
    return "".join(parts)


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
    # Other spellings of the same written name (Thai: the royin rule engine besides the model), compared
    # and blocked on as if they were aliases.
    variants: tuple[NameKey, ...] = ()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def name_key(name: Any) -> NameKey | None:
    """The key of a canonical name object; None when nothing usable (never raises on messy input).

    "full" is used when present; otherwise family then given. A bare string is read as a full name."""
    if isinstance(name, str):
        name = {"full": name}
    if not isinstance(name, dict):
        return None
    full = _first_words(_text(name.get("full")))
    text, toks = full, folded_tokens(full)
    if not toks:
        text = _first_words(" ".join(_text(name.get(k)) for k in ("family", "given")))
        toks = folded_tokens(text)
    script = _text(name.get("script")) or script_of(text)
    kind = _text(name.get("kind")) or "primary"
    key = _key(toks[: magic.NAME_MAX_TOKENS], script[:8], kind[:20])
    if key is None:
        return None
    alternative = thai_alternative(text)
    if alternative:
        variant = _key(folded_tokens(alternative)[: magic.NAME_MAX_TOKENS], key.script, "transliteration")
        if variant is not None and variant.tokens != key.tokens:
            key = replace(key, variants=(variant,))
    return key


def _first_words(text: str) -> str:
    """At most twice NAME_MAX_TOKENS words (titles may go first): a hostile 500-word Thai "name" must not
    make the Thai model spell every word."""
    words = text.split(maxsplit=2 * magic.NAME_MAX_TOKENS)
    return " ".join(words[: 2 * magic.NAME_MAX_TOKENS])


@lru_cache(maxsize=1 << 17)
def _key(toks: tuple[str, ...], script: str, kind: str) -> NameKey | None:
    """The key of folded tokens, cached: records with the same name share one key object (memory, time)."""
    if not toks:
        return None
    joined = "".join(toks)
    # The joined form of a new name is new too: coded without the cache, which keeps the tokens' codes.
    return NameKey(toks, joined, script, kind, tuple(phonetic(t) for t in toks), tuple(sorted(toks)),
                   phonetic.__wrapped__(joined))


@lru_cache(maxsize=1 << 18)
def _token_sim(a: str, b: str) -> float:
    """Similarity of two tokens in [0, 1]: 1 equal, PHONETIC_SIM for equal phonetic codes, else the mean of
    Jaro-Winkler and normalised OSA distance (Levenshtein counting a swap of neighbours as one edit: "minh" /
    "mihn"), on the spelling or on the phonetic code; JW alone is too generous to short tokens ("an" / "anh")."""
    if a == b:
        return 1.0
    if phonetic(a) == phonetic(b):
        return magic.NAME_PHONETIC_SIM
    if len(a) == 1 or len(b) == 1:
        return magic.NAME_INITIAL_SIM if a[0] == b[0] else 0.0
    text = (JaroWinkler.similarity(a, b) + OSA.normalized_similarity(a, b)) / 2
    ca, cb = phonetic(a), phonetic(b)
    if ca[:1] == cb[:1]:  # codes that start differently are not variants of one another
        sound = (JaroWinkler.similarity(ca, cb) + OSA.normalized_similarity(ca, cb)) / 2
        text = max(text, sound)
    return min(text, magic.NAME_PHONETIC_SIM - 0.01)


def _merge_split(short: tuple[str, ...], other: tuple[str, ...]) -> tuple[str, ...]:
    """Join neighbours of ``other`` that are written as one token in ``short`` ("sok ha" -> "sokha")."""
    out: list[str] = []
    i = 0
    while i < len(other):
        if i + 1 < len(other) and other[i] + other[i + 1] in short:
            out.append(other[i] + other[i + 1])
            i += 2
        else:
            out.append(other[i])
            i += 1
    return tuple(out)


def _align(a: tuple[str, ...], b: tuple[str, ...]) -> list[float]:
    """One-to-one alignment of the shorter name's tokens to the longer's (greedy, best pair first; exact
    for two tokens a side, the usual case); the similarities of the aligned pairs."""
    if len(a) > len(b):
        a, b = b, a
    if len(a) == 1:
        return [max(_token_sim(a[0], y) for y in b)]
    if len(a) == 2 and len(b) == 2:
        s00, s11, s01, s10 = (_token_sim(a[0], b[0]), _token_sim(a[1], b[1]),
                              _token_sim(a[0], b[1]), _token_sim(a[1], b[0]))
        return [s00, s11] if s00 + s11 >= s01 + s10 else [s01, s10]
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


# Why a pair of names got its level, in words for the liaison officer (the names follow in brackets).
_DETAILS = ("same name", "same names in other order", "same name, split differently", "names sound the same",
            "names sound the same, one has more names", "an initial stands for a name", "names spelled closely",
            "{agree} of {total} name parts agree", "a name part spelled closely", "names loosely similar",
            "names differ")
_PHON, _CLOSE, _INITIAL = magic.NAME_PHONETIC_SIM, magic.NAME_TOKEN_CLOSE, magic.NAME_INITIAL_SIM


def _compare_pair(a: NameKey, b: NameKey) -> tuple[int, float, int, int, int]:
    """(level rank, score, detail index, tokens agreeing, tokens in the longer name) for two names."""
    return _compare_spellings(a.tokens, a.sorted_tokens, a.joined, b.tokens, b.sorted_tokens, b.joined)


@lru_cache(maxsize=1 << 16)
def _compare_spellings(ta: tuple[str, ...], sa: tuple[str, ...], ja: str, tb: tuple[str, ...], sb: tuple[str, ...],
                       jb: str) -> tuple[int, float, int, int, int]:
    """``_compare_pair`` on what it reads of the two keys (tokens, sorted tokens, joined), cached: a pair of
    names is often compared again (a second feature reading the name level, a border post screening the
    same traveller again, namesakes)."""
    if sa == sb:
        return 0, 1.0, 0 if ta == tb else 1, 0, 0
    if ja == jb:
        return 0, 1.0, 2, 0, 0
    if len(ta) != len(tb):
        ta, tb = _merge_split(tb, ta), _merge_split(ta, tb)
    sims = _align(ta, tb)
    n, total = len(sims), max(len(ta), len(tb))
    extra = total - n
    low, high, mean = min(sims), max(sims), sum(sims) / n
    if extra == 0 or n >= 2:
        if low >= _PHON:
            return 1, mean, 4 if extra else 3, 0, 0
        if low >= _CLOSE:
            initials = sims.count(_INITIAL)
            if initials <= 1:
                return 2, mean, 5 if initials else 6, 0, 0
    if high >= _PHON:
        return 3, mean, 7, sum(1 for s in sims if s >= _PHON), total
    if high >= _CLOSE:
        return 3, mean, 8, 0, 0
    whole = JaroWinkler.similarity(ja, jb)
    if whole >= magic.NAME_WHOLE_WEAK:
        return 3, whole, 9, 0, 0
    return 4, mean, 10, 0, 0


def _shown(key: NameKey) -> str:
    text = " ".join(key.tokens)
    return text if len(text) <= magic.NAME_DETAIL_CHARS else text[: magic.NAME_DETAIL_CHARS - 1] + "…"


def with_variants(keys: list[NameKey]) -> list[NameKey]:
    """The names with, after each, its other spellings (``NameKey.variants``); ``keys`` itself when none has any."""
    for key in keys:
        if key.variants:
            return [v for k in keys for v in (k, *k.variants)]
    return keys


def compare_names(a: list[NameKey], b: list[NameKey]) -> FeatureResult:
    """The name feature: the best agreement over every pair of names of the two records (aliases included).

    The detail names the two folded names that agreed best, e.g. "same names in other order (sok dara /
    dara sok)": it is meant for the liaison officer reviewing the match, never for logs."""
    if not a or not b:
        return FeatureResult.missing("no usable name on one side")
    a, b = with_variants(a), with_variants(b)
    best: tuple[int, float, int, int, int] | None = None
    best_pair = (a[0], b[0])
    for ka in a:
        for kb in b:
            result = _compare_pair(ka, kb)
            if best is None or result[0] < best[0] or (result[0] == best[0] and result[1] > best[1]):
                best, best_pair = result, (ka, kb)
                if result[0] == 0:
                    break
        if best is not None and best[0] == 0:
            break
    assert best is not None
    rank, score, why, agree, total = best
    detail = _DETAILS[why].format(agree=agree, total=total)
    return FeatureResult(NAME_LEVELS[rank], round(score, 3),
                         f"{detail} ({_shown(best_pair[0])} / {_shown(best_pair[1])})")


def _skeleton(code: str) -> str:
    """A phonetic code without its vowels after the first letter ("Cakrapan" -> "Ckrpn")."""
    return code[:1] + _VOWELS.sub("", code[1:])


def blocking_tokens(key: NameKey, prefix: str = "") -> set[str]:
    """Keys the candidate index blocks on, so that differently romanised or misspelled names still share one:

    * ``p:`` the phonetic code of each token (codes shorter than NAME_BLOCK_MIN_CODE are not selective);
    * ``j:`` the phonetic code of the joined name (split/joined writing, one-token names);
    * ``s:`` the first three consonants of each token's code (vowel differences: "jaruwun" / "charuwan");
    * ``x:`` the first four characters of each code (endings that differ: "chakkrit" / "chakkris").

    Each key starts with ``prefix`` (the index files them under "n:").
    """
    out = {prefix + "j:" + key.joined_code}
    for variant in key.variants:
        out |= blocking_tokens(variant, prefix)
    for code in key.codes:
        out.update(_code_tokens(code, prefix))
    return out


@lru_cache(maxsize=1 << 16)
def _code_tokens(code: str, prefix: str) -> tuple[str, ...]:
    """The ``p:``, ``s:`` and ``x:`` keys of one token's code (cached: a population reuses its tokens)."""
    if len(code) < magic.NAME_BLOCK_MIN_CODE:
        return ()
    out = [prefix + "p:" + code]
    skeleton = _skeleton(code)
    if len(skeleton) >= 3:
        out.append(prefix + "s:" + skeleton[:3])
    if len(code) >= 4:
        out.append(prefix + "x:" + code[:4])
    return tuple(out)


__all__ = ["MISSING", "NAME_LEVELS", "NameKey", "blocking_tokens", "compare_names", "name_key", "phonetic"]
