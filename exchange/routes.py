"""Every route of the service in one table: (method, path, handler). Each handler carries its ``Policy``
(roles, purpose); ``tests/test_role_matrix.py`` walks this table with every role."""

from __future__ import annotations

from . import audit_api, audit_verify_api, auth_api, health, openapi, search_api, users_api, users_mfa
from .border import alerts as border_alerts
from .border import api as border_api
from .border import points as border_points
from .border import stats as border_stats
from .federation import feed as federation_feed
from .federation import inbox as federation_inbox
from .federation import keys_api as federation_keys
from .federation import officer_api as federation_officer
from .federation import partners_admin as federation_partners_admin
from .federation import review_api as federation_review
from .federation import status_api as federation_status
from .registry import api as registry_api
from .registry import deliveries as registry_deliveries

ROUTES = [
    ("GET", "/healthz", health.healthz),
    ("GET", "/readyz", health.readyz),
    ("GET", "/api/v1/openapi.json", openapi.document),
    ("POST", "/api/v1/auth/token", auth_api.login),
    ("POST", "/api/v1/auth/refresh", auth_api.refresh),
    ("POST", "/api/v1/auth/logout", auth_api.logout),
    ("GET", "/api/v1/auth/me", auth_api.me),
    ("GET", "/api/v1/audit", audit_api.list_audit),
    ("GET", "/api/v1/audit/verify", audit_verify_api.verify_chain),
    ("POST", "/api/v1/records", registry_api.create_record),
    ("GET", "/api/v1/records", registry_api.list_records),
    ("GET", "/api/v1/records/{id}", registry_api.read_record),
    ("PUT", "/api/v1/records/{id}", registry_api.replace_record),
    ("POST", "/api/v1/records/{id}/withdraw", registry_api.withdraw_record),
    ("GET", "/api/v1/records/{id}/history", registry_api.record_history),
    ("GET", "/api/v1/records/{id}/deliveries", registry_deliveries.record_deliveries),
    ("GET", "/api/v1/users", users_api.list_users),
    ("POST", "/api/v1/users", users_api.add_user),
    ("POST", "/api/v1/users/{id}/disable", users_api.disable_user),
    ("POST", "/api/v1/users/{id}/enable", users_api.enable_user),
    ("POST", "/api/v1/users/{id}/reset-mfa", users_mfa.reset_user_mfa),
    ("POST", "/api/v1/border/checks", border_api.submit_check),
    ("GET", "/api/v1/border/checks", border_api.list_checks),
    ("GET", "/api/v1/border/checks/{id}", border_api.get_check),
    ("PATCH", "/api/v1/border/checks/{id}", border_api.patch_check),
    ("GET", "/api/v1/border/stats", border_stats.stats),
    ("GET", "/api/v1/border-points", border_points.list_points),
    ("POST", "/api/v1/border-points", border_points.add_point),
    ("PATCH", "/api/v1/border-points/{id}", border_points.edit_point),
    ("GET", "/api/v1/alerts", border_alerts.list_alerts),
    ("GET", "/api/v1/alerts/{id}", border_alerts.read_alert),
    ("POST", "/api/v1/alerts/{id}/decision", border_alerts.decide),
    ("POST", "/api/v1/search", search_api.search_person),
    ("GET", "/api/v1/partners", federation_status.list_partners),
    ("POST", "/api/v1/partners", federation_partners_admin.add_partner),
    ("GET", "/api/v1/partners/{id}", federation_partners_admin.read_partner),
    ("PATCH", "/api/v1/partners/{id}", federation_partners_admin.edit_partner),
    ("POST", "/api/v1/partners/{id}/keys", federation_partners_admin.add_partner_key),
    ("POST", "/api/v1/partners/{id}/keys/revoke", federation_partners_admin.revoke_partner_key),
    ("GET", "/api/v1/partner-records", federation_status.list_partner_records),
    ("POST", "/api/v1/partner-queries", federation_officer.ask_partner),
    ("POST", "/api/v1/partner-record-requests", federation_officer.ask_record),
    ("GET", "/api/v1/record-requests", federation_officer.list_requests),
    ("POST", "/api/v1/record-requests/{id}/decision", federation_officer.decide_request),
    ("GET", "/api/v1/review-queue", federation_review.list_review),
    ("GET", "/api/v1/review-queue/{id}", federation_review.read_review),
    ("POST", "/api/v1/review-queue/{id}/decision", federation_review.decide_review),
    ("GET", "/federation/v1/keys", federation_keys.key_set),
    ("POST", "/federation/v1/inbox", federation_inbox.inbox),
    ("POST", "/federation/v1/feed", federation_feed.serve_feed),
]
