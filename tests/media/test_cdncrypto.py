"""The streaming decryptor against the test's own encryption, in every chunking."""

from __future__ import annotations

import hashlib
import os

import pytest

from app.media.cdncrypto import CdnDecryptor, MediaRejected, sha256_hex
from tests.media.fakes import encrypt_upload, reference_decrypt


def _run(cdn_file: bytes, metadata: dict[str, str], chunk: int) -> tuple[str, bytes]:
    out = bytearray()
    decryptor = CdnDecryptor(metadata, out.extend)
    for i in range(0, len(cdn_file), chunk):
        decryptor.update(cdn_file[i : i + chunk])
    return decryptor.finish(), bytes(out)


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 4096, 100_003])
@pytest.mark.parametrize("chunk", [1, 9, 10, 11, 16, 65_536, 1 << 20])
def test_every_chunking_gives_the_plaintext(size: int, chunk: int) -> None:
    plaintext = os.urandom(size)
    cdn_file, metadata = encrypt_upload(plaintext)
    assert reference_decrypt(cdn_file, metadata) == plaintext  # the fake's files are right
    digest, out = _run(cdn_file, metadata, chunk)
    assert out == plaintext and digest == hashlib.sha256(plaintext).hexdigest()


def test_checks_run_in_metas_order() -> None:
    cdn_file, metadata = encrypt_upload(os.urandom(1000))
    # a changed file fails the first check even though its HMAC fails too
    with pytest.raises(MediaRejected, match="encrypted_hash"):
        _run(cdn_file[:-1] + bytes([cdn_file[-1] ^ 1]), metadata, 100)
    # a file too short to hold a tag fails the hash check first, then would fail the HMAC
    with pytest.raises(MediaRejected, match="encrypted_hash"):
        _run(cdn_file[:5], metadata, 100)
    short = cdn_file[:5]
    with pytest.raises(MediaRejected, match="HMAC"):
        _run(short, {**metadata, "encrypted_hash": _b64(hashlib.sha256(short).digest())}, 100)


def test_bad_metadata_is_a_clear_rejection() -> None:
    _, metadata = encrypt_upload(b"x")
    with pytest.raises(MediaRejected, match="iv must be 16 bytes"):
        CdnDecryptor({**metadata, "iv": _b64(b"short")}, print)
    with pytest.raises(MediaRejected, match="not base64"):
        CdnDecryptor({**metadata, "encryption_key": "***"}, print)


def test_cloud_api_sha256_forms() -> None:
    digest = hashlib.sha256(b"x").digest()
    assert sha256_hex(digest.hex().upper()) == digest.hex()
    assert sha256_hex(_b64(digest)) == digest.hex()
    assert sha256_hex("nope") is None and sha256_hex(None) is None


def _b64(raw: bytes) -> str:
    import base64

    return base64.b64encode(raw).decode()
