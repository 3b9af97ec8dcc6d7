"""Name normalisation that survives hostile input: the comparison form of a name.

``fold(text)`` turns any name into lower-case ASCII tokens separated by single spaces:

1. NFKC (fullwidth and mathematical letters become ASCII), input capped at ``NAME_INPUT_MAX`` characters;
2. mis-decoded UTF-8 repaired by ftfy ("NguyÃªn" -> "Nguyên", seen in real partner exports);
   default-ignorable code points (U+200B which NFKC keeps, ZWJ/ZWNJ, soft hyphen, U+2060, BOM, variation
   selectors...), bidi controls (U+202A-202E, U+2066-2069) and other control/format characters removed;
3. split into tokens on anything that is not a letter or a combining mark (apostrophes join: O'Neil -> oneil);
4. per token, by script: Latin look-alikes from Cyrillic/Greek/... folded to Latin (Unicode TR39 confusables,
   see ``_confusable_map``) when the token mixes them with Latin or consists only of look-alikes; Khmer and
   Thai romanised by ``matching.translit``; Latin with diacritics (Vietnamese) reduced to ASCII, with
   Đ/đ (U+0110/U+0111) and the eth Ð (U+00D0) both -> d; other scripts by anyascii;
5. honorifics dropped (``matching.magic.NAME_TITLES_LATIN``): only the first token(s), only when something remains.
   "Anh", "Chi", "Co", "Ba", "Ong" are Vietnamese titles *and* given names, so they are dropped only when at
   least two tokens remain ("Anh Nguyen Van Dung" -> "nguyen van dung", but "Anh Dung" stays).

``problems(text)`` says in words what was suspicious (bidi controls, invisible characters, look-alikes,
mixed scripts): the lenient matcher folds these away, the register refuses or reviews them. No message
contains any part of the name.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from functools import lru_cache
from importlib import resources

import regex
from anyascii import anyascii
from ftfy import fix_encoding
from ftfy.badness import is_bad

from . import magic, translit

_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
# Default_Ignorable_Code_Point (DerivedCoreProperties.txt) ranges; Cf characters are removed as well.
_IGNORABLE_RE = regex.compile(
    r"[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    r"\u3164\ufe00-\ufe0f\ufeff\uffa0\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff\p{Cf}]"
)
_CONTROL_RE = regex.compile(r"\p{Cc}")
_SPACE_RE = regex.compile(r"[\t\n\r\v\f\x1c-\x1f\x85]")
# Mis-decoded UTF-8 shows a lead byte read as a Latin-1/cp125x letter followed by a continuation byte read
# as a Latin-1 symbol, a Latin Extended letter or cp1252 punctuation; only such text goes to ftfy's detector.
_MAYBE_MOJIBAKE_RE = regex.compile(
    r"[\xc2-\xf4\u0100-\u017f][\x80-\xbf\u0100-\u02ff\u2013-\u203a\u20ac\u2122]"
)
# A token is a run of letters and marks; apostrophes inside a name are dropped (they join the token).
_TOKEN_RE = regex.compile(r"[\p{L}\p{M}]+(?:['\u2019\u02bc][\p{L}\p{M}]+)*")
_APOSTROPHES = str.maketrans("", "", "'\u2019\u02bc")
_SCRIPTS = ("Latn", "Khmr", "Thai", "Laoo", "Mymr", "Cyrl", "Grek", "Arab", "Hebr", "Hani", "Hira", "Kana",
            "Hang", "Deva", "Armn", "Geor", "Ethi")
_SCRIPT_RE = regex.compile("|".join(f"(?P<{s}>\\p{{sc={s}}})" for s in _SCRIPTS) + r"|(?P<Zzzz>\p{L})")
_CACHE_SIZE = 1 << 18  # distinct names and tokens kept folded; an index holds ~1M names
_TITLE_STARTS = frozenset(title[0] for title in magic.NAME_TITLES_LATIN)
_DOTLESS = str.maketrans({"\u0110": "d", "\u0111": "d", "\u00d0": "d", "\u00f0": "d"})


def script_of(text: object) -> str:
    """ISO 15924 code of the letters in ``text``: one script, "Mixed", or "Zyyy" when it has no letters.

    Combining marks and digits are not counted; letters of a script not in the list count as "Zzzz".
    """
    found = _scripts(text if isinstance(text, str) else "")
    if not found:
        return "Zyyy"
    return next(iter(found)) if len(found) == 1 else "Mixed"


def _scripts(text: str) -> dict[str, None]:
    """Scripts of the letters of ``text`` in order of first appearance (Khmer/Thai marks count too)."""
    if text.isascii():
        return {"Latn": None} if any(ch.isalpha() for ch in text) else {}
    found: dict[str, None] = {}
    for m in _SCRIPT_RE.finditer(text):
        found.setdefault(m.lastgroup or "Zzzz", None)
    return found


def clean(text: object) -> str:
    """Capped, mojibake repaired, NFKC, ignorables, bidi and format controls removed, line breaks and tabs
    as spaces, other control characters (NUL...) removed."""
    if not isinstance(text, str):
        return ""
    text = text[: magic.NAME_INPUT_MAX]
    if text.isascii() and text.isprintable():
        return text
    text = unicodedata.normalize("NFKC", _repair(text))
    text = _IGNORABLE_RE.sub("", text)
    return _CONTROL_RE.sub("", _SPACE_RE.sub(" ", text))


def _repair(text: str) -> str:
    """UTF-8 that a partner system decoded as Latin-1/cp1252 ("NguyÃªn" for "Nguyên") made whole (ftfy)."""
    if _MAYBE_MOJIBAKE_RE.search(text) and is_bad(text):
        return fix_encoding(text)
    return text


def problems(text: object) -> list[str]:
    """What a strict reader should know about ``text`` (never any of its characters)."""
    if not isinstance(text, str):
        return ["not text"]
    out: list[str] = []
    if len(text) > magic.NAME_INPUT_MAX:
        out.append("too long: truncated")
    if _repair(text[: magic.NAME_INPUT_MAX]) != text[: magic.NAME_INPUT_MAX]:
        out.append("mis-decoded text repaired")
    nfkc = unicodedata.normalize("NFKC", text)
    if any(ch in _BIDI for ch in nfkc):
        out.append("bidi control stripped")
    if _IGNORABLE_RE.search("".join(ch for ch in nfkc if ch not in _BIDI)):
        out.append("invisible characters stripped")
    if _CONTROL_RE.search(nfkc):
        out.append("control characters stripped")
    scripts = [s for s in _scripts(clean(text))]
    if len(scripts) > 1:
        out.append("mixed scripts " + "+".join(scripts))
    if "Zzzz" in scripts:
        out.append("letters of an unexpected script")
    conf = _confusable_map()
    if any(_needs_confusable_fold(tok, _scripts(tok)) for tok in _TOKEN_RE.findall(clean(text))
           if any(ch in conf for ch in tok)):
        out.append("look-alike characters folded")
    if not tokens(text):
        out.append("no usable name")
    return out


def fold(text: object) -> str:
    """Comparison form: lower-case ASCII tokens (where possible) separated by single spaces."""
    return " ".join(tokens(text))


def tokens(text: object) -> list[str]:
    """The folded tokens of a name, honorifics dropped. Never raises; [] when nothing is usable."""
    if not isinstance(text, str):
        return []
    return list(_tokens_raw(text[: magic.NAME_INPUT_MAX]))


def folded_tokens(text: object) -> tuple[str, ...]:
    """``tokens`` as the cached tuple itself (no copy): for callers that only read it."""
    if not isinstance(text, str):
        return ()
    return _tokens_raw(text[: magic.NAME_INPUT_MAX])


@lru_cache(maxsize=_CACHE_SIZE)
def _tokens_raw(text: str) -> tuple[str, ...]:
    return _tokens(clean(text))


@lru_cache(maxsize=_CACHE_SIZE)
def _tokens(text: str) -> tuple[str, ...]:
    out: list[str] = []
    # No token crosses white space (no space character is a letter, a mark or an apostrophe), so a name is
    # folded word by word, and a word seen before (registers reuse a small vocabulary) costs one lookup.
    for word in (text if text.isascii() else translit.strip_native_title(text)).split():
        out.extend(_word_tokens(word))
    return tuple(drop_titles(out))


@lru_cache(maxsize=_CACHE_SIZE)
def _word_tokens(word: str) -> tuple[str, ...]:
    """The folded tokens of one white-space-free word (shared string objects: a million names hold few)."""
    if word.isascii() and word.isalpha():  # the usual word, one Latin token: what the rules give, 5 times sooner
        return (sys.intern(word.lower()),)
    return _word_tokens_by_rule(word)


def _word_tokens_by_rule(word: str) -> tuple[str, ...]:
    return tuple(sys.intern(tok) for raw in _TOKEN_RE.findall(word)
                 for tok in _fold_token(raw.translate(_APOSTROPHES)).split())


@lru_cache(maxsize=_CACHE_SIZE)
def _fold_token(tok: str) -> str:
    scripts = _scripts(tok)
    if "Khmr" in scripts or "Thai" in scripts:
        return _ascii_lower(translit.to_latin(tok))
    if _needs_confusable_fold(tok, scripts):
        conf = _confusable_map()
        tok = "".join(_skeleton_char(ch, conf) for ch in tok)
    return _ascii_lower(tok)


def _ascii_lower(tok: str) -> str:
    tok = tok.casefold().translate(_DOTLESS)
    if tok.isascii():
        return "".join(ch for ch in tok if ch.isalpha())
    return "".join(ch for ch in anyascii(tok).lower() if ch.isalpha() or ch == " ")


def _needs_confusable_fold(tok: str, scripts: dict[str, None]) -> bool:
    """A token mixing Latin with look-alikes, or made only of Latin look-alikes (whole-script spoof)."""
    if len(scripts) > 1 and "Latn" in scripts:
        return True
    if scripts and not scripts.keys() & {"Latn", "Khmr", "Thai"}:
        conf = _confusable_map()
        return all(ch in conf or not ch.isalpha() for ch in tok)
    return False


def _skeleton_char(ch: str, conf: dict[str, str]) -> str:
    """TR39 prototype of one character; capital I-like letters (prototype "l") become "i" when their
    small form looks like "i" (Greek Ι, Cyrillic І), since names are compared case-folded."""
    out = conf.get(ch, ch)
    if out in ("l", "I") and conf.get(ch.casefold()) == "i":
        return "i"
    return out


def drop_titles(toks: list[str]) -> list[str]:
    """Drop honorifics at the start (see the module docstring for the rule on ambiguous ones)."""
    if not toks or toks[0] not in _TITLE_STARTS:
        return toks
    for title in magic.NAME_TITLES_LATIN:
        n = len(title)
        if tuple(toks[:n]) == title:
            need = 2 if title in magic.NAME_TITLES_AMBIGUOUS else 1
            if len(toks) - n >= need:
                return drop_titles(toks[n:])
            break
    return toks


@lru_cache(maxsize=1)
def _confusable_map() -> dict[str, str]:
    """Non-ASCII character -> ASCII letter it is confusable with, per Unicode TR39 confusables.txt.

    Read from the data that the confusable_homoglyphs package ships (its confusables.json is generated from
    confusables.txt); kept: characters whose homoglyphs include a single ASCII letter and that NFKC does not
    already fold (fullwidth and mathematical letters). Khmer and Thai characters are never folded.
    """
    data = json.loads(resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8"))
    out: dict[str, str] = {}
    for ch, glyphs in data.items():
        if len(ch) != 1 or ch.isascii() or unicodedata.normalize("NFKC", ch).isascii():
            continue
        if "\u0e00" <= ch <= "\u0e7f" or "\u1780" <= ch <= "\u17ff" or "\u19e0" <= ch <= "\u19ff":
            continue
        targets = [g["c"] for g in glyphs if len(g["c"]) == 1 and g["c"].isascii() and g["c"].isalpha()]
        if targets:
            out[ch] = targets[0]
    return out
