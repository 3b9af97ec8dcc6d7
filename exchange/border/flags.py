"""The risk rules of a border check: a pure function from the cleaned check (and the screening result) to flags
and a recommendation. No database and no network, so a post's own client could run the same rules offline.

| flag                    | raised when                                                                          |
|-------------------------|--------------------------------------------------------------------------------------|
| child_alone             | the situation is "alone", or no adult companion is listed                            |
| large_group             | the child travels in a group of ``LARGE_GROUP`` or more                              |
| unrelated_adult         | a companion is not a parent/guardian/relative, or shows no evidence of the relation  |
| no_consent_letter       | the child is not with both parents and no letter signed by a parent/guardian is shown|
| document_expired        | a document (or its MRZ) of the child or a companion expired before the check         |
| mrz_invalid             | an MRZ check digit is wrong                                                          |
| age_inconsistent        | stated age, stated birth date and the MRZ birth date disagree                        |
| no_document             | the child shows no identity or travel document                                       |
| companion_watchlist_hit | a companion or a hand-over person possibly matches the register                      |
| child_watchlist_hit     | the child's identity possibly matches the register                                   |

The recommendation is ``refer`` (to the anti-trafficking police or social affairs) when two or more
trafficking indicators meet, ``secondary_inspection`` for any other flag, else ``clear``. Reasons are in the
officer's words and never carry offence details: a register hit reads "possible match: hold for secondary
inspection and call the liaison desk".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .ages import age_bounds
from .schema import CheckInput, Person

LARGE_GROUP = 5
RELATED = frozenset({"parent", "legal_guardian", "grandparent", "sibling", "other_relative"})
PROOF = frozenset({"birth_certificate", "family_book", "custody_order"})
CONSENT_SIGNERS = frozenset({"both_parents", "mother", "father", "legal_guardian"})
# Flags that point at trafficking; two together mean "refer".
TRAFFICKING_INDICATORS = frozenset({"child_alone", "large_group", "unrelated_adult", "no_consent_letter"})
HIT_MESSAGE = "possible match: hold for secondary inspection and call the liaison desk"

REASONS = {
    "child_alone": "the child travels without an adult",
    "large_group": f"the child travels in a group of {LARGE_GROUP} or more",
    "unrelated_adult": "an accompanying adult is not a parent or relative, or showed no proof of the relation",
    "no_consent_letter": "no consent letter signed by a parent or legal guardian",
    "document_expired": "a travel or identity document has expired",
    "mrz_invalid": "a passport machine-readable zone has wrong check digits",
    "age_inconsistent": "the stated age or birth date does not agree with the document",
    "no_document": "the child shows no identity or travel document",
    "companion_watchlist_hit": HIT_MESSAGE,
    "child_watchlist_hit": HIT_MESSAGE,
}
ORDER = tuple(REASONS)  # flags are reported in this order


@dataclass(frozen=True)
class Recommendation:
    action: str
    reasons: list[dict[str, str]]

    def as_dict(self) -> dict[str, object]:
        return {"action": self.action, "reasons": self.reasons}


def _everyone(check: CheckInput) -> list[Person]:
    return [check.child, *(c.person for c in check.companions)]


def _expired(person: Person, day: dt.date) -> bool:
    dates = [d["expires"] for d in person.record.get("documents", []) if "expires" in d]
    dates += [m.expires for m in person.mrz if m.expires]
    return any(dt.date.fromisoformat(d) < day for d in dates)


def _age_inconsistent(check: CheckInput, day: dt.date) -> bool:
    stated = check.child.record["birth_date"]
    youngest, oldest = age_bounds(stated, day)
    if check.stated_age is not None and not youngest - 1 <= check.stated_age <= oldest + 1:
        return True
    for mrz in check.child.mrz:
        if mrz.birth_date is None:
            continue
        common = min(len(stated), len(mrz.birth_date))
        if stated[:common] != mrz.birth_date[:common]:
            return True
    return False


def rule_flags(check: CheckInput) -> set[str]:
    """Every flag the rules raise from the check itself (the screening adds the watchlist flags)."""
    day = check.time.date()
    flags: set[str] = set()
    if check.situation == "alone" or not check.companions:
        flags.add("child_alone")
    if check.situation == "group" and (check.group_size or 0) >= LARGE_GROUP:
        flags.add("large_group")
    if any(c.relationship not in RELATED or c.evidence not in PROOF for c in check.companions):
        flags.add("unrelated_adult")
    if check.situation != "parents":
        letter = check.consent_letter or {}
        if not letter.get("present") or letter.get("signed_by") not in CONSENT_SIGNERS:
            flags.add("no_consent_letter")
    if any(_expired(p, day) for p in _everyone(check)):
        flags.add("document_expired")
    if any(not m.valid for p in _everyone(check) for m in p.mrz):
        flags.add("mrz_invalid")
    if _age_inconsistent(check, day):
        flags.add("age_inconsistent")
    if not check.child.record.get("documents"):
        flags.add("no_document")
    return flags


def recommend(flags: set[str]) -> Recommendation:
    reasons = [{"flag": f, "text": REASONS[f]} for f in ordered(flags)]
    if len(flags & TRAFFICKING_INDICATORS) >= 2:
        action = "refer"
    elif flags:
        action = "secondary_inspection"
    else:
        action = "clear"
    return Recommendation(action, reasons)


def ordered(flags: set[str]) -> list[str]:
    return [f for f in ORDER if f in flags]
