"""Labels and messages of the pages in English and Khmer.

Each page module declares its own ``MESSAGES = {"en": {...}, "km": {...}}`` and registers it (``register``); a
key missing in Khmer falls back to English (``tests/test_web_i18n.py`` lists the pages whose Khmer must be
complete). The language is the officer's choice (a cookie, switched from any page), else the browser's
``Accept-Language``, else English.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

LANGUAGES = ("en", "km")
LANG_COOKIE = "exchange_lang"
_MESSAGES: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}


def register(messages: Mapping[str, Mapping[str, str]]) -> None:
    for lang, table in messages.items():
        if lang not in _MESSAGES:
            raise ValueError(f"unknown language {lang!r}")
        for key, text in table.items():
            known = _MESSAGES[lang].get(key)
            if known is not None and known != text:
                raise ValueError(f"message {key!r} ({lang}) is defined twice with different texts")
            _MESSAGES[lang][key] = text


def messages(lang: str) -> Mapping[str, str]:
    return _MESSAGES[lang]


def translate(lang: str, key: str, **values: object) -> str:
    text = _MESSAGES.get(lang, {}).get(key) or _MESSAGES["en"].get(key)
    if text is None:
        return key  # visible in the page, and caught by the i18n test
    return text.format(**values) if values else text


def language(request: web.Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    accept = request.headers.get("Accept-Language", "").lower()
    return "km" if accept.startswith("km") else "en"


register({
    "en": {
        "app.title": "Offender information exchange",
        "app.skip": "Skip to content",
        "nav.home": "Home",
        "nav.logout": "Log out",
        "nav.language": "ភាសាខ្មែរ",
        "nav.signed_in": "Signed in as {user} ({role})",
        "nav.post": "Post: {post}",
        "role.admin": "administrator", "role.registrar": "registrar", "role.liaison": "liaison officer",
        "role.immigration": "immigration officer", "role.auditor": "auditor",
        "login.title": "Log in",
        "login.username": "User name",
        "login.password": "Password",
        "login.totp": "Code from your authenticator app",
        "login.submit": "Log in",
        "login.failed": "The user name, password or code is wrong. Accounts lock for a while after repeated failures.",
        "login.expired": "Your session has ended. Log in again.",
        "login.logged_out": "You have logged out.",
        "purpose.title": "Why are you looking?",
        "purpose.help": "Every look at personal data is recorded with its purpose.",
        "purpose.label": "Purpose",
        "purpose.case_ref": "Case reference (optional)",
        "purpose.continue": "Continue",
        "purpose.investigation": "Investigation", "purpose.border_check": "Border check",
        "purpose.partner_request": "Partner request", "purpose.review": "Review",
        "purpose.audit": "Audit", "purpose.data_quality": "Data quality",
        "error.title": "The request could not be completed",
        "error.request_id": "Request id (quote it to the operators): {rid}",
        "error.back": "Back to the start page",
        "error.forbidden": "Your role may not open this page.",
        "error.not_found": "There is no such page or item.",
        "error.field": "Field: {field}",
        "form.required": "required",
        "form.errors": "Please correct the fields marked below.",
        "home.title": "Start",
        "home.intro": "Choose a task.",
    },
    "km": {
        "app.title": "ប្រព័ន្ធផ្លាស់ប្ដូរព័ត៌មានជនល្មើស",
        "app.skip": "រំលងទៅខ្លឹមសារ",
        "nav.home": "ទំព័រដើម",
        "nav.logout": "ចាកចេញ",
        "nav.language": "English",
        "nav.signed_in": "បានចូលជា {user} ({role})",
        "nav.post": "ប៉ុស្តិ៍៖ {post}",
        "role.admin": "អ្នកគ្រប់គ្រង", "role.registrar": "អ្នកកត់ត្រា", "role.liaison": "មន្ត្រីទំនាក់ទំនង",
        "role.immigration": "មន្ត្រីអន្តោប្រវេសន៍", "role.auditor": "សវនករ",
        "login.title": "ចូលប្រព័ន្ធ",
        "login.username": "ឈ្មោះអ្នកប្រើ",
        "login.password": "ពាក្យសម្ងាត់",
        "login.totp": "លេខកូដពីកម្មវិធីផ្ទៀងផ្ទាត់",
        "login.submit": "ចូល",
        "login.failed": "ឈ្មោះអ្នកប្រើ ពាក្យសម្ងាត់ ឬលេខកូដមិនត្រឹមត្រូវ។ គណនីនឹងត្រូវចាក់សោមួយរយៈក្រោយការបរាជ័យច្រើនដង។",
        "login.expired": "វគ្គរបស់អ្នកបានបញ្ចប់។ សូមចូលម្តងទៀត។",
        "login.logged_out": "អ្នកបានចាកចេញហើយ។",
        "purpose.title": "ហេតុអ្វីបានជាអ្នកស្វែងរក?",
        "purpose.help": "ការមើលទិន្នន័យផ្ទាល់ខ្លួនគ្រប់ដងត្រូវបានកត់ត្រាជាមួយគោលបំណង។",
        "purpose.label": "គោលបំណង",
        "purpose.case_ref": "លេខសំណុំរឿង (ស្រេចចិត្ត)",
        "purpose.continue": "បន្ត",
        "purpose.investigation": "ការស៊ើបអង្កេត", "purpose.border_check": "ការត្រួតពិនិត្យព្រំដែន",
        "purpose.partner_request": "សំណើពីដៃគូ", "purpose.review": "ការពិនិត្យឡើងវិញ",
        "purpose.audit": "សវនកម្ម", "purpose.data_quality": "គុណភាពទិន្នន័យ",
        "error.title": "មិនអាចបំពេញសំណើបានទេ",
        "error.request_id": "លេខសំណើ (សូមប្រាប់អ្នកប្រតិបត្តិ)៖ {rid}",
        "error.back": "ត្រឡប់ទៅទំព័រដើម",
        "error.forbidden": "តួនាទីរបស់អ្នកមិនអាចបើកទំព័រនេះបានទេ។",
        "error.not_found": "គ្មានទំព័រ ឬធាតុនេះទេ។",
        "error.field": "វាល៖ {field}",
        "form.required": "ត្រូវតែបំពេញ",
        "form.errors": "សូមកែវាលដែលបានសម្គាល់ខាងក្រោម។",
        "home.title": "ទំព័រដើម",
        "home.intro": "សូមជ្រើសរើសកិច្ចការ។",
    },
})
