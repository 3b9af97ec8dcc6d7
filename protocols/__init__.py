"""Pure protocol library (no I/O): strict JSON, canonical JSON, signed envelopes, schemas. See docs/protocol.md.

Modules, one job each:

- ``strictjson``  strict I-JSON parser for every JSON body (duplicate keys, NaN, big numbers, depth, size)
- ``canonical``   RFC 8785 canonical bytes (what is signed)
- ``encoding``    unpadded base64url and RFC 3339 UTC timestamps, one spelling each
- ``keys``        Ed25519 / Curve25519 node keys, key sets with validity periods, the keyring
- ``keyset``      publishing and accepting signed key sets (rotation, revocation, rollback)
- ``sealing``     sealed-box encryption of message bodies
- ``envelope``    ``seal`` and ``open_envelope``: the signed envelope and its verification order
- ``messages``    message types and their body schemas; ``record`` the record/conviction schema
- ``feed``        pull-feed rollback / freeze checks
- ``errors``      the error hierarchy with stable codes and HTTP statuses
- ``vectors``     known-answer test vectors (``python -m protocols.vectors --write|--check``)
"""
