"""Validator gaps found on real documents, each shown on a minimal one-screen document:
backtick expressions, mixed text in payloads, expressions written without backticks, and
the severity policy (docs/flow-validation.md, "Severity")."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.flowjson.findings import Finding, Level
from app.flowjson.validator import validate_text

C = "/screens/0/layout/children"


def doc(
    *children: dict[str, Any],
    version: str = "7.3",
    action: dict[str, Any] | None = None,
    **data: str,
) -> str:
    """One terminal screen: `children`, then a Footer with `action` (default: complete)."""
    examples = {"string": "x", "number": 1, "boolean": True}
    screen_data = {k: {"type": t, "__example__": examples[t]} for k, t in data.items()}
    action = action or {"name": "complete"}
    footer = {"type": "Footer", "label": "Done", "on-click-action": action}
    return json.dumps(
        {
            "version": version,
            "screens": [
                {
                    "id": "ONLY",
                    "terminal": True,
                    "data": screen_data,
                    "layout": {"type": "SingleColumnLayout", "children": [*children, footer]},
                }
            ],
        },
        indent=1,
    )


def findings(text: str) -> list[tuple[str, str, str]]:
    return sorted((f.code, f.level.value, f.pointer) for f in validate_text(text, "t.json"))


def only(text: str) -> Finding:
    found = validate_text(text, "t.json")
    assert len(found) == 1, [f.format() for f in found]
    return found[0]


# --- backtick expressions: same parser and type rules as If conditions -------------------


def test_plus_on_strings_is_an_error_that_says_to_join_with_spaces() -> None:
    text = doc({"type": "TextBody", "text": "`'Name: ' + ${data.name}`"}, name="string")
    finding = only(text)
    assert (finding.code, finding.level, finding.pointer) == (
        "INVALID_PROPERTY_VALUE",
        Level.ERROR,
        f"{C}/0/text",
    )
    assert "numbers only" in finding.message and "side by side" in finding.message
    lines = text.splitlines()
    row = next(i for i, line in enumerate(lines) if '"text": "`' in line)
    assert (finding.line, finding.column) == (row + 1, lines[row].index('"text"') + 1)


def test_comparing_a_string_with_a_number_is_a_type_mismatch() -> None:
    text = doc({"type": "TextBody", "text": "Hi", "visible": "`${data.name} == 3`"}, name="string")
    finding = only(text)
    assert finding.is_error and finding.pointer == f"{C}/0/visible"
    assert "Type mismatch in an equality operation: string == number" in finding.message


def test_a_syntax_error_in_an_expression_is_reported() -> None:
    finding = only(doc({"type": "TextBody", "text": "`'a' == `"}))
    assert finding.is_error and "Missing operand after last operator" in finding.message


@pytest.mark.parametrize(
    "expression",
    [
        "`'Hello ' ${data.name}`",
        "`${data.n} * 2 + 1`",
        "`'Total: ' ${data.n} + ${data.n}`",
        "`-${data.n} % 3`",
        "`(${data.n} > 3) && ${data.name} != ''`",
        "`'Order \\\\` ' ${data.name}`",
    ],
)
def test_valid_expressions_give_no_finding(expression: str) -> None:
    text = doc({"type": "TextBody", "text": expression}, name="string", n="number")
    assert findings(text) == []


def test_expressions_need_flow_json_6_0_in_properties_and_in_payloads() -> None:
    body = {"type": "TextBody", "text": "`'Hi ' ${data.name}`"}
    text = doc(body, version="5.1", name="string")
    assert ("INVALID_PROPERTY_VALUE", "ERROR", f"{C}/0/text") in findings(text)
    assert findings(doc(body, version="6.0", name="string")) == []
    complete = {"name": "complete", "payload": {"v": "`${data.n} + 1`"}}
    payload = f"{C}/0/on-click-action/payload/v"
    assert ("INVALID_PROPERTY_VALUE", "ERROR", payload) in findings(
        doc(action=complete, version="5.1", n="number")
    )
    assert findings(doc(action=complete, version="6.0", n="number")) == []


def test_an_expression_giving_the_wrong_type_for_its_property_is_a_warning() -> None:
    text = doc({"type": "TextBody", "text": "Hi", "visible": "`'a' ${data.name}`"}, name="string")
    finding = only(text)
    assert (finding.level, finding.code) == (Level.WARNING, "INVALID_PROPERTY_TYPE")
    assert finding.source and finding.source.startswith("https://developers.facebook.com/")


def test_form_references_in_expressions_are_type_checked() -> None:
    text = doc(
        {"type": "TextInput", "name": "age", "label": "Age"},
        {"type": "OptIn", "name": "ok", "label": "OK"},
        {"type": "TextBody", "text": "Hi", "visible": "`${form.ok} == 'yes'`"},
    )
    finding = only(text)
    assert "boolean == string" in finding.message and finding.pointer == f"{C}/2/visible"


# --- mixed static and dynamic text in action payloads -------------------------------------


def test_mixed_text_in_a_payload_is_an_error_like_in_text_properties() -> None:
    complete = {"name": "complete", "payload": {"full": "Addr: ${data.city}"}}
    text = doc(action=complete, city="string")
    assert findings(text) == [
        ("INVALID_ON_CLICK_ACTION_PAYLOAD", "ERROR", f"{C}/0/on-click-action/payload/full")
    ]
    fixed = text.replace('"Addr: ${data.city}"', "\"`'Addr: ' ${data.city}`\"")
    assert findings(fixed) == []
    assert findings(text.replace('"Addr: ${data.city}"', '"${data.city}"')) == []


# --- an expression written without backticks --------------------------------------------


def test_an_expression_inside_a_reference_says_use_backticks() -> None:
    text = doc(
        {"type": "TextInput", "name": "d", "label": "D"},
        {"type": "TextInput", "name": "e", "label": "E", "enabled": "${form.d != ''}"},
    )
    finding = only(text)
    assert finding.pointer == f"{C}/1/enabled" and finding.is_error
    assert "backticks" in finding.message and "`${form.d} != ''`" in finding.message
    assert "Missing Form component" not in finding.message


# --- severity follows the evidence --------------------------------------------------------


def test_a_dropdown_label_over_meta_s_limit_is_a_warning_citing_the_source() -> None:
    dropdown = {
        "type": "Dropdown",
        "name": "pick",
        "label": "x" * 23,
        "data-source": [{"id": "a", "title": "A"}],
    }
    finding = only(doc(dropdown))
    assert (finding.code, finding.level) == ("MAX_CHARS_EXCEEDED", Level.WARNING)
    assert "20" in finding.message and "pywa uses 30" in finding.message
    assert (
        finding.source == "https://developers.facebook.com/docs/whatsapp/flows/reference/components"
    )
    assert "[source: https://developers.facebook.com/" in finding.format()


@pytest.mark.parametrize(
    ("version", "value"), [("5.0", "1700000000000"), ("4.0", "2024-01-01"), ("6.0", "01/02/2024")]
)
def test_disputed_date_picker_formats_are_warnings(version: str, value: str) -> None:
    picker = {"type": "DatePicker", "name": "when", "label": "When", "min-date": value}
    text = doc(picker, version=version)
    got = [f for f in validate_text(text, "t.json") if f.code == "INVALID_PROPERTY_VALUE_FORMAT"]
    assert len(got) == 1 and got[0].level is Level.WARNING and got[0].source


def test_calendar_picker_dates_stay_errors() -> None:
    picker = {"type": "CalendarPicker", "name": "when", "label": "When", "min-date": "2024/01/01"}
    assert ("INVALID_PROPERTY_VALUE_FORMAT", "ERROR", f"{C}/0/min-date") in findings(doc(picker))
