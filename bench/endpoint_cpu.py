"""CPU time per Flow data endpoint request, in-process, as a ratio to one RSA-OAEP unwrap.

Usage: .venv/bin/python bench/endpoint_cpu.py [--requests 2000] [--repeat 5]
       [--postgres URL] [--profile KIND]

The robust figure on a shared, loaded machine: process CPU time (user + system,
`time.process_time`) per request barely moves with other processes' load, where req/s does.
The whole WSGI app (`wsgi:app`'s `create_app`, the endpoint shell included) is called
directly with a WSGI environ, so HTTP parsing and sockets are left out; bench/endpoint.py
measures those under gunicorn. The ratio "of the RSA ceiling" is the CPU of one RSA-OAEP
SHA-256 unwrap with the same key divided by the CPU of one request: the share of the
single-core RSA-bound rate this request type reaches when the server is CPU-bound.

Request kinds (each request its own AES key, every data request its own flow token, i.e. its
own session row, on the real `appointment` flow with its handlers):
- ping;
- init: INIT, the session row created, the handler's answer checked;
- exchange: data_exchange from APPOINTMENT (a department chosen): the session read, merged and
  written, the handler's answer checked (each token had its INIT first, untimed);
- every kind is interleaved with the others `--repeat` times; median and spread printed.
`--profile KIND` runs cProfile (timed by process CPU, so waits on PostgreSQL do not count)
over one round of that kind and prints the top entries.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from endpoint import APP_SECRET, TOKEN_SECRET, prepare_instance  # noqa: E402

from app.crypto.envelope import OAEP, encrypt_request  # noqa: E402
from app.crypto.signatures import hub_signature  # noqa: E402
from app.crypto.tokens import issue_token  # noqa: E402

KINDS = ("ping", "init", "exchange")


def payloads(kind: str, n: int, salt: str) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        if kind == "ping":
            out.append({"version": "3.0", "action": "ping"})
            continue
        token = issue_token(TOKEN_SECRET, flow="appointment", wa_id=f"44{salt}{i:06d}").flow_token
        if kind == "init":
            out.append({"version": "3.0", "action": "INIT", "flow_token": token})
        else:
            out.append(
                {
                    "version": "3.0",
                    "action": "data_exchange",
                    "screen": "APPOINTMENT",
                    "data": {"department": "cardiology"},
                    "flow_token": token,
                }
            )
    return out


def environ(body: bytes) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/flows/appointment/endpoint",
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json",
        "HTTP_X_HUB_SIGNATURE_256": hub_signature(APP_SECRET, body),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
    }


def prepared(key: Any, items: list[dict[str, Any]]) -> list[tuple[bytes, Any]]:
    out = []
    for payload in items:
        envelope, cipher = encrypt_request(key.public_key(), payload)
        out.append((json.dumps(envelope.to_dict()).encode(), cipher))
    return out


def call(app: Any, body: bytes, cipher: Any) -> dict[str, Any]:
    seen: list[str] = []
    chunks = app(environ(body), lambda status, headers, *a: seen.append(status))
    raw = b"".join(chunks)
    if not seen or not seen[0].startswith("200"):
        raise SystemExit(f"request failed: {seen} {raw[:200]!r}")
    answer = cipher.decrypt(raw)
    if "error_message" in (answer.get("data") or {}):  # an error screen is not the measured path
        raise SystemExit(f"error answer: {answer['data']['error_message']}")
    return answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests per kind per run")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", help="PostgreSQL URL (a scratch schema is used)")
    parser.add_argument("--profile", choices=KINDS)
    opts = parser.parse_args()
    if os.environ.get("BENCH_PIN_CPU"):
        os.sched_setaffinity(0, {int(os.environ["BENCH_PIN_CPU"])})
    with tempfile.TemporaryDirectory(prefix="flowgate-cpu-") as tmp:
        env, key = prepare_instance(Path(tmp))
        schema = None
        if opts.postgres:
            schema, env["FLOWGATE_DATABASE_URL"] = postgres_schema(opts.postgres)
        os.environ.update(env)
        from app import create_app

        app = create_app().wsgi_app
        n, rounds = opts.requests, 1 if opts.profile else opts.repeat
        results: dict[str, list[float]] = {k: [] for k in ("rsa", *KINDS)}
        wrapped = [key.public_key().encrypt(os.urandom(16), OAEP) for _ in range(n)]
        try:
            for r in range(rounds):
                t0 = time.process_time()
                for blob in wrapped:
                    key.decrypt(blob, OAEP)
                results["rsa"].append((time.process_time() - t0) / n)
                for kind in KINDS if not opts.profile else (opts.profile,):
                    pool = prepared(key, payloads(kind, n, f"{r}{KINDS.index(kind)}"))
                    if kind == "exchange":  # every token's session exists (INIT), untimed
                        for body, cipher in prepared(key, [
                            {"version": "3.0", "action": "INIT", "flow_token": p["flow_token"]}
                            for p in payloads(kind, n, f"{r}{KINDS.index(kind)}")
                        ]):  # fmt: skip
                            call(app, body, cipher)
                    profiler = cProfile.Profile(time.process_time) if opts.profile else None
                    t0 = time.process_time()
                    if profiler:
                        profiler.enable()
                    for body, cipher in pool:
                        call(app, body, cipher)
                    if profiler:
                        profiler.disable()
                    results[kind].append((time.process_time() - t0) / n)
                    if profiler:
                        stats = pstats.Stats(profiler).sort_stats("cumulative")
                        stats.print_stats(45)
                        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        finally:
            if schema:
                drop_schema(opts.postgres, schema)
    rsa = sorted(results["rsa"])[len(results["rsa"]) // 2]
    db = "PostgreSQL" if opts.postgres else "SQLite"
    print(f"{db}, {n} requests per kind, {rounds} interleaved runs; CPU per request (process)")
    print(f"{'kind':<10}{'median us':>10}{'spread us':>18}{'ratio to RSA':>14}  (spread)")
    for kind, values in results.items():
        v = sorted(values)
        if not v:
            continue
        med = v[len(v) // 2]
        print(
            f"{kind:<10}{med * 1e6:>10.0f}{f'{v[0] * 1e6:.0f}-{v[-1] * 1e6:.0f}':>18}"
            f"{rsa / med:>14.2f}  ({rsa / v[-1]:.2f}-{rsa / v[0]:.2f})"
        )
    # Every request pays one unwrap, so this ratio is the share of the single-core RSA-bound
    # rate a CPU-bound server reaches for the kind (bench/README.md).


def postgres_schema(url: str) -> tuple[str, str]:
    import uuid

    from sqlalchemy import create_engine, text

    from app.models import Base

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        conn.execute(text(f'SET search_path TO "{schema}"'))
        Base.metadata.create_all(conn)
    engine.dispose()
    sep = "&" if "?" in url else "?"
    return schema, f"{url}{sep}options=-csearch_path%3D{schema}"


def drop_schema(url: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


if __name__ == "__main__":
    main()
