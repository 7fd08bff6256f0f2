"""One fetch of one file: download, verify, decrypt, detect its type, store it.

Safety rules (docs/media.md): a download URL's host must be in FLOWGATE_MEDIA_HOSTS (before
anything is resolved or dialled), then it passes the webhook SSRF guard
(app/delivery/ssrf.py) and the connection goes only to the vetted addresses under one
overall deadline (app/delivery/pinning.py). Plain http is refused unless every address lies
in FLOWGATE_WEBHOOK_ALLOW_NETWORKS (test fakes, an internal mirror). No redirects, no
decompression, at most FLOWGATE_MAX_MEDIA_BYTES. The bytes stream through in chunks to a
staged file that becomes visible only once every check passed.

Endpoint uploads come from `cdn_url`, encrypted (app/media/cdncrypto.py). Webhook uploads
are Cloud API media: `GET {GRAPH_API_URL}/{media_id}` with the access token gives a
short-lived `url` that is downloaded with the same token; its SHA-256 must equal `sha256`
(https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from app.config import DEFAULT_GRAPH_API_URL, DEFAULT_MEDIA_HOSTS, DEFAULT_MEDIA_TYPES
from app.delivery.pinning import attempt_scope
from app.delivery.ssrf import (
    IPNetwork,
    Resolver,
    SSRFRefused,
    VettedTarget,
    check_url_shape,
    system_resolver,
    vet_url,
)
from app.media.cdncrypto import TAG_BYTES, CdnDecryptor, MediaRejected, sha256_hex
from app.media.storage import MediaStore
from app.media.types import allowed, detect_mime

STORED, RETRY, FAILED = "stored", "retry", "failed"
GRAPH_ANSWER_BYTES = 64 * 1024
_TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class Transient(Exception):
    """Worth another try later (network trouble, timeouts, 429/5xx)."""


@dataclass(frozen=True)
class FetchSettings:
    """Limits and addresses of media fetches (seconds and bytes)."""

    hosts: tuple[str, ...] = DEFAULT_MEDIA_HOSTS
    max_bytes: int = 26_214_400
    types: tuple[str, ...] = DEFAULT_MEDIA_TYPES
    allow: Sequence[IPNetwork] = ()
    resolver: Resolver = system_resolver
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    deadline: float = 300.0
    graph_api_url: str = DEFAULT_GRAPH_API_URL
    access_token: str | None = None
    # None: each network read as it comes (httpcore reads 64 KiB), no re-chunking copy
    chunk_size: int | None = None


@dataclass(frozen=True)
class MediaJob:
    """A claimed media row: what one fetch needs (no session)."""

    id: str
    fence: int
    source: str
    cdn_url: str | None
    encryption: dict[str, str] | None
    meta_media_id: str | None
    expected_sha256: str | None
    allowed_types: tuple[str, ...] | None
    submission_id: str | None = None


@dataclass(frozen=True)
class FetchResult:
    status: str  # stored | retry | failed
    error: str | None = None
    sha256: str | None = None
    size: int | None = None
    mime_type: str | None = None
    storage_key: str | None = None


def host_allowed(host: str, hosts: Sequence[str]) -> bool:
    """`host` is one of `hosts` or a subdomain of one (`mmg.whatsapp.net` ∈ whatsapp.net)."""
    host = host.lower().rstrip(".")
    return any(host == h or host.endswith("." + h) for h in hosts)


def fetch(
    client: httpx.Client, store: MediaStore, job: MediaJob, settings: FetchSettings
) -> FetchResult:
    """Fetch, verify and store `job`'s file; never raises for bad files or networks."""
    deadline = time.monotonic() + settings.deadline
    try:
        if job.source == "endpoint":
            return _from_cdn(client, store, job, settings, deadline)
        return _from_graph(client, store, job, settings, deadline)
    except MediaRejected as exc:
        return FetchResult(FAILED, error=str(exc)[:500])
    except Transient as exc:
        return FetchResult(RETRY, error=str(exc)[:500])


def _vet(url: str, settings: FetchSettings, *, media_host: bool) -> VettedTarget:
    try:
        scheme, host, _port = check_url_shape(url)
        if media_host and not host_allowed(host, settings.hosts):
            raise MediaRejected(f"host {host} is not in FLOWGATE_MEDIA_HOSTS; not fetched")
        target = vet_url(url, allow=settings.allow, resolver=settings.resolver)
    except SSRFRefused as exc:
        raise MediaRejected(f"SSRF guard: {exc.message}") from None
    if scheme != "https" and not all(_in(a, settings.allow) for a in target.addresses):
        raise MediaRejected("only https downloads are allowed")
    return target


def _in(address: str, networks: Sequence[IPNetwork]) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return any(ip in net for net in networks)


@contextmanager
def _get(
    client: httpx.Client,
    target: VettedTarget,
    settings: FetchSettings,
    deadline: float,
    token: str | None = None,
) -> Iterator[httpx.Response]:
    """A streamed GET of a vetted URL; 2xx or an exception saying what went wrong."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    timeout = httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout)
    try:
        with (
            attempt_scope(target, deadline),
            client.stream("GET", target.url, headers=headers, timeout=timeout) as response,
        ):
            status = response.status_code
            if status in _TRANSIENT_STATUS:
                raise Transient(f"HTTP {status} from {target.host}")
            if not 200 <= status < 300:
                raise MediaRejected(f"HTTP {status} from {target.host}")
            yield response
    except httpx.TimeoutException as exc:
        raise Transient(f"timeout from {target.host}: {type(exc).__name__}") from None
    except httpx.HTTPError as exc:
        raise Transient(f"{type(exc).__name__} from {target.host}: {exc}"[:300]) from None


def _chunks(response: httpx.Response, limit: int, chunk: int | None) -> Iterator[bytes]:
    """The raw body, refusing more than `limit` bytes (announced or received)."""
    announced = response.headers.get("content-length", "")
    if announced.isdigit() and int(announced) > limit:
        raise MediaRejected(f"file too large: {announced} bytes announced, limit {limit}")
    received = 0
    for data in response.iter_raw(chunk):
        received += len(data)
        if received > limit:
            raise MediaRejected(f"file too large: more than {limit} bytes")
        yield data


def _from_cdn(
    client: httpx.Client,
    store: MediaStore,
    job: MediaJob,
    settings: FetchSettings,
    deadline: float,
) -> FetchResult:
    if not job.cdn_url or not job.encryption:
        raise MediaRejected("no cdn_url or encryption_metadata to fetch the file with")
    target = _vet(job.cdn_url, settings, media_host=True)
    with store.stage() as staged:
        decryptor = CdnDecryptor(job.encryption, staged.file.write)
        # ciphertext: the plaintext plus up to one block of padding, then the 10-byte tag
        limit = settings.max_bytes + 16 + TAG_BYTES
        with _get(client, target, settings, deadline) as response:
            for data in _chunks(response, limit, settings.chunk_size):
                decryptor.update(data)
        digest = decryptor.finish()
        if decryptor.plaintext_size > settings.max_bytes:
            raise MediaRejected(f"file too large: limit {settings.max_bytes} bytes")
        return _keep(staged, job, settings, digest, decryptor.plaintext_size, decryptor.head)


def _from_graph(
    client: httpx.Client,
    store: MediaStore,
    job: MediaJob,
    settings: FetchSettings,
    deadline: float,
) -> FetchResult:
    if not settings.access_token:
        raise MediaRejected("FLOWGATE_ACCESS_TOKEN is not set: cannot fetch Cloud API media")
    if not job.meta_media_id:
        raise MediaRejected("no media id")
    url = f"{settings.graph_api_url.rstrip('/')}/{quote(job.meta_media_id, safe='')}"
    info = _graph_info(client, _vet(url, settings, media_host=False), settings, deadline)
    announced = info.get("file_size")
    if isinstance(announced, int) and announced > settings.max_bytes:
        raise MediaRejected(f"file too large: {announced} bytes, limit {settings.max_bytes}")
    expected = {h for h in (sha256_hex(info.get("sha256")), sha256_hex(job.expected_sha256)) if h}
    if len(expected) != 1:
        raise MediaRejected(
            "no single sha256 to check the file against"
            if not expected
            else "the Graph API's sha256 differs from the message's"
        )
    download = info.get("url")
    if not isinstance(download, str):
        raise MediaRejected("the Graph API answer has no url")
    target = _vet(download, settings, media_host=True)
    with store.stage() as staged:
        hasher = hashlib.sha256()
        head = b""
        size = 0
        token = settings.access_token
        with _get(client, target, settings, deadline, token=token) as response:
            for data in _chunks(response, settings.max_bytes, settings.chunk_size):
                hasher.update(data)
                staged.file.write(data)
                size += len(data)
                if len(head) < 8192:
                    head += data[: 8192 - len(head)]
        digest = hasher.hexdigest()
        if not hmac.compare_digest(digest, expected.pop()):
            raise MediaRejected("sha256 mismatch: the downloaded file is not the upload")
        return _keep(staged, job, settings, digest, size, head)


def _graph_info(
    client: httpx.Client, target: VettedTarget, settings: FetchSettings, deadline: float
) -> dict[str, Any]:
    with _get(client, target, settings, deadline, token=settings.access_token) as response:
        raw = b"".join(_chunks(response, GRAPH_ANSWER_BYTES, GRAPH_ANSWER_BYTES))
    try:
        info = json.loads(raw)
    except ValueError:
        raise MediaRejected("the Graph API answer is not JSON") from None
    if not isinstance(info, dict):
        raise MediaRejected("the Graph API answer is not an object")
    return info


def _keep(
    staged: Any, job: MediaJob, settings: FetchSettings, digest: str, size: int, head: bytes
) -> FetchResult:
    mime = detect_mime(head)
    types = job.allowed_types or settings.types
    if not allowed(mime, types):
        raise MediaRejected(f"type {mime} is not allowed for this flow ({', '.join(types)})")
    key = staged.commit(digest)
    return FetchResult(STORED, sha256=digest, size=size, mime_type=mime, storage_key=key)
