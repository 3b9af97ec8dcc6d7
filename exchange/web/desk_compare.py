"""The liaison desk's side-by-side comparison, and the search form's mapping to and from the API.

``compare(query, candidate, features)`` lines up two persons in the canonical shape (protocols/person.py) field
by field, each row with the matching model's feature for that field (level, weight, detail in words) and a
verdict: ``agree`` (the feature added evidence for the same person), ``disagree`` (evidence against), ``weak``
(it weighs almost nothing either way) or ``unknown`` (one side lacks the field). Pure functions: no I/O, nothing logged.
"""

from __future__ import annotations

from typing import Any

# (person field, the matching model's feature that compares it), in the order shown
ROWS = (("names", "name"), ("birth_date", "birth_date"), ("sex", "sex"), ("nationalities", "nationality"),
        ("documents", "document"), ("addresses", "address"), ("birth_place", "birth_place"))
FORM_FIELDS = ("family", "given", "full", "birth_date", "sex", "nationality", "document_kind", "document_number",
               "document_country")
MAX_FIELD = 300
WEAK = 0.25  # |weight| (log2 Bayes factor) below which a feature is shown as weighing little


def _name(name: dict[str, Any]) -> str:
    text = name.get("full") or " ".join(p for p in (name.get("family"), name.get("given")) if p)
    extras = [x for x in (name.get("script"), None if name.get("kind") in (None, "primary") else name["kind"]) if x]
    return f"{text} ({', '.join(extras)})" if extras else text


def _document(doc: dict[str, Any]) -> str:
    return " · ".join(str(doc[k]) for k in ("kind", "country", "number") if doc.get(k))


def _address(addr: dict[str, Any]) -> str:
    return ", ".join(str(addr[k]) for k in ("line", "locality", "region", "postcode", "country") if addr.get(k))


def lines(person: dict[str, Any] | None, field: str) -> list[str]:
    """A person's field as lines of text for the page ([] when absent)."""
    value = (person or {}).get(field)
    if value in (None, "", []):
        return []
    if field == "names":
        return [_name(n) for n in value if isinstance(n, dict)]
    if field == "documents":
        return [_document(d) for d in value if isinstance(d, dict)]
    if field == "addresses":
        return [_address(a) for a in value if isinstance(a, dict)]
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def verdict(feature: dict[str, Any] | None) -> str:
    """agree / disagree by the sign of the feature's weight; ``weak`` when it weighs almost nothing either way
    (e.g. both male: common, so little evidence); ``unknown`` when one side lacks the field."""
    if feature is None or feature.get("level") == "missing":
        return "unknown"
    weight = float(feature.get("weight") or 0.0)
    if abs(weight) < WEAK:
        return "weak"
    return "agree" if weight > 0 else "disagree"


def explained(features: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The features of a search answer (``feature``) or an alert (``name``) in one shape."""
    return [{"feature": f.get("feature") or f.get("name"), "level": f.get("level"), "weight": f.get("weight"),
             "detail": f.get("detail")} for f in features]


def compare(query: dict[str, Any] | None, candidate: dict[str, Any] | None,
            features: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of (field, query lines, candidate lines, feature, verdict); features of no field come last."""
    by_name = {f["feature"]: f for f in explained(features)}
    rows = []
    for field, feature_name in ROWS:
        feature = by_name.pop(feature_name, None)
        left, right = lines(query, field), lines(candidate, field)
        if feature is None and not left and not right:
            continue
        rows.append({"field": field, "query": left, "candidate": right, "feature": feature,
                     "verdict": verdict(feature)})
    for name, feature in by_name.items():
        rows.append({"field": name, "query": [], "candidate": [], "feature": feature, "verdict": verdict(feature)})
    return rows


def person_form(posted: dict[str, str]) -> dict[str, str]:
    """The search form's fields as typed (trimmed, bounded), to build the query and to fill the form again."""
    return {k: posted.get(k, "").strip()[:MAX_FIELD] for k in FORM_FIELDS}


def search_body(form: dict[str, str]) -> dict[str, Any]:
    """The body of ``POST /api/v1/search``: one name (any script), and the other fields only when given."""
    name = {k: form[k] for k in ("family", "given", "full") if form.get(k)}
    person: dict[str, Any] = {"names": [name] if name else []}
    if form.get("birth_date"):
        person["birth_date"] = form["birth_date"]
    if form.get("sex"):
        person["sex"] = form["sex"]
    if form.get("nationality"):
        person["nationalities"] = [form["nationality"]]
    if form.get("document_number") or form.get("document_kind"):
        doc = {"kind": form.get("document_kind", ""), "number": form.get("document_number", "")}
        if form.get("document_country"):
            doc["country"] = form["document_country"]
        person["documents"] = [doc]
    return {"person": person}


_FIELD_OF = {"person.birth_date": "birth_date", "person.sex": "sex", "person.nationalities": "nationality",
             "person.nationalities[0]": "nationality", "person.documents[0].kind": "document_kind",
             "person.documents[0].number": "document_number", "person.documents[0].country": "document_country",
             "person.documents[0]": "document_number", "person.names": "full", "person.names[0]": "full",
             "person.names[0].family": "family", "person.names[0].given": "given", "person.names[0].full": "full",
             "purpose": "purpose", "case_ref": "case_ref"}


def search_field(api_field: str | None) -> str:
    """The form field an API error names (``person.names[0].family`` -> ``family``); "" for the whole form."""
    return _FIELD_OF.get(api_field or "", "")
