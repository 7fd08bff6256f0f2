"""Per-document Flow JSON validation time over the public corpus and the example flows.

Goal: median under 5 ms and largest under 50 ms per document, so validating every
flow at startup stays cheap. Each document is serialised on its own (pywa containers are
split) and timed through the full path `validate_text` (parse, validate, locate findings).
Baseline: `json.loads` of the same text, i.e. the cost of merely reading the document.

Run: .venv/bin/python bench/validate.py [--repeat N]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.flowjson.validator import split_documents, validate_text  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "flow-json"


def documents() -> list[tuple[str, str]]:
    docs: list[tuple[str, str]] = []
    for path in sorted(CORPUS.glob("*.json")) + sorted((ROOT / "flows").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for prefix, doc in split_documents(data):
            docs.append((f"{path.name}{prefix and ':' + prefix[1:]}", json.dumps(doc, indent=2)))
    return docs


def stress_document() -> tuple[str, str]:
    """A synthetic worst case: 100 screens (the maximum) of 30 components each."""
    base = json.loads((ROOT / "flows" / "lead_capture.json").read_text(encoding="utf-8"))
    screen = base["screens"][0]
    screens = []
    for i in range(100):
        s = copy.deepcopy(screen)
        s["id"] = "S" + "".join(chr(65 + int(c)) for c in f"{i:03d}")
        children = s["layout"]["children"]
        s["layout"]["children"] = (
            children[:-1]
            + [{"type": "TextBody", "text": f"Line {j}"} for j in range(24)]
            + children[-1:]
        )
        screens.append(s)
    return "synthetic:100x30", json.dumps({"version": "7.3", "screens": screens}, indent=2)


def best_of(fn, text: str, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(text)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    rows = []
    for name, text in documents():
        rows.append(
            (
                name,
                len(text),
                best_of(validate_text, text, args.repeat),
                best_of(json.loads, text, args.repeat),
            )
        )
    rows.sort(key=lambda r: r[2])
    for name, size, ms, base in rows:
        print(f"{ms:8.3f} ms  {ms / base:6.1f}x json.loads  {size:7d} B  {name}")
    times = [r[2] for r in rows]
    median, largest = statistics.median(times), max(times)
    base_median = statistics.median(r[3] for r in rows)
    print(
        f"\n{len(rows)} documents: median {median:.3f} ms (goal < 5 ms), "
        f"largest {largest:.3f} ms (goal < 50 ms); "
        f"median json.loads {base_median:.3f} ms, ratio {median / base_median:.1f}x"
    )
    name, text = stress_document()
    ms = best_of(validate_text, text, max(3, args.repeat // 10))
    print(
        f"stress {name}: {len(text)} B, {ms:.2f} ms "
        f"({ms / best_of(json.loads, text, 5):.1f}x json.loads); informational, not a goal"
    )
    ok = median < 5 and largest < 50
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
