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
last decrypted block is kept back for unpadding. Plaintext goes to `sink` (a temporary file)
before the checks are complete, so the caller must discard it unless `finish` returns.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Mapping

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

TAG_BYTES = 10
BLOCK_BYTES = 16


class MediaRejected(Exception):
    """The file failed a check; the message says which (it becomes the row's `error`)."""


def b64(value: str, name: str, size: int | None = None) -> bytes:
    """A base64 metadata value (standard or URL-safe alphabet, padding optional)."""
    text = value.strip()
    try:
        raw = base64.b64decode(
            text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4), validate=True
        )
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
        self._held = b""  # the last decrypted block, which carries the padding
        self._tail = b""
        self._sink = sink
        self.plaintext_size = 0
        self.head = b""  # the first bytes of plaintext, for type detection

    def update(self, chunk: bytes) -> None:
        if not chunk:
            return
        self._file_hash.update(chunk)
        view = memoryview(chunk)
        if len(chunk) >= TAG_BYTES:
            # what was held back is ciphertext after all; the new tail is held instead
            # (memoryview slices: no copy of the chunk)
            self._body(self._tail)
            self._body(view[:-TAG_BYTES])
            self._tail = bytes(view[-TAG_BYTES:])
        else:
            joined = self._tail + chunk
            self._body(joined[:-TAG_BYTES])
            self._tail = joined[-TAG_BYTES:]

    def _body(self, data: bytes | memoryview) -> None:
        if len(data):
            self._mac.update(data)
            self._plain_out(self._decryptor.update(data))

    def _plain_out(self, plain: bytes) -> None:
        """Emit decrypted blocks, always holding the last one back for unpadding."""
        if not plain:
            return
        view = memoryview(plain)
        self._emit(self._held)
        self._emit(view[:-BLOCK_BYTES])
        self._held = bytes(view[-BLOCK_BYTES:])

    def _emit(self, plain: bytes | memoryview) -> None:
        if len(plain):
            self._plain.update(plain)
            self.plaintext_size += len(plain)
            if len(self.head) < 8192:
                self.head += bytes(plain[: 8192 - len(self.head)])
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
            self._plain_out(self._decryptor.finalize())
        except ValueError:
            raise MediaRejected("decryption failed: bad length (wrong key?)") from None
        last = self._held
        pad = last[-1] if len(last) == BLOCK_BYTES else 0
        # PKCS7 (RFC 5652 §6.3): 1..16 bytes, each equal to the count. The HMAC already
        # vouched for the ciphertext, so this check leaks nothing an attacker can use.
        if not 1 <= pad <= BLOCK_BYTES or last[-pad:] != bytes([pad]) * pad:
            raise MediaRejected("decryption failed: bad padding (wrong key?)")
        self._emit(last[:-pad])
        self._held = b""
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
