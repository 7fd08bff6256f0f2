"""Negative cases: small Flow JSON documents that break one rule each.

Each case is (id, document, expected findings as (code, level, pointer)). Documents are
built from two valid base flows by a small mutation, so the broken rule is easy to see.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

E, W = "ERROR", "WARNING"
S0, S1 = "/screens/0", "/screens/1"
C0, C1 = "/screens/0/layout/children", "/screens/1/layout/children"
Doc = dict[str, Any]


def basic() -> Doc:
    """Endpoint-less 7.3 flow: FIRST navigates to the terminal LAST, which completes."""
    return {
        "version": "7.3",
        "screens": [
            {
                "id": "FIRST",
                "title": "First",
                "data": {"greeting": {"type": "string", "__example__": "Hi"}},
                "layout": {
                    "type": "SingleColumnLayout",
                    "children": [
                        {"type": "TextHeading", "text": "${data.greeting}"},
                        {
                            "type": "TextInput",
                            "name": "full_name",
                            "label": "Name",
                            "required": True,
                        },
                        {
                            "type": "Footer",
                            "label": "Next",
                            "on-click-action": {
                                "name": "navigate",
                                "next": {"type": "screen", "name": "LAST"},
                                "payload": {"full_name": "${form.full_name}"},
                            },
                        },
                    ],
                },
            },
            {
                "id": "LAST",
                "title": "Last",
                "terminal": True,
                "data": {"full_name": {"type": "string", "__example__": "Ada"}},
                "layout": {
                    "type": "SingleColumnLayout",
                    "children": [
                        {"type": "TextBody", "text": "${data.full_name}"},
                        {"type": "OptIn", "name": "consent", "label": "I agree"},
                        {
                            "type": "Footer",
                            "label": "Done",
                            "on-click-action": {
                                "name": "complete",
                                "payload": {
                                    "full_name": "${data.full_name}",
                                    "consent": "${form.consent}",
                                },
                            },
                        },
                    ],
                },
            },
        ],
    }


OPTIONS = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"id": {"type": "string"}, "title": {"type": "string"}},
    },
    "__example__": [{"id": "a", "title": "A"}],
}


def endpoint() -> Doc:
    """Endpoint 7.3 flow: START (dynamic dropdown, data_exchange) -> END (terminal)."""
    return {
        "version": "7.3",
        "data_api_version": "3.0",
        "routing_model": {"START": ["END"], "END": []},
        "screens": [
            {
                "id": "START",
                "data": {"options": copy.deepcopy(OPTIONS)},
                "layout": {
                    "type": "SingleColumnLayout",
                    "children": [
                        {
                            "type": "Dropdown",
                            "name": "choice",
                            "label": "Choice",
                            "data-source": "${data.options}",
                            "on-select-action": {
                                "name": "data_exchange",
                                "payload": {"choice": "${form.choice}"},
                            },
                        },
                        {
                            "type": "Footer",
                            "label": "Next",
                            "on-click-action": {
                                "name": "data_exchange",
                                "payload": {"choice": "${form.choice}"},
                            },
                        },
                    ],
                },
            },
            {
                "id": "END",
                "terminal": True,
                "layout": {
                    "type": "SingleColumnLayout",
                    "children": [
                        {"type": "TextBody", "text": "Thanks"},
                        {
                            "type": "Footer",
                            "label": "Done",
                            "on-click-action": {"name": "data_exchange", "payload": {}},
                        },
                    ],
                },
            },
        ],
    }


def old() -> Doc:
    """Endpoint-less 3.1 flow: one terminal screen with a Form (inputs must be in it)."""
    return {
        "version": "3.1",
        "screens": [
            {
                "id": "ONLY",
                "terminal": True,
                "layout": {
                    "type": "SingleColumnLayout",
                    "children": [
                        {
                            "type": "Form",
                            "name": "form",
                            "children": [
                                {"type": "TextInput", "name": "q", "label": "Question"},
                                {
                                    "type": "Footer",
                                    "label": "Send",
                                    "on-click-action": {
                                        "name": "complete",
                                        "payload": {"q": "${form.q}"},
                                    },
                                },
                            ],
                        }
                    ],
                },
            }
        ],
    }


# ---- mutation helpers -------------------------------------------------------------------------


def _walk(doc: Any, path: str) -> tuple[Any, str | int]:
    tokens = [int(t) if t.isdigit() else t for t in path.strip("/").split("/")]
    node = doc
    for token in tokens[:-1]:
        node = node[token]
    return node, tokens[-1]


def put(path: str, value: Any) -> Callable[[Doc], None]:
    def apply(doc: Doc) -> None:
        parent, key = _walk(doc, path)
        parent[key] = copy.deepcopy(value)

    return apply


def drop(path: str) -> Callable[[Doc], None]:
    def apply(doc: Doc) -> None:
        parent, key = _walk(doc, path)
        del parent[key]

    return apply


def add(path: str, *values: Any, at: int | None = None) -> Callable[[Doc], None]:
    """Insert components (or items) into the list at `path` (default: before its last item)."""

    def apply(doc: Doc) -> None:
        parent, key = _walk(doc, path)
        target = parent[key]
        index = len(target) - 1 if at is None else at
        for offset, value in enumerate(values):
            target.insert(index + offset, copy.deepcopy(value))

    return apply


def version(value: str) -> Callable[[Doc], None]:
    return put("/version", value)


CASES: list[tuple[str, Doc, list[tuple[str, str, str]]]] = []


def case(
    name: str,
    base: Callable[[], Doc],
    *changes: Callable[[Doc], None],
    expect: list[tuple[str, str, str]],
) -> None:
    doc = base()
    for change in changes:
        change(doc)
    CASES.append((name, doc, expect))


def link(action: dict[str, Any], text: str = "More") -> dict[str, Any]:
    return {"type": "EmbeddedLink", "text": text, "on-click-action": action}


def nav(target: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": "navigate",
        "next": {"type": "screen", "name": target},
        "payload": payload or {},
    }


def body(n: int) -> list[dict[str, Any]]:
    return [{"type": "TextBody", "text": f"Line {i}"} for i in range(n)]


FROZEN = ("UNSUPPORTED_FLOW_JSON_VERSION", W, "/version")
PHOTO = {"type": "PhotoPicker", "name": "photo", "label": "Photo"}
DOCS = {"type": "DocumentPicker", "name": "doc", "label": "Document"}
RADIO = {
    "type": "RadioButtonsGroup",
    "name": "pick",
    "label": "Pick",
    "data-source": [{"id": "a", "title": "A"}],
}
IF = {
    "type": "If",
    "condition": "${form.consent}",
    "then": [{"type": "TextBody", "text": "Thanks"}],
}
NAVLIST = {
    "type": "NavigationList",
    "name": "menu",
    "list-items": [
        {
            "id": "a",
            "main-content": {"title": "A"},
            "on-click-action": nav("LAST", {"full_name": "Ada"}),
        }
    ],
}
DONE = {"type": "Footer", "label": "Done", "on-click-action": {"name": "complete", "payload": {}}}

# ---- top level and versions -------------------------------------------------------------------
case("version-missing", basic, drop("/version"), expect=[("MISSING_FLOW_JSON_VERSION", E, "")])
case(
    "version-unknown", basic, version("8.0"), expect=[("INVALID_FLOW_JSON_VERSION", E, "/version")]
)
case(
    "version-7-10-is-not-7-1",
    basic,
    version("7.10"),
    expect=[("INVALID_FLOW_JSON_VERSION", E, "/version")],
)
case(
    "version-number", basic, put("/version", 7.3), expect=[("INVALID_PROPERTY_TYPE", E, "/version")]
)
case("version-frozen", basic, version("5.0"), expect=[FROZEN])
case(
    "top-unknown-key", basic, put("/theme", "dark"), expect=[("INVALID_PROPERTY_KEY", E, "/theme")]
)
case(
    "data-channel-uri-after-3",
    basic,
    put("/data_channel_uri", "https://example.com"),
    expect=[("INVALID_PROPERTY_KEY", E, "/data_channel_uri")],
)
case("screens-missing", basic, drop("/screens"), expect=[("MISSING_REQUIRED_PROPERTY", E, "")])
case("screens-empty", basic, put("/screens", []), expect=[("MIN_ITEMS_REQUIRED", E, "/screens")])
case(
    "screens-over-100",
    old,
    version("7.3"),
    lambda d: d["screens"].extend(
        {**copy.deepcopy(d["screens"][0]), "id": "S" + "".join(chr(65 + int(c)) for c in str(i))}
        for i in range(100)
    ),
    expect=[("MAX_SCREENS_NUMBER", E, "/screens"), ("INVALID_ROUTING_MODEL", E, "/screens")],
)
case(
    "data-api-version-unknown",
    endpoint,
    put("/data_api_version", "5.0"),
    expect=[("NO_SUPPORTED_DATA_API_VERSION", E, "/data_api_version")],
)
case(
    "data-api-version-without-routing-model",
    endpoint,
    drop("/routing_model"),
    expect=[("MISSING_REQUIRED_PROPERTY", E, "/data_api_version")],
)
case(
    "data-exchange-without-data-api-version",
    basic,
    add(C0, link({"name": "data_exchange", "payload": {}})),
    expect=[("MISSING_REQUIRED_PROPERTY", E, f"{C0}/2/on-click-action")],
)

# ---- screens ----------------------------------------------------------------------------------
case(
    "screen-id-missing",
    basic,
    drop(f"{S1}/id"),
    expect=[
        ("MISSING_REQUIRED_PROPERTY", E, S1),
        ("INVALID_NAVIGATE_ACTION_NEXT_SCREEN_NAME", E, f"{C0}/2/on-click-action/next/name"),
        ("DEAD_END_SCREEN", W, S0),
    ],
)
case(
    "screen-id-digits",
    basic,
    put(f"{S0}/id", "FIRST1"),
    expect=[("PATTERN_MISMATCH", E, f"{S0}/id")],
)
case("screen-id-empty", basic, put(f"{S0}/id", ""), expect=[("MIN_CHARS_REQUIRED", E, f"{S0}/id")])
case(
    "screen-id-success",
    basic,
    put(f"{S1}/id", "SUCCESS"),
    put(f"{C0}/2/on-click-action/next/name", "SUCCESS"),
    expect=[("SCREEN_ID_IS_RESERVED_KEYWORD", E, f"{S1}/id")],
)
case(
    "screen-id-success-lowercase",
    basic,
    put(f"{S1}/id", "success"),
    put(f"{C0}/2/on-click-action/next/name", "success"),
    expect=[("SCREEN_ID_IS_RESERVED_KEYWORD", E, f"{S1}/id")],
)
case(
    "screen-id-duplicate",
    basic,
    lambda d: d["screens"].append(copy.deepcopy(d["screens"][1])),
    expect=[("DUPLICATE_SCREEN_IDS", E, "/screens/2/id")],
)
case(
    "screen-unknown-key",
    basic,
    put(f"{S0}/footer", True),
    expect=[("INVALID_PROPERTY_KEY", E, f"{S0}/footer")],
)
case(
    "layout-type",
    basic,
    put(f"{S0}/layout/type", "TwoColumnLayout"),
    expect=[("INVALID_PROPERTY_VALUE", E, f"{S0}/layout/type")],
)
case(
    "layout-missing",
    basic,
    drop(f"{S1}/layout"),
    expect=[("MISSING_REQUIRED_PROPERTY", E, S1), ("MISSING_FOOTER_ON_TERMINAL_SCREEN", E, S1)],
)
case(
    "no-terminal-screen",
    basic,
    drop(f"{S1}/terminal"),
    expect=[
        ("MISSING_TERMINAL_SCREEN", E, "/screens"),
        ("INVALID_COMPLETE_ACTION", E, f"{C1}/2/on-click-action"),
        ("DEAD_END_SCREEN", W, S1),
    ],
)
case(
    "terminal-without-footer",
    basic,
    drop(f"{C1}/2"),
    expect=[("MISSING_FOOTER_ON_TERMINAL_SCREEN", E, S1)],
)
case(
    "success-on-non-terminal",
    basic,
    put(f"{S0}/success", True),
    expect=[("NOT_KEYWORD_SCHEMA_VALIDATION_FAILED", E, f"{S0}/success")],
)
case(
    "no-terminal-with-success",
    basic,
    put(f"{S1}/success", False),
    expect=[("INVALID_PROPERTY_VALUE", E, "/screens")],
)
case(
    "refresh-on-back-without-endpoint",
    basic,
    put(f"{S0}/refresh_on_back", True),
    expect=[("INVALID_PROPERTY_VALUE", E, f"{S0}/refresh_on_back")],
)
case(
    "refresh-on-back-not-boolean",
    endpoint,
    put(f"{S0}/refresh_on_back", "yes"),
    expect=[("INVALID_PROPERTY_TYPE", E, f"{S0}/refresh_on_back")],
)
case(
    "sensitive-before-5-1",
    basic,
    version("5.0"),
    put(f"{S0}/sensitive", ["full_name"]),
    expect=[FROZEN, ("INVALID_PROPERTY_KEY", E, f"{S0}/sensitive")],
)
case(
    "sensitive-unknown-field",
    basic,
    put(f"{S0}/sensitive", ["password"]),
    expect=[("INVALID_PROPERTY_VALUE", W, f"{S0}/sensitive/0")],
)

# ---- screen data model ------------------------------------------------------------------------
G = f"{S0}/data/greeting"
case("data-type-missing", basic, drop(f"{G}/type"), expect=[("INVALID_SCREEN_DATA", E, G)])
case(
    "data-type-unknown",
    basic,
    put(f"{G}/type", "date"),
    expect=[("INVALID_SCREEN_DATA", E, f"{G}/type")],
)
case(
    "data-array-without-items",
    basic,
    put(G, {"type": "array", "__example__": []}),
    expect=[("INVALID_SCREEN_DATA", E, G)],
)
case(
    "data-example-missing", basic, drop(f"{G}/__example__"), expect=[("INVALID_SCREEN_DATA", E, G)]
)
case(
    "data-example-wrong-type",
    basic,
    put(f"{G}/__example__", 5),
    expect=[("INVALID_SCREEN_DATA", E, f"{G}/__example__")],
)
case(
    "data-example-nested",
    basic,
    put(
        f"{S0}/data/obj",
        {
            "type": "object",
            "properties": {"a": {"type": "string", "__example__": "x"}},
            "__example__": {"a": "x"},
        },
    ),
    expect=[("INVALID_SCREEN_DATA", E, f"{S0}/data/obj/properties/a/__example__")],
)
case(
    "data-not-object",
    basic,
    put(f"{S0}/data", []),
    expect=[
        ("INVALID_PROPERTY_TYPE", E, f"{S0}/data"),
        ("INVALID_SCREEN_DYNAMIC_DATA", E, f"{C0}/0/text"),
    ],
)

# ---- components: properties -------------------------------------------------------------------
case(
    "component-type-missing",
    basic,
    drop(f"{C0}/0/type"),
    expect=[("MISSING_REQUIRED_TYPE_PROPERTY", E, f"{C0}/0")],
)
case(
    "component-type-unknown",
    basic,
    put(f"{C0}/0/type", "Carousel"),
    expect=[("INVALID_PROPERTY_VALUE", E, f"{C0}/0/type")],
)
case(
    "component-before-its-version",
    basic,
    version("6.2"),
    add(
        C0,
        {
            "type": "ChipsSelector",
            "name": "tags",
            "label": "Tags",
            "data-source": [{"id": "a", "title": "A"}, {"id": "b", "title": "B"}],
        },
    ),
    expect=[("INVALID_PROPERTY_VALUE", E, f"{C0}/2/type")],
)
case(
    "component-unknown-property",
    basic,
    put(f"{C0}/0/colour", "red"),
    expect=[("INVALID_PROPERTY_KEY", E, f"{C0}/0/colour")],
)
case(
    "property-before-its-version",
    basic,
    version("6.3"),
    put(f"{C0}/1/label-variant", "large"),
    expect=[("INVALID_PROPERTY_KEY", E, f"{C0}/1/label-variant")],
)
case(
    "required-property-missing",
    basic,
    drop(f"{C0}/1/label"),
    expect=[("MISSING_REQUIRED_PROPERTY", E, f"{C0}/1")],
)
case(
    "enum-value",
    basic,
    put(f"{C0}/1/input-type", "url"),
    expect=[("INVALID_ENUM_VALUE", E, f"{C0}/1/input-type")],
)
case(
    "boolean-as-word",
    basic,
    put(f"{C0}/1/required", "yes"),
    expect=[("PATTERN_MISMATCH", E, f"{C0}/1/required")],
)
case(
    "boolean-as-number",
    basic,
    put(f"{C0}/1/required", 1),
    expect=[("INVALID_PROPERTY_TYPE", E, f"{C0}/1/required")],
)
case(
    "integer-not-numeric",
    basic,
    put(f"{C0}/1/max-chars", "lots"),
    expect=[("PATTERN_MISMATCH", E, f"{C0}/1/max-chars")],
)
case(
    "blank-label-from-6-0",
    basic,
    put(f"{C0}/1/label", "  "),
    expect=[("PATTERN_MISMATCH", E, f"{C0}/1/label")],
)
case(
    "blank-text-before-6-0",
    basic,
    version("5.1"),
    put(f"{C0}/0/text", ""),
    expect=[("PATTERN_MISMATCH", E, f"{C0}/0/text")],
)
case(
    "blank-option-title-from-6-0",
    basic,
    add(C0, RADIO),
    put(f"{C0}/2/data-source/0/title", ""),
    expect=[("PATTERN_MISMATCH", E, f"{C0}/2/data-source/0/title")],
)
case(
    "label-too-long",
    basic,
    put(f"{C0}/1/label", "Your full legal name please"),
    expect=[("MAX_CHARS_EXCEEDED", W, f"{C0}/1/label")],
)
case(
    "helper-text-too-long",
    basic,
    put(f"{C0}/1/helper-text", "x" * 81),
    expect=[("MAX_CHARS_EXCEEDED", W, f"{C0}/1/helper-text")],
)
case(
    "static-and-dynamic-mixed",
    basic,
    put(f"{C0}/0/text", "Hello ${data.greeting}"),
    expect=[("PATTERN_MISMATCH", E, f"{C0}/0/text")],
)
case(
    "expression-before-6-0",
    basic,
    version("5.1"),
    put(f"{C0}/0/text", "`'Hi ' ${data.greeting}`"),
    expect=[("INVALID_PROPERTY_VALUE", E, f"{C0}/0/text")],
)
case(
    "text-array-before-5-1",
    basic,
    version("5.0"),
    put(f"{C1}/0/text", ["a", "b"]),
    expect=[FROZEN, ("INVALID_PROPERTY_TYPE", E, f"{C1}/0/text")],
)
case(
    "footer-right-caption-alone",
    basic,
    put(f"{C0}/2/right-caption", "1/2"),
    expect=[("INVALID_DEPENDENCIES", E, f"{C0}/2/right-caption")],
)
case(
    "footer-center-with-sides",
    basic,
    put(f"{C0}/2/left-caption", "a"),
    put(f"{C0}/2/right-caption", "b"),
    put(f"{C0}/2/center-caption", "c"),
    expect=[("NOT_KEYWORD_SCHEMA_VALIDATION_FAILED", E, f"{C0}/2/center-caption")],
)
case(
    "pattern-without-helper-text",
    basic,
    put(f"{C0}/1/pattern", "^[A-Z]+$"),
    expect=[("INVALID_DEPENDENCIES", E, f"{C0}/1/pattern")],
)
case(
    "pattern-with-email-input",
    basic,
    put(f"{C0}/1/pattern", "^a"),
    put(f"{C0}/1/helper-text", "Starts with a"),
    put(f"{C0}/1/input-type", "email"),
    expect=[("INVALID_DEPENDENCIES", E, f"{C0}/1/pattern")],
)
case(
    "min-selected-over-max",
    basic,
    add(
        C0,
        {
            "type": "CheckboxGroup",
            "name": "c",
            "label": "C",
            "min-selected-items": 3,
            "max-selected-items": 2,
            "data-source": [
                {"id": "a", "title": "A"},
                {"id": "b", "title": "B"},
                {"id": "c", "title": "C"},
            ],
        },
    ),
    expect=[("MIN_VALUE_GREATER_THAN_MAX", E, f"{C0}/2/min-selected-items")],
)
case(
    "photo-max-uploads-over-30",
    basic,
    add(C0, {**PHOTO, "max-uploaded-photos": 31}),
    expect=[("MAXIMUM_VALUE_REQUIRED", E, f"{C0}/2/max-uploaded-photos")],
)
case(
    "photo-file-size-zero",
    basic,
    add(C0, {**PHOTO, "max-file-size-kb": 0}),
    expect=[("MINIMUM_VALUE_REQUIRED", E, f"{C0}/2/max-file-size-kb")],
)
case(
    "date-format-from-5-0",
    basic,
    add(C0, {"type": "DatePicker", "name": "d", "label": "D", "min-date": "01/02/2026"}),
    expect=[("INVALID_PROPERTY_VALUE_FORMAT", W, f"{C0}/2/min-date")],
)
case(
    "date-format-before-5-0",
    basic,
    version("4.0"),
    add(C0, {"type": "DatePicker", "name": "d", "label": "D", "max-date": "2026-01-01"}),
    expect=[FROZEN, ("INVALID_PROPERTY_VALUE_FORMAT", W, f"{C0}/2/max-date")],
)
case(
    "init-value-inside-form",
    old,
    version("5.1"),
    put("/screens/0/layout/children/0/children/0/init-value", "x"),
    expect=[("INVALID_PROPERTY_KEY", E, "/screens/0/layout/children/0/children/0/init-value")],
)
case(
    "options-empty",
    basic,
    add(C0, {**RADIO, "data-source": []}),
    expect=[("MIN_ITEMS_REQUIRED", E, f"{C0}/2/data-source")],
)
case(
    "options-too-many",
    basic,
    add(C0, {**RADIO, "data-source": [{"id": str(i), "title": str(i)} for i in range(21)]}),
    expect=[("MAX_ITEMS_EXCEEDED", E, f"{C0}/2/data-source")],
)
case(
    "option-without-title",
    basic,
    add(C0, RADIO),
    drop(f"{C0}/2/data-source/0/title"),
    expect=[("MISSING_REQUIRED_PROPERTY", E, f"{C0}/2/data-source/0")],
)
case(
    "option-unknown-key",
    basic,
    add(C0, RADIO),
    put(f"{C0}/2/data-source/0/value", 1),
    expect=[("INVALID_PROPERTY_KEY", E, f"{C0}/2/data-source/0/value")],
)
case(
    "chips-one-option",
    basic,
    add(
        C0,
        {
            "type": "ChipsSelector",
            "name": "t",
            "label": "T",
            "data-source": [{"id": "a", "title": "A"}],
        },
    ),
    expect=[("MIN_ITEMS_REQUIRED", E, f"{C0}/2/data-source")],
)
case(
    "option-color-format",
    basic,
    add(C0, RADIO),
    put(f"{C0}/2/data-source/0/color", "red"),
    expect=[("INVALID_PROPERTY_VALUE_FORMAT", E, f"{C0}/2/data-source/0/color")],
)
case(
    "carousel-too-many-images",
    basic,
    add(C0, {"type": "ImageCarousel", "images": [{"src": "AAAA", "alt-text": "x"}] * 4}),
    expect=[("MAX_ITEMS_EXCEEDED", E, f"{C0}/2/images")],
)
case(
    "carousel-image-without-alt-text",
    basic,
    add(C0, {"type": "ImageCarousel", "images": [{"src": "AAAA"}]}),
    expect=[("MISSING_REQUIRED_PROPERTY", E, f"{C0}/2/images/0")],
)

# ---- NavigationList ---------------------------------------------------------------------------
case(
    "navlist-item-without-main-content",
    basic,
    put(C0, [NAVLIST]),
    drop(f"{C0}/0/list-items/0/main-content"),
    expect=[("MISSING_REQUIRED_PROPERTY", E, f"{C0}/0/list-items/0")],
)
case(
    "navlist-action-on-list-and-item",
    basic,
    put(C0, [NAVLIST]),
    put(f"{C0}/0/on-click-action", nav("LAST", {"full_name": "A"})),
    expect=[("INVALID_PROPERTY_VALUE", E, f"{C0}/0/list-items/0/on-click-action")],
)
case(
    "navlist-not-alone",
    basic,
    put(C0, [{"type": "TextHeading", "text": "Menu"}, NAVLIST]),
    expect=[("NAVIGATION_LIST_NOT_ALONE", E, f"{C0}/0")],
)
case(
    "navlist-three",
    basic,
    put(C0, [NAVLIST, {**NAVLIST, "name": "b"}, {**NAVLIST, "name": "c"}]),
    expect=[("MAX_NAVIGATION_LIST_PER_SCREEN", E, f"{C0}/2")],
)
case(
    "navlist-on-terminal",
    basic,
    put(
        C1,
        [
            {
                **NAVLIST,
                "list-items": [
                    {
                        "id": "a",
                        "main-content": {"title": "A"},
                        "on-click-action": nav("FIRST", {"greeting": "x"}),
                    }
                ],
            }
        ],
    ),
    expect=[
        ("NAVIGATION_LIST_ON_TERMINAL_SCREEN", E, f"{C1}/0"),
        ("MISSING_FOOTER_ON_TERMINAL_SCREEN", E, S1),
        ("INVALID_ROUTING_MODEL", E, "/screens"),
    ],
)

# ---- Forms and branches -----------------------------------------------------------------------
case(
    "input-outside-form-before-4-0",
    old,
    add("/screens/0/layout/children", {"type": "OptIn", "name": "ok", "label": "OK"}, at=1),
    expect=[FROZEN, ("KEYWORD_ONE_OF", E, "/screens/0/layout/children/1")],
)
case(
    "input-outside-form-from-4-0",
    basic,
    put(
        C0,
        [
            {
                "type": "Form",
                "name": "f",
                "children": [
                    {"type": "TextInput", "name": "full_name", "label": "Name"},
                    copy.deepcopy(basic()["screens"][0]["layout"]["children"][2]),
                ],
            },
            {"type": "OptIn", "name": "ok", "label": "OK"},
        ],
    ),
    expect=[("COMPONENTS_OUTSIDE_FORM", E, f"{C0}/1")],
)
case(
    "duplicate-input-names",
    basic,
    add(C0, {"type": "TextArea", "name": "full_name", "label": "Again"}),
    expect=[("DUPLICATE_FORM_COMPONENT_NAMES", E, f"{C0}/2/name")],
)
case(
    "form-without-children",
    old,
    put("/screens/0/layout/children", [{"type": "Form", "name": "f", "children": []}, DONE]),
    expect=[FROZEN, ("MIN_ITEMS_REQUIRED", E, "/screens/0/layout/children/0/children")],
)
case(
    "form-init-values-media-picker",
    basic,
    put(
        C0,
        [
            {"type": "Form", "name": "f", "init-values": {"photo": []}, "children": [PHOTO]},
            {"type": "Footer", "label": "Next", "on-click-action": nav("LAST", {"full_name": "x"})},
        ],
    ),
    drop(f"{S0}/data"),
    expect=[("NATIVE_COMPONENT_IN_FORM_INIT_VALUES", E, f"{C0}/0/init-values/photo")],
)
case(
    "if-before-4-0",
    old,
    add(
        "/screens/0/layout/children",
        {
            "type": "If",
            "condition": "${form.q} == 'x'",
            "then": [{"type": "TextBody", "text": "x"}],
        },
        at=0,
    ),
    expect=[FROZEN, ("INVALID_PROPERTY_VALUE", E, "/screens/0/layout/children/0/type")],
)
case(
    "if-then-empty",
    basic,
    add(C1, {**IF, "then": []}),
    expect=[("MIN_ITEMS_REQUIRED", E, f"{C1}/2/then")],
)
case(
    "if-holds-form",
    basic,
    add(
        C1,
        {
            **IF,
            "then": [
                {"type": "Form", "name": "f", "children": [{"type": "TextBody", "text": "x"}]}
            ],
        },
    ),
    expect=[
        ("INVALID_PROPERTY_VALUE", E, f"{C1}/2/then/0/type"),
        ("COMPONENTS_OUTSIDE_FORM", E, f"{C1}/1"),
    ],
)
case(
    "switch-holds-if",
    basic,
    add(C1, {"type": "Switch", "value": "${data.full_name}", "cases": {"a": [IF]}}),
    expect=[("INVALID_PROPERTY_VALUE", E, f"{C1}/2/cases/a/0/type")],
)
case(
    "switch-no-cases",
    basic,
    add(C1, {"type": "Switch", "value": "${data.full_name}", "cases": {}}),
    expect=[("INVALID_PROPERTY_VALUE", E, f"{C1}/2/cases")],
)
case(
    "switch-value-literal",
    basic,
    add(C1, {"type": "Switch", "value": "full_name", "cases": {"a": body(1)}}),
    expect=[("INVALID_PROPERTY_VALUE", E, f"{C1}/2/value")],
)
case(
    "if-nested-four-deep",
    basic,
    add(C1, {**IF, "then": [{**IF, "then": [{**IF, "then": [IF]}]}]}),
    expect=[("MAX_IF_NESTING", E, f"{C1}/2/then/0/then/0/then/0")],
)

# ---- Footers and per-screen limits ------------------------------------------------------------
case("two-footers", basic, add(C1, DONE), expect=[("MAX_FOOTER_PER_SCREEN", E, f"{C1}/3")])
case(
    "footer-in-then-only",
    basic,
    put(f"{C1}/2", {**IF, "then": [DONE], "else": body(1)}),
    expect=[("MISSING_FOOTER_IN_IF_ELSE_BRANCHES", E, f"{C1}/2")],
)
case(
    "footer-in-branches-and-outside",
    basic,
    add(C1, {**IF, "then": [DONE], "else": [DONE]}),
    expect=[("MORE_THAN_ONE_FOOTER", E, f"{C1}/3")],
)
case(
    "footer-in-one-switch-case",
    basic,
    put(
        f"{C1}/2",
        {"type": "Switch", "value": "${data.full_name}", "cases": {"a": [DONE], "b": body(1)}},
    ),
    expect=[("MISSING_FOOTER_IN_SWITCH_BRANCHES", E, f"{C1}/2")],
)
case(
    "footer-in-nested-if",
    basic,
    put(f"{C1}/2", {**IF, "then": [{**IF, "then": [DONE], "else": [DONE]}], "else": [DONE]}),
    expect=[
        ("INVALID_PROPERTY_VALUE", E, f"{C1}/2/then/0/then/0"),
        ("INVALID_PROPERTY_VALUE", E, f"{C1}/2/then/0/else/0"),
    ],
)
case(
    "three-embedded-links",
    basic,
    add(C1, *[link(nav("FIRST", {"greeting": "x"}), f"L{i}") for i in range(3)]),
    expect=[
        ("MAX_EMBEDDED_LINK_PER_SCREEN", E, f"{C1}/4"),
        ("INVALID_ROUTING_MODEL", E, "/screens"),
    ],
)
case(
    "four-images",
    basic,
    add(C0, *[{"type": "Image", "src": "AAAA"}] * 4),
    expect=[("MAX_IMAGE_PER_SCREEN", E, f"{C0}/5")],
)
case(
    "six-opt-ins",
    basic,
    add(C0, *[{"type": "OptIn", "name": f"o{i}", "label": "x"} for i in range(6)]),
    expect=[("MAX_OPT_IN_PER_SCREEN", E, f"{C0}/7")],
)
case(
    "photo-and-document-picker",
    basic,
    add(C0, PHOTO, DOCS),
    expect=[("MAX_MEDIA_PICKER_PER_SCREEN", E, f"{C0}/3")],
)
case(
    "fifty-one-components", basic, add(C0, *body(49)), expect=[("MAX_COMPONENTS_PER_SCREEN", E, C0)]
)
case(
    "rich-text-not-alone-before-6-3",
    basic,
    version("6.2"),
    add(C1, {"type": "RichText", "text": "# Terms"}, at=0),
    expect=[("RICH_TEXT_NOT_ALONE", E, f"{C1}/1")],
)

# ---- actions ----------------------------------------------------------------------------------
case(
    "complete-on-non-terminal",
    basic,
    put(f"{C0}/2/on-click-action", {"name": "complete", "payload": {}}),
    expect=[
        ("INVALID_COMPLETE_ACTION", E, f"{C0}/2/on-click-action"),
        ("INVALID_ROUTING_MODEL", E, "/screens"),
        ("DEAD_END_SCREEN", W, S0),
    ],
)
case(
    "complete-on-embedded-link",
    basic,
    add(C1, link({"name": "complete", "payload": {}})),
    expect=[("INVALID_ENUM_VALUE", E, f"{C1}/2/on-click-action/name")],
)
case(
    "open-url-before-6-0",
    basic,
    version("5.1"),
    add(C1, link({"name": "open_url", "url": "https://example.com"})),
    expect=[("INVALID_ENUM_VALUE", E, f"{C1}/2/on-click-action/name")],
)
case(
    "open-url-with-payload",
    basic,
    add(C1, link({"name": "open_url", "url": "https://example.com", "payload": {}})),
    expect=[("INVALID_PROPERTY_KEY", E, f"{C1}/2/on-click-action/payload")],
)
case(
    "update-data-unknown-key",
    basic,
    add(C0, {**RADIO, "on-select-action": {"name": "update_data", "payload": {"nope": "x"}}}),
    expect=[("INVALID_ACTION_PAYLOAD_PROPERTY", E, f"{C0}/2/on-select-action/payload/nope")],
)
case(
    "update-data-on-date-picker",
    basic,
    add(
        C0,
        {
            "type": "DatePicker",
            "name": "d",
            "label": "D",
            "on-select-action": {"name": "update_data", "payload": {}},
        },
    ),
    expect=[("INVALID_ENUM_VALUE", E, f"{C0}/2/on-select-action/name")],
)
case(
    "action-without-name",
    basic,
    add(C1, link({"payload": {}})),
    expect=[("MISSING_REQUIRED_PROPERTY", E, f"{C1}/2/on-click-action")],
)
case(
    "navigate-unknown-screen",
    basic,
    add(C0, link(nav("NOWHERE"))),
    expect=[("INVALID_NAVIGATE_ACTION_NEXT_SCREEN_NAME", E, f"{C0}/2/on-click-action/next/name")],
)
case(
    "navigate-to-itself",
    basic,
    add(C0, link(nav("FIRST", {"greeting": "x"}))),
    expect=[("INVALID_NAVIGATE_ACTION_NEXT_SCREEN_NAME", E, f"{C0}/2/on-click-action/next/name")],
)
case(
    "navigate-next-type",
    basic,
    put(f"{C0}/2/on-click-action/next/type", "flow"),
    expect=[("INVALID_ENUM_VALUE", E, f"{C0}/2/on-click-action/next/type")],
)
case(
    "navigate-payload-extra-key",
    basic,
    put(f"{C0}/2/on-click-action/payload/age", "3"),
    expect=[("INVALID_NAVIGATE_ACTION_PAYLOAD", E, f"{C0}/2/on-click-action/payload/age")],
)
case(
    "navigate-payload-missing-key",
    basic,
    put(f"{C0}/2/on-click-action/payload", {}),
    expect=[("INVALID_NAVIGATE_ACTION_PAYLOAD", E, f"{C0}/2/on-click-action/payload")],
)
case(
    "navigate-payload-wrong-literal-type",
    basic,
    put(f"{C0}/2/on-click-action/payload/full_name", 5),
    expect=[("INVALID_NAVIGATE_ACTION_PAYLOAD", E, f"{C0}/2/on-click-action/payload/full_name")],
)
case(
    "navigate-payload-wrong-form-type",
    basic,
    put(f"{S1}/data/full_name", {"type": "boolean", "__example__": True}),
    expect=[("INVALID_NAVIGATE_ACTION_PAYLOAD", E, f"{C0}/2/on-click-action/payload/full_name")],
)
case(
    "navigate-payload-to-screen-without-data",
    basic,
    drop(f"{S1}/data"),
    put(C1, [{"type": "TextBody", "text": "Bye"}, DONE]),
    expect=[("INVALID_NAVIGATE_ACTION_PAYLOAD", E, f"{C0}/2/on-click-action/payload")],
)
case(
    "navigate-payload-media-picker",
    basic,
    add(C0, PHOTO),
    put(f"{S1}/data/photos", {"type": "array", "items": {"type": "object"}, "__example__": []}),
    put(f"{C0}/3/on-click-action/payload/photos", "${form.photo}"),
    expect=[("INVALID_NAVIGATE_ACTION_PAYLOAD", E, f"{C0}/3/on-click-action/payload/photos")],
)
case(
    "media-picker-nested-in-complete",
    basic,
    add(C1, DOCS),
    put(f"{C1}/3/on-click-action/payload/files", {"x": "${form.doc}"}),
    expect=[("INVALID_ON_CLICK_ACTION_PAYLOAD", E, f"{C1}/3/on-click-action/payload/files/x")],
)

# ---- references -------------------------------------------------------------------------------
case(
    "data-reference-undeclared",
    basic,
    put(f"{C0}/0/text", "${data.welcome}"),
    expect=[("INVALID_SCREEN_DYNAMIC_DATA", E, f"{C0}/0/text")],
)
case(
    "data-reference-undeclared-in-payload",
    basic,
    put(f"{C1}/2/on-click-action/payload/x", "${data.age}"),
    expect=[("INVALID_ON_CLICK_ACTION_PAYLOAD", E, f"{C1}/2/on-click-action/payload/x")],
)
case(
    "form-reference-other-screen-in-payload",
    basic,
    put(f"{C1}/2/on-click-action/payload/x", "${form.full_name}"),
    expect=[("INVALID_ON_CLICK_ACTION_PAYLOAD", E, f"{C1}/2/on-click-action/payload/x")],
)
case(
    "form-reference-unknown-in-text",
    basic,
    put(f"{C1}/0/text", "${form.nickname}"),
    expect=[("INVALID_PROPERTY_VALUE", E, f"{C1}/0/text")],
)
case(
    "form-reference-to-form",
    old,
    version("5.1"),
    put("/screens/0/layout/children/0/children/1/on-click-action/payload/all", "${form.form}"),
    expect=[
        (
            "INVALID_ON_CLICK_ACTION_PAYLOAD",
            E,
            "/screens/0/layout/children/0/children/1/on-click-action/payload/all",
        )
    ],
)
case(
    "global-reference-unknown-screen",
    basic,
    put(f"{C1}/0/text", "${screen.MIDDLE.form.x}"),
    expect=[("INVALID_PROPERTY_VALUE", E, f"{C1}/0/text")],
)
case(
    "global-reference-current-screen",
    basic,
    put(f"{C1}/2/on-click-action/payload/consent", "${screen.LAST.form.consent}"),
    expect=[("INVALID_PROPERTY_VALUE", E, f"{C1}/2/on-click-action/payload/consent")],
)
case(
    "global-reference-unknown-field",
    basic,
    put(f"{C1}/2/on-click-action/payload/x", "${screen.FIRST.form.nickname}"),
    expect=[("INVALID_PROPERTY_VALUE", W, f"{C1}/2/on-click-action/payload/x")],
)
case(
    "global-reference-before-4-0", basic, version("3.1"), lambda d: None, expect=None
)  # replaced below
CASES.pop()
case(
    "reference-unknown-root",
    basic,
    put(f"{C1}/0/text", "${global.name}"),
    expect=[("INVALID_PROPERTY_VALUE", E, f"{C1}/0/text")],
)
case(
    "data-type-does-not-fit-property",
    basic,
    put(f"{C0}/0/visible", "${data.greeting}"),
    expect=[("INVALID_SCREEN_DYNAMIC_DATA", E, f"{C0}/0/visible")],
)
case(
    "data-source-items-without-title",
    endpoint,
    drop(f"{S0}/data/options/items/properties/title"),
    expect=[("INVALID_SCREEN_DYNAMIC_DATA", E, f"{C0}/0/data-source")],
)
case(
    "nested-data-reference-undeclared",
    basic,
    put(
        f"{S0}/data/user",
        {
            "type": "object",
            "properties": {"name": {"type": "string"}},
            "__example__": {"name": "A"},
        },
    ),
    put(f"{C0}/0/text", "${data.user.email}"),
    expect=[("INVALID_SCREEN_DYNAMIC_DATA", E, f"{C0}/0/text")],
)

# ---- If conditions ----------------------------------------------------------------------------
for name, condition in [
    ("condition-unclosed-paren", "(${form.consent}"),
    ("condition-missing-operand", "${form.consent} =="),
    ("condition-literals-both-sides", "'a' == 'b'"),
    ("condition-type-mismatch", "${form.consent} == 'yes'"),
    ("condition-empty-parentheses", "${form.consent} && ()"),
    ("condition-missing-operator", "${form.consent} ${form.consent}"),
    ("condition-only-literal", "true"),
    ("condition-not-boolean", "${data.full_name}"),
    ("condition-unclosed-quote", "${data.full_name} == 'x"),
    ("condition-unexpected-character", "${form.consent} # 1"),
    ("condition-compares-string", "${data.full_name} > 3"),
    ("condition-lone-minus", "${form.consent} == -"),
]:
    case(
        f"{name}",
        basic,
        add(C1, {**IF, "condition": condition}),
        expect=[("INVALID_PROPERTY_VALUE", E, f"{C1}/2/condition")],
    )
case(
    "condition-blank",
    basic,
    add(C1, {**IF, "condition": " "}),
    expect=[
        ("INVALID_PROPERTY_VALUE", E, f"{C1}/2/condition"),
        ("PATTERN_MISMATCH", E, f"{C1}/2/condition"),
    ],
)

# ---- routing model ----------------------------------------------------------------------------
R = "/routing_model"
END2 = {
    "id": "OTHER",
    "terminal": True,
    "layout": {
        "type": "SingleColumnLayout",
        "children": [DONE | {"on-click-action": {"name": "data_exchange", "payload": {}}}],
    },
}
case(
    "routing-screen-missing",
    endpoint,
    put(R, {"START": []}),
    expect=[("INVALID_ROUTING_MODEL", E, R)],
)
case(
    "routing-unknown-source",
    endpoint,
    put(f"{R}/GHOST", []),
    expect=[("INVALID_ROUTING_MODEL", E, f"{R}/GHOST")],
)
case(
    "routing-unknown-target",
    endpoint,
    put(f"{R}/START", ["END", "GHOST"]),
    expect=[("INVALID_ROUTING_MODEL", E, f"{R}/START/1")],
)
case(
    "routing-self-edge",
    endpoint,
    put(f"{R}/START", ["START", "END"]),
    expect=[("INVALID_ROUTING_MODEL", E, f"{R}/START/0")],
)
case(
    "routing-backward-route",
    endpoint,
    put(f"{R}/END", ["START"]),
    expect=[("INVALID_ROUTING_MODEL", E, f"{R}/END/0")],
)
case(
    "routing-loop",
    endpoint,
    lambda d: d["screens"].append(copy.deepcopy(END2)),
    put(R, {"START": ["END"], "END": ["OTHER"], "OTHER": ["START"]}),
    expect=[("INVALID_ROUTING_MODEL", E, R)],
)
case(
    "routing-more-than-ten-branches",
    endpoint,
    lambda d: d["screens"].extend(
        {**copy.deepcopy(END2), "id": "OTHER" + "ABCDEFGHIJK"[i]} for i in range(10)
    ),
    put(R, {"START": ["END"] + ["OTHER" + "ABCDEFGHIJK"[i] for i in range(10)]}),
    expect=[("INVALID_ROUTING_MODEL", E, f"{R}/START")],
)
case(
    "routing-navigate-edge-missing",
    endpoint,
    add(C0, link(nav("END"))),
    put(R, {"START": [], "END": []}),
    expect=[("INVALID_ROUTING_MODEL", E, f"{R}/START"), ("INVALID_ROUTING_MODEL", E, R)],
)
case("routing-not-an-object", endpoint, put(R, []), expect=[("INVALID_PROPERTY_TYPE", E, R)])
case(
    "routing-disconnected",
    endpoint,
    lambda d: d["screens"].append(copy.deepcopy(END2)),
    put(f"{R}/OTHER", []),
    expect=[("INVALID_ROUTING_MODEL", E, R)],
)
case(
    "derived-no-entry-screen",
    basic,
    add(C1, link(nav("FIRST", {"greeting": "x"}))),
    expect=[("INVALID_ROUTING_MODEL", E, "/screens")],
)
case(
    "derived-disconnected-screen",
    basic,
    lambda d: d["screens"].append(
        {
            "id": "ORPHAN",
            "terminal": True,
            "layout": {"type": "SingleColumnLayout", "children": [DONE]},
        }
    ),
    expect=[("INVALID_ROUTING_MODEL", E, "/screens")],
)

# ---- more: per-flow limits, item rules, formats -------------------------------------------------
CAROUSEL = {"type": "ImageCarousel", "images": [{"src": "AAAA", "alt-text": "x"}]}
case(
    "carousels-over-three-per-flow",
    basic,
    add(C0, CAROUSEL, CAROUSEL),
    add(C1, CAROUSEL, CAROUSEL),
    expect=[("MAX_IMAGE_CAROUSEL", E, f"{C1}/3")],
)
case(
    "carousels-over-two-per-screen",
    basic,
    add(C0, CAROUSEL, CAROUSEL, CAROUSEL),
    expect=[("MAX_IMAGE_CAROUSEL", E, f"{C0}/4")],
)
case(
    "data-channel-uri-not-a-uri",
    old,
    version("2.1"),
    put("/data_channel_uri", "endpoint"),
    expect=[FROZEN, ("INVALID_PROPERTY_VALUE_FORMAT", E, "/data_channel_uri")],
)
case(
    "navlist-two-badges",
    basic,
    put(C0, [NAVLIST]),
    add(
        f"{C0}/0/list-items",
        {**NAVLIST["list-items"][0], "id": "b", "badge": "New"},
        {**NAVLIST["list-items"][0], "id": "c", "badge": "Hot"},
        at=1,
    ),
    expect=[("INVALID_PROPERTY_VALUE", E, f"{C0}/0/list-items/2/badge")],
)
case(
    "navlist-end-with-large-media",
    basic,
    put(C0, [{**NAVLIST, "media-size": "large"}]),
    put(f"{C0}/0/list-items/0/end", {"title": "1"}),
    expect=[("INVALID_PROPERTY_VALUE", E, f"{C0}/0/list-items/0/end")],
)
case(
    "navlist-unknown-item-key",
    basic,
    put(C0, [NAVLIST]),
    put(f"{C0}/0/list-items/0/subtitle", "x"),
    expect=[("INVALID_PROPERTY_KEY", E, f"{C0}/0/list-items/0/subtitle")],
)
case(
    "open-url-without-url",
    basic,
    add(C1, link({"name": "open_url"})),
    expect=[("MISSING_REQUIRED_PROPERTY", E, f"{C1}/2/on-click-action")],
)
case(
    "form-init-values-unknown-name",
    old,
    version("6.0"),
    put("/screens/0/layout/children/0/init-values", {"nope": "x"}),
    expect=[("INVALID_PROPERTY_VALUE", W, "/screens/0/layout/children/0/init-values/nope")],
)
case(
    "calendar-include-days",
    basic,
    add(
        C0,
        {
            "type": "CalendarPicker",
            "name": "cal",
            "label": "When",
            "include-days": ["Mon", "Funday"],
        },
    ),
    expect=[("INVALID_ENUM_VALUE", E, f"{C0}/2/include-days/1")],
)
case(
    "calendar-range-only-property",
    basic,
    add(C0, {"type": "CalendarPicker", "name": "cal", "label": "When", "min-days": 2}),
    expect=[("INVALID_DEPENDENCIES", W, f"{C0}/2/min-days")],
)
case(
    "screen-title-blank-from-6-0",
    basic,
    put(f"{S0}/title", " "),
    expect=[("PATTERN_MISMATCH", E, f"{S0}/title")],
)
case(
    "option-title-too-long",
    basic,
    add(C0, RADIO),
    put(f"{C0}/2/data-source/0/title", "x" * 31),
    expect=[("MAX_CHARS_EXCEEDED", W, f"{C0}/2/data-source/0/title")],
)
case(
    "footer-label-too-long",
    basic,
    put(f"{C0}/2/label", "Continue to the next step of the form"),
    expect=[("MAX_CHARS_EXCEEDED", W, f"{C0}/2/label")],
)
case(
    "components-outside-form-before-4-0-dropdown",
    old,
    add("/screens/0/layout/children", {**RADIO, "type": "Dropdown"}, at=0),
    expect=[FROZEN, ("KEYWORD_ONE_OF", E, "/screens/0/layout/children/0")],
)
case(
    "routing-model-without-data-api-version-checked",
    basic,
    put("/routing_model", {"FIRST": []}),
    expect=[
        ("INVALID_ROUTING_MODEL", E, "/routing_model"),
        ("INVALID_ROUTING_MODEL", E, "/routing_model/FIRST"),
    ],
)
case(
    "navigate-on-terminal-footer",
    basic,
    put(f"{C1}/2/on-click-action", nav("FIRST", {"greeting": "x"})),
    expect=[
        ("NAVIGATE_ON_TERMINAL_SCREEN", W, f"{C1}/2/on-click-action"),
        ("INVALID_ROUTING_MODEL", E, "/screens"),
    ],
)
