"""The public corpus: every MANIFEST document gives exactly the recorded findings.

tests/flowjson/corpus_expectations.json records, per document, whether it is valid and each
finding (code, level, pointer, line, column) with the reason the rules give for it.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from app.cli.flows import flows_group
from app.flowjson.validator import split_documents, validate_text

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).with_name("corpus")  # MIT-licensed documents, see corpus/README.md
MANIFEST = list(csv.DictReader((CORPUS / "MANIFEST.tsv").open(encoding="utf-8"), delimiter="\t"))
EXPECTED: list[dict[str, Any]] = json.loads(
    (Path(__file__).with_name("corpus_expectations.json")).read_text(encoding="utf-8")
)
BY_DOC = {(e["file"], e["key"]): e for e in EXPECTED}


def _prefix(key: str) -> str:
    return "" if key == "(file)" else f"/{key}"


def test_expectations_cover_the_manifest_exactly() -> None:
    assert sorted(BY_DOC) == sorted((r["file"], r["key"]) for r in MANIFEST)
    for entry in EXPECTED:
        assert entry["valid"] == all(f["level"] != "ERROR" for f in entry["findings"])
        assert all(f["reason"] for f in entry["findings"])


def test_containers_hold_exactly_the_manifest_documents() -> None:
    for name in {r["file"] for r in MANIFEST}:
        data = json.loads((CORPUS / name).read_text(encoding="utf-8"))
        keys = sorted(k for k, _ in split_documents(data))
        listed = sorted(_prefix(r["key"]) for r in MANIFEST if r["file"] == name)
        assert keys == listed


@pytest.mark.parametrize(
    "row", MANIFEST, ids=[f"{r['file'].split('__')[-1]}:{r['key']}" for r in MANIFEST]
)
def test_document_gives_expected_findings(row: dict[str, str]) -> None:
    findings = validate_text((CORPUS / row["file"]).read_text(encoding="utf-8"), row["file"])
    prefix = _prefix(row["key"])
    mine = [f for f in findings if not prefix or f.pointer.startswith(prefix + "/")]
    got = sorted((f.code, f.level.value, f.pointer, f.line, f.column) for f in mine)
    expected = BY_DOC[(row["file"], row["key"])]["findings"]
    want = sorted((f["code"], f["level"], f["pointer"], f["line"], f["column"]) for f in expected)
    assert got == want


def test_cli_on_the_whole_corpus(tmp_path: Path) -> None:
    """`flowgate flows validate` over every corpus file: exit 1 (one invalid document), and
    the JSON output is exactly the recorded findings."""
    files = sorted(str(CORPUS / name) for name in {r["file"] for r in MANIFEST})
    env = {"FLOWGATE_FLOWS_DIR": str(tmp_path), "FLOWGATE_SCHEMAS_DIR": str(tmp_path)}
    result = CliRunner().invoke(flows_group, ["validate", "--format", "json", *files], env=env)
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    got = sorted((Path(f["file"]).name, f["code"], f["pointer"], f["line"]) for f in out)
    want = sorted(
        (e["file"], f["code"], f["pointer"], f["line"]) for e in EXPECTED for f in e["findings"]
    )
    assert got == want
    valid = [e for e in EXPECTED if e["valid"]]
    assert (len(valid), len(EXPECTED) - len(valid)) == (34, 1)
