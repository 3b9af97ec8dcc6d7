"""Khmer and Thai script to Latin letters, close to how people actually write their names.

``to_latin(text, script=None)`` is the one entry point (cached: the index transliterates a million names).

Thai: pythainlp's ``thai2rom_onnx`` engine (a seq2seq model that ships inside the pythainlp wheel and runs
on onnxruntime; nothing is downloaded), about 4 in 5 names equal to their RTGS spelling; its ``royin``
rule engine is the fallback when onnxruntime cannot load.

Khmer: ``matching.khmer`` (a syllable-level romaniser with a table of known names).
Other scripts are passed to ``anyascii``; Latin text is returned unchanged.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from anyascii import anyascii

from . import magic
from .khmer import khmer_to_latin, romanize

__all__ = ["khmer_to_latin", "romanize", "strip_native_title", "thai_alternative", "thai_to_latin", "to_latin"]


@lru_cache(maxsize=1)
def _thai_engine() -> Any:
    """pythainlp's romanize function with the configured engine (TRANSLIT_THAI_ENGINE); royin, a rule
    engine with no model, when the configured one cannot load."""
    from pythainlp.transliterate import romanize as thai_romanize

    engine = magic.TRANSLIT_THAI_ENGINE
    try:
        thai_romanize("ก", engine=engine)
    except Exception:  # model or runtime unavailable: the rule engine still gives usable keys
        engine = "royin"
    return lambda word: thai_romanize(word, engine=engine)


def thai_to_latin(text: str) -> str:
    """Thai text to Latin, word by word (spaces kept; Thai names are written with spaces between parts)."""
    return " ".join(_thai_word_cached(w[: magic.TRANSLIT_MAX_WORD]) for w in text.split())


@lru_cache(maxsize=magic.TRANSLIT_CACHE_SIZE)
def _thai_word_cached(word: str) -> str:
    return str(_thai_engine()(word)).lower()


@lru_cache(maxsize=magic.TRANSLIT_CACHE_SIZE)
def _thai_word_royin(word: str) -> str:
    from pythainlp.transliterate import romanize as thai_romanize

    try:
        return str(thai_romanize(word, engine="royin")).lower()
    except Exception:  # the rule engine failing on odd input must not lose the name
        return ""


def thai_alternative(text: str) -> str:
    """A second Latin spelling of text holding Thai, by the ``royin`` rule engine (Thai runs only, the rest
    kept), or "" when there is no Thai or it spells the same as ``to_latin``. The model and the rules err on
    different names: offering both to the matcher recovers about half of the Thai pairs the model misses."""
    if not isinstance(text, str) or text.isascii():  # most names: no Thai, and nothing to cache
        return ""
    return _thai_alternative(text)


@lru_cache(maxsize=magic.TRANSLIT_CACHE_SIZE)
def _thai_alternative(text: str) -> str:
    if not any("\u0e00" <= ch <= "\u0e7f" for ch in text[: magic.NAME_INPUT_MAX]):
        return ""
    text = strip_native_title(text[: magic.NAME_INPUT_MAX])
    out = "".join(" ".join(_thai_word_royin(w[: magic.TRANSLIT_MAX_WORD]) for w in run.split())
                  if code == "Thai" else run for code, run in _split_scripts(text))
    return "" if out == to_latin(text) else out


def strip_native_title(text: str) -> str:
    """Drop a Khmer or Thai honorific written before the name (Thai glues it on: "นายสมชาย"), when a name
    remains after it (``matching.magic.NAME_TITLES_NATIVE``, longest first)."""
    head = text.lstrip()
    for title in magic.NAME_TITLES_NATIVE:
        if head.startswith(title) and head[len(title):].strip():
            return head[len(title):].lstrip()
    return text


def _split_scripts(text: str) -> list[tuple[str, str]]:
    """Runs of Khmer, Thai and other characters, so mixed text is transliterated piece by piece."""
    runs: list[tuple[str, str]] = []
    for ch in text:
        code = "Khmr" if "\u1780" <= ch <= "\u17ff" or "\u19e0" <= ch <= "\u19ff" else (
            "Thai" if "\u0e00" <= ch <= "\u0e7f" else "Zyyy")
        if runs and runs[-1][0] == code:
            runs[-1] = (code, runs[-1][1] + ch)
        else:
            runs.append((code, ch))
    return runs


@lru_cache(maxsize=magic.TRANSLIT_CACHE_SIZE)
def to_latin(text: str, script: str | None = None) -> str:
    """Latin spelling of a name in Khmer or Thai script; Latin (Vietnamese included) is returned as is,
    other scripts go through anyascii. Mixed text is handled run by run. ``script="Latn"`` (ISO 15924)
    returns the text untouched; any other value is only a hint, each run's script is read from its letters.
    Input is cut at NAME_INPUT_MAX characters and Thai words at TRANSLIT_MAX_WORD."""
    if not isinstance(text, str) or not text:
        return ""
    text = text[: magic.NAME_INPUT_MAX]
    if script == "Latn":
        return text
    out: list[str] = []
    for code, run in _split_scripts(text):
        if code == "Khmr":
            out.append(khmer_to_latin(run))
        elif code == "Thai":
            out.append(thai_to_latin(run))
        else:
            out.append(run if _is_latin(run) else anyascii(run))
    return "".join(out)


def _is_latin(text: str) -> bool:
    """True when every letter is Latin (keep Vietnamese diacritics for the caller to fold)."""
    return all(not ch.isalpha() or ch.isascii() or "\u00c0" <= ch <= "\u024f" or "\u1e00" <= ch <= "\u1eff"
               for ch in text)
