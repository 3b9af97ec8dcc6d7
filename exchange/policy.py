"""Who may call which route: each handler declares its policy with ``@policy(...)``; a route without one is
refused for everybody (deny by default). The role table of the whole API is ``exchange.routes.ROUTES``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

PURPOSES = ("investigation", "border_check", "partner_request", "review", "audit", "data_quality")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Policy:
    roles: frozenset[str]
    public: bool = False
    purpose: bool = False  # the request reads personal data: X-Purpose is required
    page: bool = False  # a web page (exchange/web): session cookie and CSRF instead of a bearer token


def policy(*roles: str, public: bool = False, purpose: bool = False,
           page: bool = False) -> Callable[[Handler], Handler]:
    def mark(handler: Handler) -> Handler:
        handler.policy = Policy(frozenset(roles), public=public, purpose=purpose,  # type: ignore[attr-defined]
                                page=page)
        return handler
    return mark


def policy_of(handler: object) -> Policy | None:
    found = getattr(handler, "policy", None)
    return found if isinstance(found, Policy) else None
