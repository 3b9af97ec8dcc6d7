"""Sex, nationality and address: the weaker fields, compared leniently.

Each ``compare_*`` takes the raw values of two canonical person records (or, for speed, what the matching
``prepare_*`` helper here made of them once per record) and returns a :class:`FeatureResult` whose level
is one of the exported tuples. Nothing here raises on messy input: a value that cannot be read counts as
missing. Addresses in two different countries are not compared (people move, and a Thai record holds a
Thai address of a Cambodian): that is "missing", not a disagreement.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

import pycountry
from rapidfuzz import fuzz

from . import magic
from .types import MISSING, FeatureResult

SEX_LEVELS = ("same", "different", MISSING)
NATIONALITY_LEVELS = ("same", "overlap", "disjoint", MISSING)
ADDRESS_LEVELS = ("line", "locality", "region", "different", MISSING)

_SEX_WORDS = {"male": "male", "m": "male", "man": "male", "female": "female", "f": "female", "woman": "female"}


def compare_sex(a: object, b: object) -> FeatureResult:
    """"same" or "different" for male/female (also m/f); "unknown", None or anything else is missing."""
    if a is None or b is None:
        return _NO_SEX
    sa = _SEX_WORDS.get(a.strip().lower()) if isinstance(a, str) else None
    sb = _SEX_WORDS.get(b.strip().lower()) if isinstance(b, str) else None
    if sa is None or sb is None:
        return _NO_SEX
    if sa == sb:
        return FeatureResult("same", 1.0, f"both {sa}")
    return FeatureResult("different", 0.0, f"sex {sa} vs {sb}")


_NO_SEX = FeatureResult.missing("sex not known on one side")


@functools.lru_cache(maxsize=512)
def _alpha2(code: str) -> str | None:
    code = code.strip().upper()
    if len(code) == 2 and code.isascii() and code.isalpha():
        return code
    if len(code) == 3 and code.isascii() and code.isalpha():
        found = pycountry.countries.get(alpha_3=code)
        return found.alpha_2 if found is not None else None
    return None


def prepare_nationalities(raw: object) -> frozenset[str]:
    """The set of alpha-2 codes in a ``nationalities`` list (alpha-3 accepted; anything else dropped)."""
    if isinstance(raw, frozenset):
        return raw
    if isinstance(raw, str):
        raw = (raw,)
    if not isinstance(raw, list | tuple | set) or len(raw) > 20:
        return frozenset()
    try:
        return _nationality_set(tuple(raw))
    except TypeError:   # an unhashable item
        return frozenset()


@functools.lru_cache(maxsize=4096)
def _nationality_set(raw: tuple[object, ...]) -> frozenset[str]:
    return frozenset(c for c in (_alpha2(x) for x in raw if isinstance(x, str) and len(x) <= 3) if c)


def compare_nationalities(a: object, b: object) -> FeatureResult:
    """"same" sets, "overlap" (one shared: dual nationality on one side), "disjoint", or missing."""
    sa, sb = prepare_nationalities(a), prepare_nationalities(b)
    if not sa or not sb:
        return _NO_NATIONALITY
    if sa == sb:
        return _same_nationality(sa)
    shared = sa & sb
    left, right = "+".join(sorted(sa)), "+".join(sorted(sb))
    if shared:
        return FeatureResult("overlap", 0.7, f"nationalities {left} vs {right}: dual nationality, shared "
                             + "+".join(sorted(shared)))
    return FeatureResult("disjoint", 0.0, f"nationalities {left} vs {right}")


_NO_NATIONALITY = FeatureResult.missing("nationality not known on one side")


@functools.lru_cache(maxsize=1024)  # a population holds few sets of nationalities
def _same_nationality(codes: frozenset[str]) -> FeatureResult:
    return FeatureResult("same", 1.0, "nationality " + "+".join(sorted(codes)) + " on both")


@dataclass(frozen=True, slots=True)
class Address:
    """An address with every text field case-folded, NFKC, punctuation turned into single spaces."""

    line: str
    locality: str
    postcode: str
    region: str
    country: str | None


# Words that clerks abbreviate or drop in addresses: mapped to one form ("" drops the word).
_ADDRESS_WORDS = {"st": "street", "str": "street", "rd": "road", "ave": "avenue", "no": "", "nr": "",
                  "house": "", "number": "", "duong": "street", "đường": "street", "mu": "moo", "m": "moo"}


def _clean(value: object, words: dict[str, str] | None = None) -> str:
    if not isinstance(value, str):
        return ""
    text = unicodedata.normalize("NFKC", value).casefold()
    tokens = "".join(" " if unicodedata.category(ch)[0] in "PSZC" else ch for ch in text).split()
    if words:
        tokens = [words.get(t, t) for t in tokens]
    return " ".join(t for t in tokens if t)


def prepare_addresses(raw: object) -> tuple[Address, ...]:
    """Prepared addresses of a record's ``addresses`` list; items that are not objects are skipped."""
    if isinstance(raw, tuple) and all(isinstance(x, Address) for x in raw):
        return raw
    if not isinstance(raw, list | tuple):
        return ()
    out = []
    for item in raw:
        if isinstance(item, Address):
            out.append(item)
        elif isinstance(item, Mapping):
            fields = tuple(v[:300] if isinstance(v := item.get(k), str) else None for k in _ADDRESS_FIELDS)
            addr = _prepare_address(fields)
            if addr is not None:
                out.append(addr)
    return tuple(out)


_ADDRESS_FIELDS = ("line", "locality", "postcode", "region", "country")


@functools.lru_cache(maxsize=65536)   # records arrive raw from callers that compare one against many
def _prepare_address(fields: tuple[str | None, ...]) -> Address | None:
    line, locality, postcode, region, country = fields
    addr = Address(_clean(line, _ADDRESS_WORDS), _clean(locality), _clean(postcode).replace(" ", ""), _clean(region),
                   _alpha2(country) if country is not None and len(country) <= 3 else None)
    return addr if addr.line or addr.locality or addr.postcode or addr.region else None


_ADDRESS_RANK = {level: i for i, level in enumerate(ADDRESS_LEVELS)}
_NO_ADDRESS = FeatureResult.missing("no comparable addresses")


def compare_addresses(a: object, b: object) -> FeatureResult:
    """The best agreement over all pairs of addresses in the same (or an unknown) country."""
    if not a or not b:  # the usual case, and what any empty or absent value prepares to
        return _NO_ADDRESS
    best: tuple[str, float, str] | None = None
    xs = prepare_addresses(a)
    ys = prepare_addresses(b) if xs else ()
    for x in xs:
        for y in ys:
            found = _pair(x, y)
            if found and (best is None or (_ADDRESS_RANK[found[0]], -found[1]) < (_ADDRESS_RANK[best[0]], -best[1])):
                best = found
    if best is None:
        return _NO_ADDRESS
    return FeatureResult(best[0], best[1], best[2])


def _pair(x: Address, y: Address) -> tuple[str, float, str] | None:
    if x.country and y.country and x.country != y.country:
        return None
    same_postcode = bool(x.postcode) and x.postcode == y.postcode
    locality = fuzz.ratio(x.locality, y.locality) if x.locality and y.locality else None
    same_place = same_postcode or (locality is not None and locality >= magic.ADDRESS_LOCALITY_MIN)
    place_unknown = locality is None and not (x.postcode and y.postcode)
    if x.line and y.line and (same_place or place_unknown):
        line = fuzz.token_sort_ratio(x.line, y.line)   # not set ratio: a subset ("street") would score 100
        if line >= magic.ADDRESS_LINE_MIN:
            return "line", line / 100, f"address lines agree ({line:.0f}%)"
    if same_place:
        what = "postcode" if same_postcode else "locality"
        return "locality", (locality or 100.0) / 100, f"same {what} ({x.postcode if same_postcode else x.locality})"
    if x.region and x.region == y.region:
        return "region", 0.3, f"same region ({x.region})"
    if _comparable(x, y):
        return "different", 0.0, "addresses differ"
    return None


def _comparable(x: Address, y: Address) -> bool:
    return any(p and q for p, q in ((x.line, y.line), (x.locality, y.locality), (x.postcode, y.postcode),
                                    (x.region, y.region)))

