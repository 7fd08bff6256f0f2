"""Component table of flow-json.md §3.1: properties per component, by version.

Every character limit is a warning: Meta documents several as "content will truncate" and
none as a rejection (docs/flow-validation.md, "Severity").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.flowjson.versions import Version

STR, BOOL, INT, NUM, TEXT, STRLIST = "string", "boolean", "integer", "number", "text", "strlist"
DATASOURCE, ACTION, OBJ, STR_OR_OBJ, ANY = "data-source", "action", "object", "str_or_obj", "any"
CHILDREN, CASES, LIST = "children", "cases", "list"


@dataclass(frozen=True)
class Prop:
    kind: str
    since: Version | None = None
    enum: tuple[str, ...] | None = None
    maxlen: int | None = None


@dataclass(frozen=True)
class ComponentSpec:
    since: Version
    props: dict[str, Prop]
    required: tuple[str, ...] = ()
    required_from: dict[str, Version] = field(default_factory=dict)


def _p(kind: str, since: Version | None = None, **kw: object) -> Prop:
    return Prop(kind, since, **kw)  # type: ignore[arg-type]


V4, V5, V51, V6, V62, V7, V71 = (4, 0), (5, 0), (5, 1), (6, 0), (6, 2), (7, 0), (7, 1)
_FONT = ("bold", "italic", "bold_italic", "normal")
_MEDIA_SIZE = ("regular", "large")
_SCALE = ("cover", "contain")

_TEXT_SHORT = {"text": _p(TEXT, maxlen=80), "visible": _p(BOOL)}
_TEXT_LONG = {
    "text": _p(TEXT, maxlen=4096),
    "font-weight": _p(STR, enum=_FONT),
    "strikethrough": _p(BOOL),
    "visible": _p(BOOL),
    "markdown": _p(BOOL, V51),
}
_SELECT_COMMON = {
    "name": _p(STR),
    "data-source": _p(DATASOURCE),
    "label": _p(STR, maxlen=30),
    "enabled": _p(BOOL),
    "required": _p(BOOL),
    "visible": _p(BOOL),
    "on-select-action": _p(ACTION),
    "on-unselect-action": _p(ACTION, V6),
    "description": _p(STR, V4, maxlen=300),
    "init-value": _p(ANY, V4),
    "error-message": _p(STR, V4),
    "media-size": _p(STR, V5, enum=_MEDIA_SIZE),
}

SPECS: dict[str, ComponentSpec] = {
    "TextHeading": ComponentSpec((2, 1), _TEXT_SHORT, ("text",)),
    "TextSubheading": ComponentSpec((2, 1), _TEXT_SHORT, ("text",)),
    "TextBody": ComponentSpec((2, 1), _TEXT_LONG, ("text",)),
    # M-COMP says 409 for TextCaption, which looks like a truncated 4096 (UNCONFIRMED): 4096.
    "TextCaption": ComponentSpec((2, 1), _TEXT_LONG, ("text",)),
    "RichText": ComponentSpec(V51, {"text": _p(TEXT), "visible": _p(BOOL)}, ("text",)),
    "TextInput": ComponentSpec(
        (2, 1),
        {
            "name": _p(STR),
            "label": _p(STR, maxlen=20),
            "input-type": _p(
                STR, enum=("text", "number", "email", "password", "passcode", "phone")
            ),
            "pattern": _p(STR, V62),
            "required": _p(BOOL),
            "min-chars": _p(INT),
            "max-chars": _p(INT),
            "helper-text": _p(STR, maxlen=80),
            "visible": _p(BOOL),
            "enabled": _p(BOOL),
            "init-value": _p(STR, V4),
            "error-message": _p(STR, V4, maxlen=30),
            "label-variant": _p(STR, V7, enum=("large",)),
        },
        ("name", "label"),
    ),
    "TextArea": ComponentSpec(
        (2, 1),
        {
            "name": _p(STR),
            "label": _p(STR, maxlen=20),
            "required": _p(BOOL),
            "max-length": _p(INT),
            "helper-text": _p(STR, maxlen=80),
            "enabled": _p(BOOL),
            "visible": _p(BOOL),
            "init-value": _p(STR, V4),
            "error-message": _p(STR, V4),
            "label-variant": _p(STR, V7, enum=("large",)),
        },
        ("name", "label"),
    ),
    "CheckboxGroup": ComponentSpec(
        (2, 1),
        {
            **_SELECT_COMMON,
            "min-selected-items": _p(INT),
            "max-selected-items": _p(INT),
            "init-value": _p(STRLIST, V4),
        },
        ("name", "data-source"),
        {"label": V4},
    ),
    "RadioButtonsGroup": ComponentSpec(
        (2, 1),
        {**_SELECT_COMMON, "init-value": _p(STR, V4)},
        ("name", "data-source"),
        {"label": V4},
    ),
    "Dropdown": ComponentSpec(
        (2, 1),
        {
            "name": _p(STR),
            # M-COMP says 20 (PYWA 30); M-COMP wins.
            "label": _p(STR, maxlen=20),
            "data-source": _p(DATASOURCE),
            "enabled": _p(BOOL),
            "required": _p(BOOL),
            "visible": _p(BOOL),
            "on-select-action": _p(ACTION),
            "on-unselect-action": _p(ACTION, V6),
            "init-value": _p(STR, V4),
            "error-message": _p(STR, V4),
        },
        ("name", "label", "data-source"),
    ),
    "ChipsSelector": ComponentSpec(
        (6, 3),
        {
            "name": _p(STR),
            "label": _p(STR, maxlen=80),
            "data-source": _p(DATASOURCE),
            "min-selected-items": _p(INT),
            "max-selected-items": _p(INT),
            "enabled": _p(BOOL),
            "required": _p(BOOL),
            "visible": _p(BOOL),
            "description": _p(STR, maxlen=300),
            "init-value": _p(STRLIST),
            "error-message": _p(STR),
            "on-select-action": _p(ACTION, V71),
            "on-unselect-action": _p(ACTION, V71),
        },
        ("name", "label", "data-source"),
    ),
    "Footer": ComponentSpec(
        (2, 1),
        {
            "label": _p(STR, maxlen=35),
            "on-click-action": _p(ACTION),
            "left-caption": _p(STR, maxlen=15),
            "center-caption": _p(STR, maxlen=15),
            "right-caption": _p(STR, maxlen=15),
            "enabled": _p(BOOL),
        },
        ("label", "on-click-action"),
    ),
    "OptIn": ComponentSpec(
        (2, 1),
        {
            "name": _p(STR),
            # M-COMP says 120 (PYWA 30); M-COMP wins.
            "label": _p(STR, maxlen=120),
            "required": _p(BOOL),
            "visible": _p(BOOL),
            "on-click-action": _p(ACTION),
            "init-value": _p(BOOL, V4),
            # PYWA only (UNCONFIRMED): accepted, tolerant.
            "on-select-action": _p(ACTION, V6),
            "on-unselect-action": _p(ACTION, V6),
        },
        ("name", "label"),
    ),
    "EmbeddedLink": ComponentSpec(
        (2, 1),
        {"text": _p(STR, maxlen=25), "on-click-action": _p(ACTION), "visible": _p(BOOL)},
        ("text", "on-click-action"),
    ),
    "DatePicker": ComponentSpec(
        (2, 1),
        {
            "name": _p(STR),
            "label": _p(STR, maxlen=40),
            "min-date": _p(STR),
            "max-date": _p(STR),
            "unavailable-dates": _p(STRLIST),
            "helper-text": _p(STR, maxlen=80),
            "enabled": _p(BOOL),
            "visible": _p(BOOL),
            "required": _p(BOOL),
            "on-select-action": _p(ACTION),
            "init-value": _p(STR, V4),
            "error-message": _p(STR, V4, maxlen=80),
        },
        ("name", "label"),
    ),
    "CalendarPicker": ComponentSpec(
        (6, 1),
        {
            "name": _p(STR),
            "label": _p(STR_OR_OBJ, maxlen=40),
            "title": _p(STR, maxlen=80),
            "description": _p(STR, maxlen=300),
            "helper-text": _p(STR_OR_OBJ, maxlen=80),
            "required": _p(ANY),
            "visible": _p(BOOL),
            "enabled": _p(BOOL),
            "mode": _p(STR, enum=("single", "range")),
            "min-date": _p(STR),
            "max-date": _p(STR),
            "unavailable-dates": _p(STRLIST),
            "include-days": _p(STRLIST),
            "min-days": _p(INT),
            "max-days": _p(INT),
            "on-select-action": _p(ACTION),
            "init-value": _p(STR_OR_OBJ),
            "error-message": _p(STR_OR_OBJ),
        },
        ("name", "label"),
    ),
    "Image": ComponentSpec(
        (2, 1),
        {
            "src": _p(STR),
            "width": _p(INT),
            "height": _p(INT),
            "scale-type": _p(STR, enum=_SCALE),
            "aspect-ratio": _p(NUM),
            "alt-text": _p(STR),
            "visible": _p(BOOL),
        },
        ("src",),
    ),
    "ImageCarousel": ComponentSpec(
        V71,
        {
            "images": _p(LIST),
            "aspect-ratio": _p(STR, enum=("4:3", "16:9")),
            "scale-type": _p(STR, enum=_SCALE),
            "visible": _p(BOOL),
        },
        ("images",),
    ),
    "If": ComponentSpec(
        V4,
        {"condition": _p(STR), "then": _p(CHILDREN), "else": _p(CHILDREN)},
        ("condition", "then"),
    ),
    "Switch": ComponentSpec(V4, {"value": _p(STR), "cases": _p(CASES)}, ("value", "cases")),
    "NavigationList": ComponentSpec(
        V62,
        {
            "name": _p(STR),
            "list-items": _p(LIST),
            "label": _p(STR, maxlen=80),
            "description": _p(STR, maxlen=300),
            "media-size": _p(STR, enum=_MEDIA_SIZE),
            "on-click-action": _p(ACTION),
        },
        ("name", "list-items"),
    ),
    "PhotoPicker": ComponentSpec(
        V4,
        {
            "name": _p(STR),
            "label": _p(STR, maxlen=80),
            "description": _p(STR, maxlen=300),
            "photo-source": _p(STR, enum=("camera_gallery", "camera", "gallery")),
            "max-file-size-kb": _p(INT),
            "min-uploaded-photos": _p(INT),
            "max-uploaded-photos": _p(INT),
            "enabled": _p(BOOL),
            "visible": _p(BOOL),
            "error-message": _p(STR_OR_OBJ),
        },
        ("name", "label"),
    ),
    "DocumentPicker": ComponentSpec(
        V4,
        {
            "name": _p(STR),
            "label": _p(STR, maxlen=80),
            "description": _p(STR, maxlen=300),
            "max-file-size-kb": _p(INT),
            "min-uploaded-documents": _p(INT),
            "max-uploaded-documents": _p(INT),
            "allowed-mime-types": _p(STRLIST),
            "enabled": _p(BOOL),
            "visible": _p(BOOL),
            "error-message": _p(STR_OR_OBJ),
        },
        ("name", "label"),
    ),
    "Form": ComponentSpec(
        (2, 1),
        {
            "name": _p(STR),
            "children": _p(CHILDREN),
            "init-values": _p(OBJ),
            "error-messages": _p(OBJ),
        },
        ("name", "children"),
    ),
}

# Inputs that had to sit inside a Form before 4.0 (KEYWORD_ONE_OF).
LEGACY_INPUTS = frozenset(
    {
        "TextInput",
        "TextArea",
        "CheckboxGroup",
        "RadioButtonsGroup",
        "OptIn",
        "Dropdown",
        "DatePicker",
    }
)
MEDIA_PICKERS = frozenset({"PhotoPicker", "DocumentPicker"})
# Components whose value `${form.name}` reads.
INPUTS = LEGACY_INPUTS | MEDIA_PICKERS | {"ChipsSelector", "CalendarPicker"}
SELECTS = frozenset({"CheckboxGroup", "RadioButtonsGroup", "Dropdown", "ChipsSelector"})
BRANCH_CHILDREN = frozenset(
    {
        "TextHeading",
        "TextSubheading",
        "TextBody",
        "TextCaption",
        "CheckboxGroup",
        "DatePicker",
        "Dropdown",
        "EmbeddedLink",
        "Footer",
        "Image",
        "OptIn",
        "RadioButtonsGroup",
        "Switch",
        "TextArea",
        "TextInput",
        "If",
    }
)
ACTION_NAMES = ("navigate", "complete", "data_exchange", "update_data", "open_url")
