"""Run in a subprocess by test_limits.py and bench/media.py: fetch one file through the real
pipeline and print memory figures as JSON (peak RSS growth, Python allocation peak).

argv: media_dir cdn_url metadata_json [max_bytes]
"""

from __future__ import annotations

import json
import sys
import time
import tracemalloc
from pathlib import Path

from app.delivery.pinning import pinned_client
from app.delivery.ssrf import parse_networks
from app.media.download import FetchSettings, MediaJob, fetch
from app.media.storage import FileStore


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def main() -> None:
    media_dir, url, metadata = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    settings = FetchSettings(
        hosts=("127.0.0.1",), allow=parse_networks(["127.0.0.1/32"]), deadline=60.0
    )
    store = FileStore(Path(media_dir))
    job = MediaJob("probe", 1, "endpoint", url, metadata, None, None, ("*/*",))
    with pinned_client() as client:
        baseline = _status("VmRSS")
        tracemalloc.start()
        started = time.perf_counter()
        result = fetch(client, store, job, settings)
        seconds = time.perf_counter() - started
        _, python_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    print(
        json.dumps(
            {
                "status": result.status,
                "error": result.error,
                "size": result.size,
                "sha256": result.sha256,
                "seconds": seconds,
                "rss_baseline": baseline,
                "rss_peak": _status("VmHWM"),
                "python_peak": python_peak,
            }
        )
    )


if __name__ == "__main__":
    main()
