"""Loopback fakes of Meta's CDN and Graph API, and the test's own upload encryption.

`encrypt_upload` follows docs/protocol.md ("Media uploads") step by step from the other side;
`reference_decrypt` is an independent, whole-file decryptor (no Flowgate code) that tests
use to check the fake serves what Meta would. Servers bind 127.0.0.1 port 0.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

GRAPH_PREFIX = "/v23.0"
ACCESS_TOKEN = "test-access-token"


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def encrypt_upload(plaintext: bytes) -> tuple[bytes, dict[str, str]]:
    """(cdn_file, encryption_metadata) as Meta's CDN would hold and describe an upload."""
    key, hmac_key, iv = os.urandom(32), os.urandom(32), os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    tag = hmac.new(hmac_key, iv + ciphertext, hashlib.sha256).digest()[:10]
    cdn_file = ciphertext + tag
    metadata = {
        "encrypted_hash": b64(hashlib.sha256(cdn_file).digest()),
        "iv": b64(iv),
        "encryption_key": b64(key),
        "hmac_key": b64(hmac_key),
        "plaintext_hash": b64(hashlib.sha256(plaintext).digest()),
    }
    return cdn_file, metadata


def reference_decrypt(cdn_file: bytes, metadata: dict[str, str]) -> bytes:
    """The five steps on a whole file; raises ValueError at the first failing one."""
    d = {k: base64.b64decode(v) for k, v in metadata.items()}
    if hashlib.sha256(cdn_file).digest() != d["encrypted_hash"]:
        raise ValueError("encrypted_hash")
    ciphertext, tag = cdn_file[:-10], cdn_file[-10:]
    mac = hmac.new(d["hmac_key"], d["iv"] + ciphertext, hashlib.sha256).digest()[:10]
    if not hmac.compare_digest(mac, tag):
        raise ValueError("hmac")
    decryptor = Cipher(algorithms.AES(d["encryption_key"]), modes.CBC(d["iv"])).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    plaintext = unpadder.update(padded) + unpadder.finalize()
    if hashlib.sha256(plaintext).digest() != d["plaintext_hash"]:
        raise ValueError("plaintext_hash")
    return plaintext


@dataclass
class Served:
    """What the fake answers on one path."""

    body: bytes
    statuses: list[int] = field(default_factory=list)  # answered (once each) before the body
    token: str | None = None  # required bearer token
    chunk: int = 64 * 1024
    delay: float = 0.0  # seconds between chunks
    cut_after: int | None = None  # close the connection after this many body bytes
    content_type: str = "application/octet-stream"
    announce: bool = True  # send Content-Length (else the body ends when the connection does)


class FakeMeta:
    """One loopback server playing Meta's CDN (any path) and Graph API (/v23.0/<id>)."""

    def __init__(self) -> None:
        self.paths: dict[str, Served] = {}
        self.requests: list[tuple[str, str | None]] = []  # (path, authorization)
        self.bytes_sent: dict[str, int] = {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake.requests.append((self.path, self.headers.get("Authorization")))
                served = fake.paths.get(self.path)
                if served is None:
                    return self._plain(404, b"not found")
                if served.token and self.headers.get("Authorization") != f"Bearer {served.token}":
                    return self._plain(401, b"no token")
                if served.statuses:
                    return self._plain(served.statuses.pop(0), b"try later")
                self.send_response(200)
                self.send_header("Content-Type", served.content_type)
                if served.announce:
                    self.send_header("Content-Length", str(len(served.body)))
                else:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                sent = 0
                limit = len(served.body) if served.cut_after is None else served.cut_after
                try:
                    while sent < limit:
                        part = served.body[sent : min(limit, sent + served.chunk)]
                        self.wfile.write(part)
                        self.wfile.flush()
                        sent += len(part)
                        fake.bytes_sent[self.path] = fake.bytes_sent.get(self.path, 0) + len(part)
                        if served.delay:
                            time.sleep(served.delay)
                except OSError:
                    return
                if served.cut_after is not None:
                    self.close_connection = True

            def _plain(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def graph_url(self) -> str:
        return self.base + GRAPH_PREFIX

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def cdn_upload(self, plaintext: bytes, name: str = "photo.jpg", **serve: Any) -> dict[str, Any]:
        """Put an encrypted upload on the fake CDN; the picker item an endpoint receives."""
        cdn_file, metadata = encrypt_upload(plaintext)
        assert reference_decrypt(cdn_file, metadata) == plaintext
        path = f"/v/t62/{hashlib.sha256(cdn_file).hexdigest()[:16]}.enc"
        self.paths[path] = Served(cdn_file, **serve)
        media_id = str(abs(hash(path)) % 10**15)
        return {
            "file_name": name,
            "media_id": media_id,
            "cdn_url": self.base + path,
            "encryption_metadata": metadata,
        }

    def cloud_media(
        self, plaintext: bytes, media_id: str, mime: str = "application/pdf", **serve: Any
    ) -> dict[str, Any]:
        """Put a Cloud API media on the fake; the item an nfm_reply carries."""
        digest = hashlib.sha256(plaintext).hexdigest()
        path = f"/whatsapp_business/attachments/?mid={media_id}"
        self.paths[path] = Served(plaintext, token=ACCESS_TOKEN, **serve)
        info = {
            "messaging_product": "whatsapp",
            "url": self.base + path,
            "mime_type": mime,
            "sha256": digest,
            "file_size": len(plaintext),
            "id": media_id,
        }
        self.paths[f"{GRAPH_PREFIX}/{media_id}"] = Served(
            json.dumps(info).encode(), token=ACCESS_TOKEN, content_type="application/json"
        )
        return {"id": media_id, "sha256": digest, "mime_type": mime, "file_name": "doc.pdf"}
