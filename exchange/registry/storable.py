"""The last checks on a cleaned record before it meets the database's CHECK constraints.

``protocols`` validation already refuses control, bidi and (in names) format and unassigned characters, and
returns text in NFC. Two gaps remain between Python and PostgreSQL, and each would surface as a 500:

- text outside names may hold characters this Python's Unicode database does not know (category ``Cn``);
  PostgreSQL may know a newer Unicode in which they compose, so its ``IS NFC NORMALIZED`` could disagree;
- a future change to the validators could let a non-NFC string through.

``check_storable`` refuses both with a ``ValidationError`` naming the field. Its fast path checks the whole
record at once, serialised as JSON: the quotes and delimiters between strings are ASCII characters that never
compose with a neighbour (UAX #15 "stable" code points), so the text is NFC exactly when every string in it
is; only a record that fails is walked to name the field.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from protocols.validation import Code, ValidationError


def check_storable(value: Any, field: str = "") -> None:
    """Raise ValidationError for any string that PostgreSQL might judge differently from Python."""
    text = json.dumps(value, ensure_ascii=False)
    if text.isascii() or (unicodedata.is_normalized("NFC", text)
                          and not any(unicodedata.category(ch) == "Cn" for ch in set(text) if ord(ch) > 127)):
        return
    stack: list[tuple[Any, str]] = [(value, field)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            _check_text(item, where or "body")
        elif isinstance(item, dict):
            stack.extend((v, f"{where}.{k}" if where else str(k)) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(item))


def _check_text(text: str, field: str) -> None:
    if text.isascii():
        return
    if any(unicodedata.category(ch) == "Cn" for ch in text):
        raise ValidationError(Code.FORBIDDEN_CHARACTER, field, "contains an unassigned character")
    if not unicodedata.is_normalized("NFC", text):
        raise ValidationError(Code.INVALID_VALUE, field, "is not in Unicode NFC")
