"""``POST /api/v1/search``: a liaison officer or registrar searches a person in our register and the partners'
records, with a purpose (``X-Purpose``; the per-officer read rate limit applies) and optionally a case
(``X-Case-Ref``). The body is ``{"person", "limit", "threshold", "sources"}``; the work, the answer's shape and
the audit row are ``exchange.search.search``, which the officers' pages call too. The person travels in the
body only, never in the URL, and the query string is refused.
"""

from __future__ import annotations

from aiohttp import web

from protocols.validation import ValidationError

from .body import invalid, read_json
from .middleware import actor
from .params import only_params
from .policy import policy
from .search import run_search, validate_search


@policy("liaison", "registrar", purpose=True)
async def search_person(request: web.Request) -> web.Response:
    only_params(request)
    body = await read_json(request)
    try:
        asked = validate_search(body)
    except ValidationError as err:
        raise invalid(err) from None
    answer = await run_search(request.app, actor(request), asked)
    return web.json_response(answer)
