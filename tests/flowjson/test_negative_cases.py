"""Every negative case fails with exactly the expected code, level, pointer, line and column."""

from __future__ import annotations

from typing import Any

import pytest

from app.flowjson.validator import validate_text
from tests.flowjson.cases import CASES, basic, endpoint, old
from tests.flowjson.jsonwriter import dump


@pytest.mark.parametrize("base", [basic, endpoint], ids=["basic", "endpoint"])
def test_base_documents_are_clean(base: Any) -> None:
    text, _ = dump(base())
    assert validate_text(text) == []


def test_old_base_only_warns_about_its_frozen_version() -> None:
    text, _ = dump(old())
    assert [(f.code, f.level.value) for f in validate_text(text)] == [
        ("UNSUPPORTED_FLOW_JSON_VERSION", "WARNING")
    ]


def test_there_are_plenty_of_cases() -> None:
    assert len(CASES) >= 80
    assert len({name for name, _, _ in CASES}) == len(CASES)


@pytest.mark.parametrize(("name", "doc", "expected"), CASES, ids=[c[0] for c in CASES])
def test_negative_case(
    name: str, doc: dict[str, Any], expected: list[tuple[str, str, str]]
) -> None:
    text, positions = dump(doc)
    findings = validate_text(text, f"{name}.json")
    got = sorted((f.code, f.level.value, f.pointer) for f in findings)
    assert got == sorted(expected), "\n".join(f.format() for f in findings)
    for finding in findings:
        assert finding.file == f"{name}.json"
        assert (finding.line, finding.column) == positions[finding.pointer], finding.format()
