"""Pure protocol library (no I/O): strict JSON, canonical JSON, signed envelopes, schemas. See docs/protocol.md."""
