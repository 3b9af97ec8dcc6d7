"""What the federation code of one running node needs: its country, its keys, a transport, a clock.

One :class:`Federation` object per application (``app[FEDERATION]``). The node keys are re-read when the key
file changes, so ``exchange keys rotate`` beside a running service takes effect without a restart. The clock
and the random source are injectable so that expiry and backoff are testable.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from protocols.envelope import seal

from ..config import Settings
from . import identity
from .partners import Partner
from .transport import HttpTransport, Transport


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class NodeKeysMissing(Exception):
    """The node has no federation keys yet (``exchange keys init``)."""


@dataclass
class Federation:
    settings: Settings
    transport: Transport = field(default_factory=HttpTransport)
    clock: Callable[[], dt.datetime] = utc_now
    rng: random.Random = field(default_factory=random.Random)
    _cached: identity.NodeIdentity | None = None
    _stamp: float | None = None

    @property
    def country(self) -> str:
        return self.settings.country

    @property
    def home(self) -> Path:
        return self.settings.home

    def now(self) -> dt.datetime:
        return self.clock()

    def node(self) -> identity.NodeIdentity:
        """This node's keys (reloaded when the key file changed); NodeKeysMissing if there are none."""
        path = identity.key_path(self.home)
        try:
            stamp = path.stat().st_mtime_ns
        except FileNotFoundError:
            raise NodeKeysMissing("node keys are not initialised") from None
        if self._cached is None or stamp != self._stamp:
            try:
                self._cached = identity.load(self.home, self.country)
            except identity.IdentityError as exc:
                raise NodeKeysMissing(str(exc)) from None
            self._stamp = stamp
        return self._cached

    def seal_to(self, partner: Partner, kind: str, body: dict[str, Any], now: dt.datetime | None = None,
                message_id: str | None = None) -> bytes:
        """Seal one ``kind`` message to ``partner``: signed with our current key, encrypted to its box key."""
        now = self.now() if now is None else now
        signer = self.node().signer(now)
        return seal(kind, body, sender=self.country, recipient=partner.country, signing_key=signer.signing_key,
                    kid=signer.kid, recipient_box_key=partner.key_set.box_key(now), now=now, message_id=message_id)


FEDERATION = web.AppKey("federation", Federation)
