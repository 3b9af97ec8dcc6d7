"""The queue's encryption at rest: a SecretBox key derived from the post's passphrase with Argon2id.

The salt and the Argon2id cost are stored next to the queue (they are not secret); the key never is. A
*verifier* (a fixed text sealed with the key) is stored too, so a wrong passphrase is told apart from a damaged
entry and can never write entries no one can read later. PyNaCl's SecretBox is XSalsa20-Poly1305 with a random
nonce per message: a changed byte of a stored entry fails to open instead of decrypting to something else.
"""

from __future__ import annotations

from dataclasses import dataclass

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils

# Argon2id cost for a new queue. MODERATE is libsodium's choice for protecting secret data at rest (256 MiB,
# about a second on a laptop): a thief of the machine pays that for every passphrase guessed.
DEFAULT_OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_MODERATE
DEFAULT_MEMLIMIT = nacl.pwhash.argon2id.MEMLIMIT_MODERATE
MIN_PASSPHRASE = 10
_VERIFIER = b"exchange post queue v1"


class WrongPassphrase(Exception):
    """The passphrase does not open this queue."""


class DamagedEntry(Exception):
    """A stored entry fails authentication (changed on disk, or written under another key)."""


@dataclass(frozen=True)
class KdfParams:
    salt: bytes
    opslimit: int = DEFAULT_OPSLIMIT
    memlimit: int = DEFAULT_MEMLIMIT

    @classmethod
    def fresh(cls, opslimit: int = DEFAULT_OPSLIMIT, memlimit: int = DEFAULT_MEMLIMIT) -> KdfParams:
        return cls(nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES), opslimit, memlimit)


class Vault:
    """Seals and opens queue entries with the key derived from the passphrase."""

    def __init__(self, passphrase: str, params: KdfParams) -> None:
        key = nacl.pwhash.argon2id.kdf(nacl.secret.SecretBox.KEY_SIZE, passphrase.encode(), params.salt,
                                       opslimit=params.opslimit, memlimit=params.memlimit)
        self._box = nacl.secret.SecretBox(key)

    def seal(self, plaintext: bytes) -> bytes:
        return bytes(self._box.encrypt(plaintext))

    def open(self, sealed: bytes) -> bytes:
        try:
            return self._box.decrypt(sealed)
        except nacl.exceptions.CryptoError:
            raise DamagedEntry("a queued entry cannot be decrypted (damaged or written under another key)") from None

    def verifier(self) -> bytes:
        return self.seal(_VERIFIER)

    def check(self, verifier: bytes) -> None:
        try:
            ok = self._box.decrypt(verifier) == _VERIFIER
        except nacl.exceptions.CryptoError:
            ok = False
        if not ok:
            raise WrongPassphrase("the passphrase does not open this queue")
