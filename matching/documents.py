"""Identity and travel documents: normalised keys, a comparison feature and blocking keys.

Partners write the same passport number as "N 123-4567", "n1234567" or, after OCR, "N12345G7".
``document_key`` turns a canonical document (or its MRZ, which wins when its check digits hold) into a
:class:`DocKey` once: the number in upper case with separators removed, the same number with OCR
look-alikes folded (O/Q/D->0, I/L->1, Z->2, S->5, G->6, B->8), the kind and the issuing country.
``compare_documents`` then compares keys cheaply.

Evidence, strongest first (``DOCUMENT_LEVELS``): the same number from the same issuer; the same number with
an issuer unknown or different; numbers equal after OCR folding; one character wrong or two neighbours
swapped; a different number on a document of the same kind and issuer. The last is weak evidence against:
people hold several passports in a life, and Vietnam replaced its 9-digit identity numbers with 12-digit
ones. Numbers from different issuers never count as close unless equal. A number with a character that is
not an ASCII letter or digit (a Thai digit, say) is refused, not cleaned: dropping it would invent a number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rapidfuzz.distance import OSA

from . import magic
from .mrz import MRZError, parse_mrz
from .types import MISSING, FeatureResult

#: Agreement levels of the document feature, best first.
DOCUMENT_LEVELS = ("exact", "same_number", "ocr", "near", "different", MISSING)

_SEPARATORS = str.maketrans("", "", " -./<\t")
_ALNUM = re.compile(r"[A-Z0-9]+", re.ASCII)
_COUNTRY = re.compile(r"[A-Z]{2}", re.ASCII)
_FOLD = str.maketrans(magic.DOC_OCR_FOLD)
_NOT_DIGIT = re.compile(r"[^0-9]+", re.ASCII)
_RANK = {level: i for i, level in enumerate(DOCUMENT_LEVELS)}
# Kinds that may hold the same number space; "other" is compared with anything.
_ANY_KIND = "other"


@dataclass(frozen=True, slots=True)
class DocKey:
    kind: str
    number: str          # upper case, ASCII letters and digits only
    folded: str          # number with OCR look-alikes folded
    country: str | None  # ISO alpha-2 of the issuer, None when unknown


def normalise_number(raw: object) -> str | None:
    """Upper-case ASCII letters and digits without separators, or None when unusable (never raises)."""
    if not isinstance(raw, str) or len(raw) > 64 or not raw.isascii():
        return None
    number = raw.upper().translate(_SEPARATORS)
    if not _ALNUM.fullmatch(number) or len(number) < magic.DOC_NUMBER_MIN_LEN:
        return None
    if number in magic.DOC_PLACEHOLDERS or len(set(number)) == 1:
        return None
    return number


def document_key(doc: object) -> DocKey | None:
    """A comparable key for one canonical document dict, using its MRZ when the number is missing or unusable."""
    if not isinstance(doc, Mapping):
        return None
    kind = doc.get("kind") if isinstance(doc.get("kind"), str) else _ANY_KIND
    number = normalise_number(doc.get("number"))
    country = _country(doc.get("country"))
    if isinstance(doc.get("mrz"), str):
        # A zone whose check digits hold is more reliable than a typed or OCR'd number: it wins. A damaged
        # zone only fills in a missing number.
        try:
            parsed = parse_mrz(doc["mrz"])
        except MRZError:
            parsed = None
        if parsed is not None and (number is None or parsed.valid):
            number = normalise_number(parsed.document_number) or number
            country = country or parsed.issuing_country
            if parsed.document_code.startswith("P") and kind == _ANY_KIND:
                kind = "passport"
    if number is None:
        return None
    return DocKey(str(kind), number, number.translate(_FOLD), country)


def document_keys(docs: object) -> list[DocKey]:
    """Keys for every usable document in a record's ``documents`` list (lenient)."""
    if not isinstance(docs, list):
        return []
    return [key for key in map(document_key, docs) if key is not None]


def _country(raw: object) -> str | None:
    if isinstance(raw, str) and _COUNTRY.fullmatch(raw.upper()):
        return raw.upper()
    return None


_MISSING = FeatureResult.missing("no comparable documents")


def compare_documents(a: Iterable[DocKey], b: Iterable[DocKey]) -> FeatureResult:
    """The best agreement over all pairs of documents (``DOCUMENT_LEVELS``)."""
    if not a or not b:  # no documents on one side (a generator is never falsy: it is read below)
        return _MISSING
    best: tuple[str, DocKey, DocKey] | None = None
    bs = list(b)
    for x in a:
        for y in bs:
            level = _pair_level(x, y)
            if level is not None and (best is None or _RANK[level] < _RANK[best[0]]):
                best = (level, x, y)
                if level == "exact":
                    break
        if best is not None and best[0] == "exact":
            break
    if best is None:
        return _MISSING
    level, x, y = best
    return FeatureResult(level, magic.DOC_SCORES[level], _detail(level, x, y))


def _pair_level(x: DocKey, y: DocKey) -> str | None:
    same_issuer = x.country is not None and x.country == y.country
    if x.number == y.number:
        return "exact" if same_issuer else "same_number"
    if x.country is not None and y.country is not None and not same_issuer:
        return None
    if x.kind != y.kind and _ANY_KIND not in (x.kind, y.kind):
        return None
    if x.folded == y.folded:
        return "ocr"
    if min(len(x.folded), len(y.folded)) >= magic.DOC_NEAR_MIN_LEN and OSA.distance(
            x.folded, y.folded, score_cutoff=1) <= 1:
        return "near"
    if same_issuer and x.kind == y.kind:
        return "different"
    return None


_WORDS = {"exact": "=", "same_number": "=", "ocr": "~ (OCR look-alikes)", "near": "~ (one character)",
          "different": "!="}


def _detail(level: str, x: DocKey, y: DocKey) -> str:
    left = f"{x.kind} {x.country or '??'} {x.number}"
    right = f"{y.kind} {y.country or '??'} {y.number}" if (x.kind, x.country) != (y.kind, y.country) else y.number
    text = f"{left} {_WORDS[level]} {right}"
    if level == "same_number" and x.country and y.country:
        text += " (different issuers)"
    if level == "different":
        text += " (weak evidence: documents are renewed and replaced)"
    return text


def document_blocking_keys(key: DocKey) -> set[str]:
    """Index keys: the OCR-folded number, and its digits alone when long enough (partners drop prefixes)."""
    keys = {"doc:" + key.folded}
    for digits in {_NOT_DIGIT.sub("", key.number), _NOT_DIGIT.sub("", key.folded)}:
        if len(digits) >= magic.DOC_BLOCK_DIGITS_MIN:
            keys.add("docd:" + digits)
    return keys
