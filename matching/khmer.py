"""The Khmer romaniser used by ``matching.translit``: Khmer script to Latin, close to how names are written.

No library does it well (anyascii agrees with the written spelling for about 1 name in 20), so this
module has a small syllable-level romaniser driven by ``matching/data/khmer_romanization.json``:

* a word is cut into orthographic clusters: a base consonant (or independent vowel), its subscripts
  (COENG + consonant), a register shifter (MUUSIKATOAN -> 1st series, TRIISAP -> 2nd series), dependent
  vowels and signs (NIKAHIT, REAHMUK, BANTOC...);
* the consonant series (1st "a-series", 2nd "o-series") picks the vowel's spelling: ជា "chea" but ដា "da";
  a cluster's series is that of its non-sonorant member (ស្រី "srey" is 1st series);
* a consonant with a non-liquid subscript closes the previous syllable (ចន្ទ្រា "chan-trea"), a liquid
  subscript makes an onset cluster (ចក្រា "cha-kra"); a vowel-less consonant closes the syllable before it;
* a final followed by the same consonant aspirated is not written (បុប្ផា "bopha", លក្ខិណា "lakhena"),
  ch + ch gives "chh" (វិជ្ជា "vichhea"), a word-final subscript is silent except t + th -> "th" (រិទ្ធ "rith").

Whole words whose usual spelling is irregular (ដារា "Dara", not "darea") come from the known-names table
``matching/data/khmer_known_names.csv``, learned from the development data (see "Transliteration" in
docs/matching.md for accuracy on names held out of both the rules' tuning and that table).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from anyascii import anyascii

COENG, MUUSIKATOAN, TRIISAP, BANTOC, TOANDAKHIAT, ROBAT = "\u17d2", "\u17c9", "\u17ca", "\u17cb", "\u17cd", "\u17cc"
_VOWEL_SIGNS = {chr(c) for c in range(0x17B6, 0x17C6)} | {"\u17c6", "\u17c7", "\u17d0"}
_ASPIRATE_OF = {"b": "ph", "k": "kh", "t": "th", "ch": "chh", "d": "th", "p": "ph"}


@lru_cache(maxsize=1)
def _tables() -> dict[str, Any]:
    raw = resources.files("matching").joinpath("data/khmer_romanization.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(raw)
    return data


@dataclass(slots=True)
class _Cluster:
    base: str
    kind: str  # "cons", "indep" or "other"
    subs: list[str] = field(default_factory=list)
    shift: int = 0
    vowel: str = ""
    bantoc: bool = False
    silent: bool = False


@dataclass(slots=True)
class _Syllable:
    onset: str
    vowel: str  # vowel signs, "" for the inherent vowel; for an independent vowel its Latin text
    series: int
    indep: bool = False
    final: str = ""
    final_text: str = ""
    bantoc: bool = False
    shifted: bool = False


def _clusters(word: str) -> list[_Cluster]:
    consonants = _tables()["consonants"]
    independent = _tables()["independent"]
    out: list[_Cluster] = []
    chars = list(word)
    i = 0
    while i < len(chars):
        ch = chars[i]
        cur = out[-1] if out and out[-1].kind != "other" else None
        if ch in consonants:
            out.append(_Cluster(ch, "cons"))
        elif ch in independent:
            out.append(_Cluster(ch, "indep"))
        elif ch == COENG:
            if cur is not None and i + 1 < len(chars) and chars[i + 1] in consonants:
                cur.subs.append(chars[i + 1])
            i += 1
        elif cur is not None and ch == MUUSIKATOAN:
            cur.shift = 1
        elif cur is not None and ch == TRIISAP:
            cur.shift = 2
        elif cur is not None and ch in _VOWEL_SIGNS:
            cur.vowel += ch
        elif cur is not None and ch == BANTOC:
            cur.bantoc = True
        elif cur is not None and ch == TOANDAKHIAT:
            cur.silent = True
        elif ch == ROBAT or "\u17b4" <= ch <= "\u17dd":
            pass  # robat and other signs are not written in names
        else:
            out.append(_Cluster(anyascii(ch), "other"))
        i += 1
    return out


def _series(members: list[str], shift: int) -> int:
    if shift:
        return shift
    t = _tables()
    for cons in members:
        if cons not in t["sonorants"]:
            return int(t["consonants"][cons][2])
    return int(t["consonants"][members[0]][2]) if members else 1


def _syllables(clusters: list[_Cluster]) -> list[_Syllable | str]:
    t = _tables()
    liquids = set(t["liquids"])
    out: list[_Syllable | str] = []
    n = len(clusters)
    for idx, c in enumerate(clusters):
        last = idx == n - 1 or clusters[idx + 1].kind == "other"
        prev = out[-1] if out and isinstance(out[-1], _Syllable) else None
        if c.kind == "other":
            out.append(c.base)
            continue
        if c.kind == "indep":
            out.append(_Syllable("", t["independent"][c.base], 1, indep=True))
            continue
        if c.silent:
            continue
        can_close = prev is not None and not prev.final and not prev.vowel.endswith(("\u17c6", "\u17c7"))
        members = [c.base, *c.subs]
        if prev is not None and not prev.final and prev.vowel.endswith("\u17c6") and c.base == "ង" \
                and not c.vowel and len(prev.vowel) > 1:
            prev.vowel, can_close = prev.vowel[:-1], True  # ាំង is written "eang"/"ang", not "eamng"
        nxt = clusters[idx + 1] if not last else None
        # A bare consonant before a final (the last consonant, or one whose base will close a syllable)
        # starts its own syllable: កុសល "ko-sal", សុផល "so-phal", not "kos-lo".
        starts = nxt is not None and nxt.kind == "cons" and (
            (not nxt.vowel and idx + 1 == n - 1) or (bool(nxt.subs) and nxt.subs[0] not in liquids))
        if prev is not None and can_close and not c.vowel:
            if c.subs and c.subs[0] not in liquids and not last:
                prev.final, prev.bantoc, members = c.base, c.bantoc, c.subs
            elif last or c.bantoc or ((prev.vowel or prev.indep) and not starts):
                prev.final, prev.bantoc = c.base, c.bantoc
                if c.base in "ទតដ" and c.subs and c.subs[0] in "ធថឋ":
                    prev.final_text = "th"
                elif c.subs and c.subs[0] == c.base and c.base in "ណនមល":
                    prev.final_text = t["consonants"][c.base][1] * 2   # វណ្ណ "vann"
                continue
        elif prev is not None and can_close and last and c.vowel == "ិ" and not c.subs and prev.vowel \
                and not prev.indep:
            prev.final = c.base   # a Pali final i is not read: សុជាតិ "socheat"
            continue
        elif prev is not None and can_close and c.subs and c.subs[0] not in liquids:
            prev.final, prev.bantoc, members = c.base, False, c.subs
            if last and c.vowel == "ិ" and c.subs == [c.base]:
                continue          # nor after a doubled final: សម្បត្តិ "sambat(h)"
        out.append(_Syllable("".join(t["consonants"][m][0] for m in members), c.vowel,
                             _series(members, c.shift), shifted=c.shift == 1))
    return out


def _vowel_text(s: _Syllable, is_last: bool, after_a: bool = False) -> str:
    t = _tables()
    k = s.series - 1
    if s.indep:
        return s.vowel
    if s.bantoc and s.vowel in t["bantoc_vowels"]:
        return str(t["bantoc_vowels"][s.vowel][k])
    if s.vowel:
        pair = t["vowels"].get(s.vowel)
        if pair is None:  # an unusual sequence of signs: spell each
            return "".join(t["vowels"].get(v, ["", ""])[k] for v in s.vowel)
        if s.vowel == "ី" and k == 1 and is_last and not s.final:
            # name spellings: Serey, Borey after r but Theary after a; Rithy, Davy, Ly elsewhere; Yi
            if s.onset.endswith("r"):
                return "y" if after_a else "ey"
            return "i" if s.onset.endswith("y") else "y"
        if s.vowel == "ា" and k == 1 and s.onset == "y" and not s.bantoc:
            return "a"    # ចរិយា "Chariya": "yea" is written "ya"
        if s.vowel == "ឹ" and s.final == "ម":
            return "i"   # គឹម Kim, ឈឹម Chhim, ស៊ឹម Sim
        if not s.onset and pair[k].startswith("u"):
            return "o" + str(pair[k])   # អ៊ុក Ouk, អ៊ូច Ouch
        return str(pair[k])
    key = ("closed" if s.final else "open") + ("_inherent_last" if is_last else "_inherent_inner")
    return str(t[key][k])


def romanize(word: str) -> str:
    """Romanise Khmer text (one or more words; spaces kept), lower case."""
    t = _tables()
    parts: list[str] = []
    for chunk in word.split():
        sylls = _syllables(_clusters(chunk))
        texts: list[str] = []
        for i, s in enumerate(sylls):
            if isinstance(s, str):
                texts.append(s)
                continue
            is_last = i == len(sylls) - 1
            final = s.final_text or (t["consonants"][s.final][1] if s.final else "")
            nxt = sylls[i + 1] if not is_last else None
            onset = "p" if s.onset == "b" and s.shifted else s.onset   # ប៉ is read p: ប៉ែន "Pen"
            if isinstance(nxt, _Syllable) and final and _ASPIRATE_OF.get(final) and \
                    nxt.onset.startswith(_ASPIRATE_OF[final]):
                final = ""
            if final == "ch" and isinstance(nxt, _Syllable) and nxt.onset == "ch":
                final, nxt.onset = "", "chh"
            if final in ("nh", "ng") and isinstance(nxt, _Syllable) and nxt.onset == final:
                final = ""    # បញ្ញា "banhea", not "banhnhea"
            after_a = bool(texts) and texts[-1].endswith("a")
            texts.append(onset + _vowel_text(s, is_last, after_a) + final)
        parts.append("".join(texts))
    return " ".join(p for p in parts if p)


@lru_cache(maxsize=1)
def _known_khmer() -> dict[str, str]:
    """Khmer word -> its usual Latin spelling, for names the rules get wrong."""
    raw = resources.files("matching").joinpath("data/khmer_known_names.csv").read_text(encoding="utf-8")
    return {row["khmer"]: row["latin"].lower() for row in csv.DictReader(io.StringIO(raw))}


def khmer_to_latin(text: str, known: bool = True) -> str:
    """Khmer text to Latin, word by word (``known=False`` uses the rules alone, for measuring them)."""
    table = _known_khmer() if known else {}
    return " ".join(table.get(word) or romanize(word) for word in text.split())
