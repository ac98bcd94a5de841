"""AES-GCM sealing of small secrets at rest, keyed from the installation's secret key."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE = 12


class AesGcmSecretBox:
    """Seals with a random 96-bit nonce stored in front of the ciphertext."""

    def __init__(self, secret_key: bytes, purpose: bytes) -> None:
        # A key of its own per purpose: the raw secret key also keys HMACs elsewhere.
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret_key)
        self._aead = AESGCM(key)

    def seal(self, plain: bytes, context: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, plain, context)

    def open(self, sealed: bytes, context: bytes) -> bytes:
        try:
            return self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], context)
        except InvalidTag as exc:  # another key, another row's secret, or changed bytes
            raise ValueError("sealed secret does not open") from exc
