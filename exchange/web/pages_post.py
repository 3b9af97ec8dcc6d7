"""The border post pages (immigration officers): the check form, the result with its instruction and the
outcome form, and the post's recent checks.

    GET  /post                  the check form (one child block, one adult block, a fresh Idempotency-Key)
    POST /post                  "Read MRZ", "Add companion", "Remove" re-render the form; "Check now" submits it
                                to POST /api/v1/border/checks and sends the officer to the result
    GET  /post/checks           the post's recent checks (GET /api/v1/border/checks: the API keeps it to the
                                officer's own post), without personal data
    GET  /post/checks/{id}      the result: the instruction, the flags in words, what was recorded, the outcome form
    POST /post/checks/{id}      the outcome (PATCH /api/v1/border/checks/{id})

Every API call carries the purpose ``border_check`` (the only reason an officer at a post looks at a check, so
the page sets it). Form fields <-> API body: ``post_form``; labels in English and Khmer: ``post_messages``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from aiohttp import web

from exchange.border.flags import REASONS, recommend
from exchange.border.schema import DIRECTIONS, EVIDENCE, OUTCOMES, PURPOSES, RELATIONSHIPS, SIGNERS, SITUATIONS
from matching.mrz import MRZError
from protocols.person import DOCUMENT_KINDS, SEXES

from ..errors import NotFound
from ..policy import policy
from . import apiclient, i18n, post_form, post_messages, render
from .apiclient import ApiProblem

PURPOSE = "border_check"
CHECKS_API = "/api/v1/border/checks"
CAMBODIA = dt.timezone(dt.timedelta(hours=7), "ICT")  # Indochina Time all year (no daylight saving)
HIT_FLAGS = frozenset({"companion_watchlist_hit", "child_watchlist_hit"})
FLAGS_EXPLAINED = frozenset(k.removeprefix("post.flag.") for k in post_messages.EN if k.startswith("post.flag."))
# (form field, message-key prefix, codes): the choices of the form's selects, labelled in the officer's language
CHOICES = {
    "direction": ("post.direction.", DIRECTIONS), "situation": ("post.situation.", SITUATIONS),
    "sex": ("post.sex.", SEXES), "doc_kind": ("post.doc.", DOCUMENT_KINDS),
    "relationship": ("post.rel.", RELATIONSHIPS), "evidence": ("post.ev.", EVIDENCE),
    "consent": ("post.", ("yes", "no")), "consent_signed_by": ("post.signer.", SIGNERS),
    "consent_notarised": ("post.", ("yes", "no")), "travel_purpose": ("post.tp.", PURPOSES),
    "outcome": ("post.oc.", OUTCOMES),
}

render.menu("/post", "post.menu.new", ("immigration",), 10)
render.menu("/post/checks", "post.menu.recent", ("immigration",), 11)


def _opts(request: web.Request):
    lang = i18n.language(request)

    def opts(name: str) -> list[tuple[str, str]]:
        prefix, codes = CHOICES[name]
        return [(code, i18n.translate(lang, prefix + code)) for code in codes]
    return opts


def local_time(iso: str | None) -> str:
    """An API time (UTC, ISO 8601) as the post's wall clock."""
    if not iso:
        return ""
    return dt.datetime.fromisoformat(iso).astimezone(CAMBODIA).strftime("%Y-%m-%d %H:%M")


def instructions(flags: list[str], action: str) -> list[str]:
    """What the officer must do, most urgent first: a possible match always means hold and call the desk."""
    out = ["hold"] if HIT_FLAGS & set(flags) else []
    if action == "refer" or not out:
        out.append(action)
    return out


def urgent_first(flags: list[str]) -> list[str]:
    """The flags as the API orders them, a possible match first (it decides what the officer does)."""
    return sorted(flags, key=lambda flag: flag not in HIT_FLAGS)


def _recommendation(flags: list[str]) -> dict[str, Any]:
    """The rules' recommendation for a check whose stored answer lacks one (never "clear" when flags exist)."""
    advice = recommend(set(flags) & set(REASONS)).as_dict()
    if advice["action"] == "clear" and flags:
        advice["action"] = "secondary_inspection"
    return advice


def problem_text(request: web.Request, problem: ApiProblem) -> str:
    """The API's refusal in the officer's language (by its code; the API's English words otherwise), with the code."""
    lang = i18n.language(request)
    key = f"post.err.{problem.code}"
    known = key in post_messages.EN
    field_error = problem.status == 400 and problem.field
    text = i18n.translate(lang, key) if known and (lang != "en" or not field_error) else problem.message
    return f"{text} ({problem.code})"


def _page(request: web.Request, template: str, *, status: int = 200, **values: Any) -> web.Response:
    return render.render(request, template, status=status, opts=_opts(request), local_time=local_time,
                         explained=FLAGS_EXPLAINED, **values)


def _form(request: web.Request, draft: post_form.Draft, idem: str, *, status: int = 200,
          errors: dict[str, str] | None = None, focus: str | None = None, notice: str | None = None,
          warning: str | None = None) -> web.Response:
    return _page(request, "post/form.html", status=status, v=draft.values, blocks=draft.blocks, idem=idem,
                 errors=errors or {}, focus=focus or "", notice=notice, warning=warning)


async def _call(request: web.Request, method: str, path: str, **kw: Any) -> apiclient.Answer:
    return await apiclient.call(request, render.session_of(request), method, path, purpose=PURPOSE, **kw)


def _check_id(request: web.Request) -> str:
    try:
        return str(uuid.UUID(request.match_info["id"]))
    except ValueError:
        raise NotFound("no such check") from None


@policy("immigration", page=True)
async def check_form(request: web.Request) -> web.Response:
    return _form(request, post_form.Draft(), str(uuid.uuid4()), focus="direction")


def _read_mrz(request: web.Request, draft: post_form.Draft, idem: str, prefix: str) -> web.Response:
    name = f"{prefix}.mrz"
    lang = i18n.language(request)
    if not draft.get(name):
        return _form(request, draft, idem, status=400, errors={name: i18n.translate(lang, "post.mrz.empty")},
                     focus=name)
    try:
        parsed = post_form.read_mrz(draft, prefix)
    except MRZError as err:
        text = str(err) if lang == "en" else i18n.translate(lang, "post.mrz.invalid")
        return _form(request, draft, idem, status=400, errors={name: text}, focus=name)
    post_form.fill_from_mrz(draft, prefix, parsed, overwrite=True)
    return _form(request, draft, idem, focus=f"{prefix}.khmer", notice="post.mrz.read",
                 warning=None if parsed.valid else "post.mrz.bad_digits")


@policy("immigration", page=True)
async def check_submit(request: web.Request) -> web.Response:
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    draft = post_form.read_form(form)
    idem = post_form.idempotency_key(form.get("idem")) or str(uuid.uuid4())
    action = form.get("action", "submit")
    if action == "add":
        added = post_form.add_block(draft)
        return _form(request, draft, idem, focus=f"{added}.mrz" if added else "")
    if action.startswith("remove:c") and action[8:].isdigit():
        post_form.remove_block(draft, int(action[8:]))
        return _form(request, draft, idem, focus="c0.mrz")
    if action.startswith("mrz:") and action[4:] in post_form.prefixes(draft):
        return _read_mrz(request, draft, idem, action[4:])
    if action != "submit":  # a button this form does not have (or a block no longer shown): submit nothing
        return _form(request, draft, idem)
    for prefix in post_form.prefixes(draft):  # an MRZ pasted without "Read MRZ" fills the blank fields
        if draft.get(f"{prefix}.mrz"):
            try:
                post_form.fill_from_mrz(draft, prefix, post_form.read_mrz(draft, prefix), overwrite=False)
            except MRZError:
                pass  # the API refuses the MRZ and names its field
    body, where = post_form.to_body(draft)
    try:
        answer = await _call(request, "POST", CHECKS_API, json_body=body, headers={"Idempotency-Key": idem})
    except ApiProblem as problem:
        if problem.status not in (400, 409, 429, 503):
            raise
        field = post_form.form_field(problem.field, where) if problem.status == 400 else ""
        fresh = str(uuid.uuid4()) if problem.code == "idempotency_mismatch" else idem
        return _form(request, draft, fresh, status=problem.status, errors={field: problem_text(request, problem)},
                     focus=field)
    check_id = str(uuid.UUID(answer.body["id"]))
    replayed = "?replayed=1" if answer.headers.get("Idempotent-Replayed") == "true" else ""
    return render.redirect(f"/post/checks/{check_id}{replayed}")


async def _result(request: web.Request, check_id: str, *, status: int = 200, errors: dict[str, str] | None = None,
                  values: dict[str, str] | None = None) -> web.Response:
    view = (await _call(request, "GET", f"{CHECKS_API}/{check_id}")).body
    recommendation = view.get("recommendation") or _recommendation(view["flags"])
    reasons = {r.get("flag"): r.get("text", "") for r in recommendation.get("reasons", [])}
    view["flags"] = urgent_first(view["flags"])
    return _page(request, "post/result.html", status=status, check=view, reasons=reasons,
                 todo=instructions(view["flags"], recommendation["action"]), errors=errors or {},
                 v=values or {}, saved=request.query.get("saved") == "1",
                 replayed=request.query.get("replayed") == "1")


@policy("immigration", page=True)
async def check_result(request: web.Request) -> web.Response:
    return await _result(request, _check_id(request))


@policy("immigration", page=True)
async def record_outcome(request: web.Request) -> web.Response:
    check_id = _check_id(request)
    form = {k: v.strip() for k, v in (await request.post()).items() if isinstance(v, str)}
    body: dict[str, str] = {"outcome": form.get("outcome", "")}
    if form.get("outcome_notes"):
        body["observations"] = form["outcome_notes"]
    try:
        await _call(request, "PATCH", f"{CHECKS_API}/{check_id}", json_body=body)
    except ApiProblem as problem:
        if problem.status != 400:
            raise
        field = {"outcome": "outcome", "observations": "outcome_notes"}.get(problem.field or "", "")
        return await _result(request, check_id, status=400, errors={field: problem_text(request, problem)},
                             values={"outcome": body["outcome"], "outcome_notes": form.get("outcome_notes", "")})
    return render.redirect(f"/post/checks/{check_id}?saved=1")


@policy("immigration", page=True)
async def recent_checks(request: web.Request) -> web.Response:
    answer = await _call(request, "GET", CHECKS_API, params={"limit": "50"})
    items = [{**item, "flags": urgent_first(item["flags"]), "todo": instructions(item["flags"], item["action"])[0]}
             for item in answer.body["items"]]
    return _page(request, "post/list.html", items=items)


PAGES = [
    ("GET", "/post", check_form),
    ("POST", "/post", check_submit),
    ("GET", "/post/checks", recent_checks),
    ("GET", "/post/checks/{id}", check_result),
    ("POST", "/post/checks/{id}", record_outcome),
]
