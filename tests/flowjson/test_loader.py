"""Loader: parse errors with their position, pointers mapped to line and column."""

from __future__ import annotations

from app.flowjson.loader import MAX_FLOW_JSON_BYTES, build_positions, load_text
from app.flowjson.validator import split_documents, validate_text

TEXT = '{\n  "version": "7.3",\n  "screens": [\n    {"id": "A~/B", "x": [1, {"y": true}]}\n  ]\n}\n'


def test_positions_of_members_and_items() -> None:
    loaded = load_text(TEXT)
    assert loaded.position("") == (1, 1)
    assert loaded.position("/version") == (2, 3)
    assert loaded.position("/screens") == (3, 3)
    assert loaded.position("/screens/0") == (4, 5)
    assert loaded.position("/screens/0/id") == (4, 6)
    assert loaded.position("/screens/0/x") == (4, 20)
    assert loaded.position("/screens/0/x/1") == (4, 29)
    assert loaded.position("/screens/0/x/1/y") == (4, 30)
    # A pointer to something absent falls back to its nearest present ancestor.
    assert loaded.position("/screens/0/missing") == (4, 5)


def test_escaped_keys_and_strings_with_brackets() -> None:
    text = '{"a/b": "x ] } ,", "c~d": {"e\\"f": [1]}}'
    positions = build_positions(text)
    assert positions["/a~1b"] == 1
    assert positions["/c~0d"] == text.index('"c~d"')
    assert positions['/c~0d/e"f'] == text.index('"e\\"f"')
    assert positions['/c~0d/e"f/0'] == text.index("[1]") + 1


def test_trailing_comma_is_invalid_flow_json_with_position() -> None:
    findings = validate_text('{\n  "version": "7.3",\n  "screens": [],\n}\n', "bad.json")
    assert len(findings) == 1
    finding = findings[0]
    assert (finding.code, finding.level.value, finding.pointer) == (
        "INVALID_FLOW_JSON",
        "ERROR",
        "",
    )
    assert (finding.line, finding.column) == (4, 1)
    assert finding.format().startswith("bad.json:4:1: ERROR INVALID_FLOW_JSON ")


def test_nan_is_not_json() -> None:
    findings = validate_text('{"version": NaN}')
    assert [f.code for f in findings] == ["INVALID_FLOW_JSON"]


def test_top_level_array_is_invalid() -> None:
    findings = validate_text("[]")
    assert [(f.code, f.pointer, f.line, f.column) for f in findings] == [
        ("INVALID_FLOW_JSON", "", 1, 1)
    ]


def test_oversized_text_is_refused_without_parsing() -> None:
    text = '{"version": "7.3", "pad": "' + "x" * MAX_FLOW_JSON_BYTES + '"}'
    assert [f.code for f in validate_text(text)] == ["INVALID_FLOW_JSON"]


def test_container_detection() -> None:
    doc = {"version": "7.3", "screens": []}
    assert split_documents(doc) == [("", doc)]
    assert split_documents({"a": doc, "b/c": doc}) == [("/a", doc), ("/b~1c", doc)]
    # A flow that merely lacks its keys is not mistaken for a container.
    assert split_documents({"a": {"x": 1}}) == [("", {"a": {"x": 1}})]
