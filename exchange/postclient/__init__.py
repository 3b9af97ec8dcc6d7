"""The border post's client: record checks on child travellers, and keep them in an encrypted local queue while
the central service cannot be reached (docs/border.md, "Offline posts").

    cli        the ``exchange post`` subcommands and their options
    commands   record (submit or queue) and sync (replay in order)
    manage     init, status, discard
    local      local validation and the offline answer, with the service's own validators and rules
    service    the HTTP client: login, submit, and the sorting of answers
    queue      the SQLite queue file
    vault      Argon2id key derivation and SecretBox sealing
    console    prompts for secrets, and plain-text or JSON output
"""
