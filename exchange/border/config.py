"""Settings of the border module, read once from the environment (same rules as ``exchange.config``).

| variable                             | default | meaning                                                        |
|--------------------------------------|---------|----------------------------------------------------------------|
| EXCHANGE_BORDER_RETENTION_DAYS       | 90      | personal data of a check without a confirmed hit is erased after |
| EXCHANGE_BORDER_PURGE_INTERVAL       | 3600    | seconds between two runs of the scheduled purge (0: never)     |
| EXCHANGE_BORDER_INDEX_OVERLAP        | 30      | seconds of ``updated_at`` re-read at each index refresh        |
| EXCHANGE_BORDER_RECONCILE_INTERVAL   | 600     | seconds between two full id/version comparisons of the index   |
| EXCHANGE_BORDER_INDEX_WAIT           | 20      | seconds a check waits for the index to finish loading (then 503)|
| EXCHANGE_BORDER_SNAPSHOT_INTERVAL    | 3600    | seconds between two saves of the index's encrypted snapshot,   |
|                                      |         | each only if it changed (also saved after a load; 0: no        |
|                                      |         | snapshot read or written; docs/border.md "Restart and ...")    |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web

from ..config import _int


@dataclass(frozen=True)
class BorderSettings:
    retention_days: int = 90
    purge_interval: int = 3600
    index_overlap: int = 30
    reconcile_interval: int = 600
    index_wait: int = 20
    snapshot_interval: int = 3600
    screening: bool = True  # False only in bench/bench_border.py, to measure the cost of screening

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BorderSettings:
        env = os.environ if env is None else env
        return cls(
            retention_days=_int(env, "EXCHANGE_BORDER_RETENTION_DAYS", 90, 1, 3650),
            purge_interval=_int(env, "EXCHANGE_BORDER_PURGE_INTERVAL", 3600, 0, 7 * 86400),
            index_overlap=_int(env, "EXCHANGE_BORDER_INDEX_OVERLAP", 30, 1, 3600),
            reconcile_interval=_int(env, "EXCHANGE_BORDER_RECONCILE_INTERVAL", 600, 0, 86400),
            index_wait=_int(env, "EXCHANGE_BORDER_INDEX_WAIT", 20, 1, 600),
            snapshot_interval=_int(env, "EXCHANGE_BORDER_SNAPSHOT_INTERVAL", 3600, 0, 7 * 86400),
        )


BORDER_SETTINGS = web.AppKey("border_settings", BorderSettings)
