"""Every page of the web interface: (method, path, handler); each handler carries ``@policy(..., page=True)``.
``tests/test_web_roles.py`` walks this table with every role. Page modules add their ``PAGES`` list here."""

from __future__ import annotations

from . import pages_admin, pages_audit, pages_auth, pages_desk, pages_post, pages_register, pages_stats

PAGES = [
    *pages_auth.PAGES,
    *pages_desk.PAGES,
    *pages_post.PAGES,
    *pages_register.PAGES,
    *pages_audit.PAGES,
    *pages_stats.PAGES,
    *pages_admin.PAGES,
]
