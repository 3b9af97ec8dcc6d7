"""The administrator's page labels in English and Khmer (registered with ``i18n`` at import). Keys start with
``admin.``; a key without a Khmer text falls back to English."""

from __future__ import annotations

from . import i18n

EN = {
    "admin.menu.users": "Accounts", "admin.menu.partners": "Partner nodes", "admin.menu.points": "Border points",
    "admin.users.title": "Officer accounts", "admin.users.new": "New account", "admin.users.none": "No account yet.",
    "admin.col.username": "User name", "admin.col.role": "Role", "admin.col.post": "Border point",
    "admin.col.status": "Status", "admin.col.created": "Created (UTC)", "admin.col.locked": "Locked until (UTC)",
    "admin.status.active": "active", "admin.status.disabled": "disabled", "admin.open": "Manage",
    "admin.user.title": "Account {username}", "admin.back_users": "Back to the accounts",
    "admin.user.disable": "Disable the account", "admin.user.enable": "Enable the account",
    "admin.user.disable_help": "A disabled officer is logged out at the next request and cannot log in.",
    "admin.user.reset_mfa": "Reset the authenticator (MFA)",
    "admin.user.reset_help": "Gives the account a new TOTP secret: the old codes stop working at once and the "
                             "officer's sessions end. Use it when a phone is lost or its secret was exposed.",
    "admin.user.own": "This is your own account: disabling it or resetting its authenticator ends your session.",
    "admin.user.disabled_done": "The account is disabled.", "admin.user.enabled_done": "The account is enabled.",
    "admin.new.title": "New officer account", "admin.new.username": "User name",
    "admin.new.username_hint": "3-64 lower-case letters, digits, '.', '_' or '-'",
    "admin.new.role": "Role", "admin.new.post": "Border point (immigration officers only)",
    "admin.new.create": "Create the account",
    "admin.enrol.title": "Account {username}: hand over once",
    "admin.enrol.once": "This is shown once and never again. Hand it to the officer in person; do not copy it "
                        "into e-mail or chat.",
    "admin.enrol.password": "One-time password", "admin.enrol.hand": "To hand over",
    "admin.enrol.totp": "Authenticator enrolment (otpauth URI)",
    "admin.enrol.qr": "QR code of the enrolment, for the officer's authenticator app",
    "admin.enrol.reset_done": "The authenticator was reset: the old codes no longer work and the officer's "
                              "sessions have ended.",
    "admin.enrol.done": "Done: back to the account",
    "admin.points.title": "Border points", "admin.points.add": "Add a border point",
    "admin.col.code": "Code", "admin.col.name": "Name", "admin.col.province": "Province",
    "admin.col.neighbour": "Neighbouring country", "admin.col.crossing": "Crossing", "admin.col.active": "Active",
    "admin.point.title": "Border point {code}", "admin.point.save": "Save the border point",
    "admin.point.saved": "The border point is saved.", "admin.back_points": "Back to the border points",
    "admin.point.active": "Active (officers at this point may submit checks)",
    "admin.point.code_hint": "2-32 capital letters, digits or '_', e.g. POIPET",
    "admin.crossing.land": "land", "admin.crossing.sea": "sea", "admin.crossing.river": "river",
    "admin.crossing.air": "air", "admin.yes": "yes", "admin.no": "no",
    "admin.partners.title": "Partner nodes", "admin.partners.add": "Register a partner node",
    "admin.partners.none": "No partner is registered.",
    "admin.partners.add_help": "Type what the partner printed with 'exchange keys show': its public keys only.",
    "admin.col.country": "Country", "admin.col.url": "Base URL", "admin.col.receives": "Receives",
    "admin.col.categories": "Categories", "admin.col.keys": "Key set version", "admin.col.queue": "Queue",
    "admin.col.legal_basis": "Legal basis",
    "admin.partner.title": "Partner node {country}", "admin.back_partners": "Back to the partner nodes",
    "admin.partner.policy": "Sharing policy", "admin.partner.save": "Save the sharing policy",
    "admin.partner.saved": "Saved.", "admin.partner.active": "Active (messages are exchanged with this partner)",
    "admin.partner.categories_help": "Full records go only if a conviction is in a ticked category; none ticked: all.",
    "admin.partner.keys": "Trusted public keys", "admin.col.kid": "Key id", "admin.col.valid": "Valid (UTC)",
    "admin.col.revoked": "Revoked (UTC)", "admin.partner.revoke": "Revoke {kid}",
    "admin.partner.add_key": "Pin another key (a rotation the partner announced)",
    "admin.partner.add_key_button": "Pin the key",
    "admin.f.country": "Country code (ISO, e.g. TH)", "admin.f.url": "Base URL",
    "admin.f.signing_key": "Public signing key", "admin.f.box_key": "Public box key",
    "admin.f.key_id": "Key id (ed25519:...)", "admin.f.receives": "Receives",
    "admin.f.legal_basis": "Legal basis", "admin.f.categories": "Offence categories",
    "admin.receives.full": "full records and hit answers", "admin.receives.hits": "hit/no-hit answers only",
    "admin.receives.none": "nothing",
}

KM = {
    "admin.menu.users": "គណនី", "admin.menu.partners": "ប្រទេសដៃគូ", "admin.menu.points": "ច្រកព្រំដែន",
    "admin.users.title": "គណនីមន្ត្រី", "admin.users.new": "គណនីថ្មី",
    "admin.new.title": "គណនីមន្ត្រីថ្មី", "admin.points.title": "ច្រកព្រំដែន",
    "admin.partners.title": "ប្រទេសដៃគូ",
}

i18n.register({"en": EN, "km": KM})
