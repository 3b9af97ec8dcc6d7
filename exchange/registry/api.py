"""The handlers of ``/api/v1/records``: create, read (a version), replace, withdraw, history, list.

Every handler reads or writes personal data and the audit row that records it in one transaction, the audit
row last (it takes the chain lock). Refusals found inside the transaction (unknown id, stale version, a
withdrawn record) are audited in that transaction too, then answered after it commits. Reads need a purpose
(``X-Purpose``, enforced by the access middleware); writes are the registrar's alone.

The handlers live in ``reads`` and ``writes``; ``common`` holds what they share. ``exchange.routes`` maps
the paths to the names exported here.
"""

from __future__ import annotations

from .reads import DEFAULT_LIMIT, MAX_LIMIT, list_records, read_record, record_history
from .writes import MAX_NOTE, WITHDRAWAL_REASONS, create_record, replace_record, withdraw_record

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "MAX_NOTE", "WITHDRAWAL_REASONS", "create_record", "list_records",
           "read_record", "record_history", "replace_record", "withdraw_record"]
