"""The node's own token-signing keys, kept under ``EXCHANGE_HOME/keys``.

Officer tokens are EdDSA (Ed25519) JWTs. Keys are chosen on decode only from this local key set, by an
allow-listed ``kid`` (a dict membership test; the raw header value is never used in a lookup or a path).
``jku``, ``x5u`` and ``jwk`` headers are ignored.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


@dataclass(frozen=True)
class TokenKey:
    kid: str
    private: Ed25519PrivateKey
    public: Ed25519PublicKey


class TokenKeys:
    """The current signing key plus older public keys still accepted (rotation overlap)."""

    def __init__(self, keys: list[TokenKey]) -> None:
        if not keys:
            raise ValueError("at least one token key is needed")
        self.current = keys[-1]
        self._by_kid = {k.kid: k for k in keys}

    def public_for(self, kid: object) -> Ed25519PublicKey | None:
        if not isinstance(kid, str):
            return None
        key = self._by_kid.get(kid)
        return key.public if key else None

    @classmethod
    def load_or_create(cls, home: Path) -> TokenKeys:
        folder = home / "keys" / "tokens"
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o700)
        paths = sorted(folder.glob("*.pem"))
        if not paths:
            kid = "tok-" + dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
            path = folder / f"{kid}.pem"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
            paths = [path]
        keys = []
        for path in paths:
            private = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(private, Ed25519PrivateKey):
                raise ValueError(f"{path.name} is not an Ed25519 key")
            keys.append(TokenKey(path.stem, private, private.public_key()))
        return cls(keys)
