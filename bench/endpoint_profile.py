"""Profile: where one gunicorn worker spends its CPU on Flow endpoint requests (py-spy).

    .venv/bin/python bench/endpoint_profile.py --kind ping
    .venv/bin/python bench/endpoint_profile.py --kind exchange --seconds 8 --top 40

Same set-up as bench/endpoint.py (throw-away instance, SQLite, the production settings
`gunicorn -c python:app.serving` with one worker pinned to CPU 0, the load pinned to CPU 1,
closed loop over 8 keep-alive connections). While the load runs, py-spy samples the worker
and keeps only samples where a thread holds the GIL (`--gil`), so idle threads and threads
waiting for the GIL are left out and the shares are shares of the worker's Python work. Also
printed: the worker's user and system CPU per request, from /proc, and the RSA-OAEP unwrap's
CPU measured on the same core, the floor of every request.

py-spy (https://github.com/benfred/py-spy) is in the dev extras; it reads the worker's memory
with ptrace, which needs root or `kernel.yama.ptrace_scope = 0`.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import endpoint as bench  # noqa: E402


def cpu(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of `pid` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def shares(raw: Path, top: int) -> None:
    """Print own and inclusive shares per function from py-spy's raw (collapsed) output."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        if not line.strip():
            continue
        stack, count = line.rsplit(" ", 1)
        frames, n = stack.split(";"), int(count)
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    print(f"\n{total} samples with the GIL held")
    for title, counter in (("own time", own), ("inclusive", inclusive)):
        print(f"--- {title}")
        for frame, n in counter.most_common(top):
            print(f"{100 * n / total:5.1f} %  {frame}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", default="ping", choices=["ping", "data", "init", "exchange"])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--top", type=int, default=30)
    opts = parser.parse_args()
    spy = shutil.which("py-spy") or str(ROOT / ".venv/bin/py-spy")
    if not Path(spy).exists():
        sys.exit("py-spy is not installed: .venv/bin/pip install -e '.[dev]'")
    os.sched_setaffinity(0, {bench.LOAD_CPU})
    with tempfile.TemporaryDirectory(prefix="flowgate-bench-") as tmp:
        env, key = bench.prepare_instance(Path(tmp))
        _, rsa_cpu = bench.rsa_probe(Path(env["FLOWGATE_PRIVATE_KEY_FILE"]))
        port = bench.free_port()
        pool = bench.build_pool(key, opts.kind, int(1200 * opts.seconds) + 300, port)
        server = bench.start_server(env, port, ["-c", "python:app.serving", "--workers", "1"])
        raw = Path(tmp) / "spy.txt"
        try:
            time.sleep(1.0)
            loop = asyncio.new_event_loop()
            loop.run_until_complete(bench.closed_loop("warm-up", pool[:300], port, 8, 1.0))
            (pid,) = bench.worker_pids(server.pid)
            record = [spy, "record", "-p", str(pid), "-d", str(int(opts.seconds) + 1), "-r", "500",
                      "-f", "raw", "-o", str(raw), "--nonblocking", "--gil"]  # fmt: skip
            sampler = subprocess.Popen(record, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(0.5)
            user0, sys0 = cpu(pid)
            result = loop.run_until_complete(
                bench.closed_loop(opts.kind, pool[300:], port, 8, opts.seconds)
            )
            user1, sys1 = cpu(pid)
            _, errors = sampler.communicate()
            loop.close()
        finally:
            bench.stop_server(server)
        n = max(1, result.count)
        print(f"{opts.kind}: {result.rps:,.0f} req/s, {result.errors} errors")
        print(
            f"worker CPU per request: user {1e6 * (user1 - user0) / n:,.0f} us, system "
            f"{1e6 * (sys1 - sys0) / n:,.0f} us; one RSA unwrap on that core "
            f"{1e6 * rsa_cpu:,.0f} us"
        )
        if not raw.exists():
            sys.exit(f"py-spy wrote nothing: {errors.decode(errors='replace')[-400:]}")
        shares(raw, opts.top)


if __name__ == "__main__":
    main()
