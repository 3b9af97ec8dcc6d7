"""Anonymous public-key encryption of message bodies: libsodium's sealed box (``crypto_box_seal``).

Wire form: ``ephemeral_pk (32) || crypto_box(body, nonce, recipient_pk, ephemeral_sk)`` with
``nonce = BLAKE2b-192(ephemeral_pk || recipient_pk)``: exactly what PyNaCl's ``SealedBox`` and every
libsodium binding produce and open. :func:`seal` lets a caller fix the ephemeral key so that the published
test vectors are deterministic; production code leaves it ``None`` (a fresh random key per message).

Why a sealed box and not ``Box(sender_sk, recipient_pk)``: a sealed box gives confidentiality only; sender
authentication comes from the Ed25519 signature over the envelope, which covers the ciphertext, sender and
recipient. A Box would add a second, redundant sender proof, tie every message to the sender's long-term box
key (so rotating or revoking a box key breaks old ciphertext handling), and be deniable in a way we do not
want for records that must be attributable.
"""

from __future__ import annotations

from collections.abc import Iterable

from nacl.bindings import crypto_box, crypto_box_NONCEBYTES
from nacl.encoding import RawEncoder
from nacl.exceptions import CryptoError
from nacl.hash import blake2b
from nacl.public import PrivateKey, PublicKey, SealedBox


def seal(recipient: PublicKey, plaintext: bytes, *, ephemeral: PrivateKey | None = None) -> bytes:
    """Encrypt ``plaintext`` so only the holder of ``recipient``'s secret key can read it."""
    if ephemeral is None:
        return bytes(SealedBox(recipient).encrypt(plaintext))
    epk = bytes(ephemeral.public_key)
    nonce = blake2b(epk + bytes(recipient), digest_size=crypto_box_NONCEBYTES, encoder=RawEncoder)
    return epk + crypto_box(plaintext, nonce, bytes(recipient), bytes(ephemeral))


def open_sealed(secret_keys: PrivateKey | Iterable[PrivateKey], ciphertext: bytes) -> bytes:
    """Try each of our box secret keys (several during a rotation); raise CryptoError if none opens it."""
    keys = [secret_keys] if isinstance(secret_keys, PrivateKey) else list(secret_keys)
    for key in keys:
        try:
            return bytes(SealedBox(key).decrypt(ciphertext))
        except CryptoError:
            continue
    raise CryptoError("no box key opens this ciphertext")
