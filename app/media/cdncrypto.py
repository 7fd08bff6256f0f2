"""Streaming check and decryption of a file from Meta's CDN, in Meta's order.

docs/protocol.md ("Media uploads", from Meta's media_upload reference,
https://developers.facebook.com/docs/whatsapp/flows/reference/media_upload):
1. SHA-256 of the downloaded file equals `encrypted_hash`;
2. the file is ciphertext followed by a 10-byte tag: HMAC-SHA256(`hmac_key`, iv || ciphertext)
   truncated to 10 bytes equals that tail (compared in constant time);
3. AES-256-CBC decryption with `encryption_key` and `iv`, then PKCS7 unpadding;
4. SHA-256 of the plaintext equals `plaintext_hash`.
The file arrives in chunks and is never held whole: every chunk is hashed, MACed and
decrypted as it comes; the last 10 bytes seen are kept back as the candidate tag, and the
unpadder keeps back the last block. Plaintext goes to `sink` (a temporary file) before the
checks are complete, so the caller must discard it unless `finish` returns.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Mapping

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

TAG_BYTES = 10
BLOCK_BITS = 128


class MediaRejected(Exception):
    """The file failed a check; the message says which (it becomes the row's `error`)."""


def b64(value: str, name: str, size: int | None = None) -> bytes:
    """A base64 metadata value (standard or URL-safe alphabet, padding optional)."""
    text = value.strip()
    try:
        raw = base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise MediaRejected(f"encryption_metadata.{name} is not base64") from None
    if size is not None and len(raw) != size:
        raise MediaRejected(f"encryption_metadata.{name} must be {size} bytes, not {len(raw)}")
    return raw


class CdnDecryptor:
    """Feed the CDN file with `update`, then `finish`; plaintext goes to `sink`."""

    def __init__(self, metadata: Mapping[str, str], sink: Callable[[bytes], object]) -> None:
        self._encrypted_hash = b64(metadata["encrypted_hash"], "encrypted_hash", 32)
        self._plaintext_hash = b64(metadata["plaintext_hash"], "plaintext_hash", 32)
        iv = b64(metadata["iv"], "iv", 16)
        key = b64(metadata["encryption_key"], "encryption_key", 32)
        self._mac = hmac.new(b64(metadata["hmac_key"], "hmac_key"), iv, hashlib.sha256)
        self._file_hash = hashlib.sha256()
        self._plain = hashlib.sha256()
        self._decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        self._unpadder = padding.PKCS7(BLOCK_BITS).unpadder()
        self._tail = b""
        self._sink = sink
        self.plaintext_size = 0
        self.head = b""  # the first bytes of plaintext, for type detection

    def update(self, chunk: bytes) -> None:
        if not chunk:
            return
        self._file_hash.update(chunk)
        if len(chunk) >= TAG_BYTES:
            body, self._tail = self._tail + chunk[:-TAG_BYTES], chunk[-TAG_BYTES:]
        else:
            joined = self._tail + chunk
            body, self._tail = joined[:-TAG_BYTES], joined[-TAG_BYTES:]
        if body:
            self._mac.update(body)
            self._emit(self._unpadder.update(self._decryptor.update(body)))

    def _emit(self, plain: bytes) -> None:
        if plain:
            self._plain.update(plain)
            self.plaintext_size += len(plain)
            if len(self.head) < 8192:
                self.head += plain[: 8192 - len(self.head)]
            self._sink(plain)

    def finish(self) -> str:
        """Run the checks in Meta's order; the plaintext's SHA-256 (hex) when all pass."""
        if not hmac.compare_digest(self._file_hash.digest(), self._encrypted_hash):
            raise MediaRejected("encrypted_hash mismatch: the downloaded file is not the one sent")
        if len(self._tail) < TAG_BYTES or not hmac.compare_digest(
            self._mac.digest()[:TAG_BYTES], self._tail
        ):
            raise MediaRejected("HMAC mismatch: the file was altered or hmac_key is wrong")
        try:
            self._emit(self._unpadder.update(self._decryptor.finalize()))
            self._emit(self._unpadder.finalize())
        except ValueError:
            raise MediaRejected("decryption failed: bad length or padding (wrong key?)") from None
        digest = self._plain.digest()
        if not hmac.compare_digest(digest, self._plaintext_hash):
            raise MediaRejected("plaintext_hash mismatch: decrypted bytes are not the upload")
        return digest.hex()


def sha256_hex(value: str | None) -> str | None:
    """A Cloud API `sha256` as lowercase hex (Meta sends hex; base64 is tolerated)."""
    if not value:
        return None
    text = value.strip()
    if len(text) == 64 and all(c in "0123456789abcdefABCDEF" for c in text):
        return text.lower()
    try:
        raw = b64(text, "sha256", 32)
    except MediaRejected:
        return None
    return raw.hex()
