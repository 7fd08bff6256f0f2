"""Per-document Flow JSON validation time over the public corpus and the example flows.

Goal: median under 5 ms and largest under 50 ms per document, so validating every
flow at startup stays cheap. Each document is serialised on its own (pywa containers are
split) and timed through the full path `validate_text` (parse, validate, locate findings).
Baseline: `json.loads` of the same text, i.e. the cost of merely reading the document.

Second part: the CLI's wall time for one document, `flowgate flows validate FILE` as a
pre-commit hook runs it (goal < 0.2 s), next to the in-process time for the same document.
Baselines: `python -c pass` (the interpreter's own start) and the same validation through the
full Flask group (`app.cli.group.cli`, the path every command took before the fast path).
Commands are interleaved; each figure is the median of >= 5 runs with the spread (min-max).

Run: .venv/bin/python bench/validate.py [--repeat N] [--cli-runs N]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
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


# An installed Flowgate runs from cached bytecode (pip compiles it at install time); a shell
# with PYTHONDONTWRITEBYTECODE set would recompile every module on every run instead.
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _wall(command: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child): on a loaded box CPU shows the real cost."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=False, capture_output=True, env=_ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def cli_wall_time(runs: int) -> bool:
    """Print the CLI's wall time for one document; True when the median is under 0.2 s."""
    python = str(Path(sys.executable))
    flowgate = str(Path(sys.executable).with_name("flowgate"))
    with tempfile.TemporaryDirectory() as tmp:
        doc = Path(tmp) / "lead_capture.json"
        doc.write_text((ROOT / "flows" / "lead_capture.json").read_text(encoding="utf-8"))
        group = f"from app.cli.group import cli; cli.main(['flows', 'validate', {str(doc)!r}])"
        commands = {
            "flowgate flows validate FILE": [flowgate, "flows", "validate", str(doc)],
            "python -c pass (interpreter start)": [python, "-c", "pass"],
            "same through the Flask group (old path)": [python, "-c", group],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        for command in commands.values():  # warm-up: writes the bytecode cache once
            _wall(command)
        for _ in range(runs):  # interleaved, so load changes hit every command alike
            for name, command in commands.items():
                wall, used = _wall(command)
                times[name].append(wall)
                cpu[name].append(used)
        in_process = best_of(validate_text, doc.read_text(encoding="utf-8"), 30)
    print(
        f"\nCLI wall time for one document ({runs} interleaved runs, median [min-max]; "
        "CPU = user+sys of the process):"
    )
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, t in times.items():
        print(
            f"  {medians[name]:6.3f} s [{min(t):.3f}-{max(t):.3f}]  "
            f"CPU {statistics.median(cpu[name]):.3f} s  {name}"
        )
    cli = medians["flowgate flows validate FILE"]
    print(
        f"  in-process validate_text of the same document: {in_process:.3f} ms; CLI is "
        f"{cli / medians['python -c pass (interpreter start)']:.1f}x interpreter start, "
        f"{medians['same through the Flask group (old path)'] / cli:.1f}x faster than the old "
        "path (goal: CLI < 0.2 s)"
    )
    print(f"  load average during the run: {os.getloadavg()[0]:.1f} (wall times grow with it)")
    return cli < 0.2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--cli-runs", type=int, default=7)
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
    cli_ok = cli_wall_time(max(5, args.cli_runs))
    ok = median < 5 and largest < 50 and cli_ok
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
