"""The federation side of the service: partner nodes push and pull records, ask hit/no-hit, receive corrections
and erasures, every message signed (``protocols``), nothing lost, nothing applied twice.

- ``identity``   this node's keys under EXCHANGE_HOME/keys/node (init, rotate, revoke, show)
- ``partners``   the partner registry, pinned and refreshed key sets, the keyring for verification
- ``context``    the per-app :class:`Federation` (country, keys, transport, clock)
- ``transport``  the swappable HTTP client (no redirects, timeouts, size limits)
- ``outbox``     :func:`enqueue_record_change`, written in the register's own transaction
- ``sender``     claiming and sending a partner's queue, receipts, backoff stored in the database
- ``wire``       plumbing of the /federation/v1 handlers (verification, error answers, refusals audited)
- ``inbox``      ``POST /federation/v1/inbox``: idempotent by message id, signed answers
- ``receive``    applying partner record versions (kept apart from our register, with provenance)
- ``feed``       ``POST /federation/v1/feed`` (serving) and ``pull_once`` (pulling; rollback/freeze refused)
- ``keys_api``   ``GET /federation/v1/keys`` and refreshing a partner's key set
- ``hits``       hit/no-hit answers and record requests
- ``officer_api`` liaison officers: queries to partners, approving record requests
- ``status_api`` ``GET /api/v1/partners`` and ``GET /api/v1/partner-records``
- ``loops``      the cleanup_ctx running one send loop and one pull loop per partner
"""

from __future__ import annotations

from .outbox import enqueue_record_change

__all__ = ["enqueue_record_change"]
