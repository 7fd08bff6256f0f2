"""What the customer saw: each submitted field's label and the titles of its options.

A lead stores option *ids* (`"service": "installation"`); people reading it want the
titles the form showed ("Installation"). The titles come from the Flow JSON: a component's
static `data-source` list, or, when the list is bound to screen data (`${data.x}`), that
property's `__example__` (the endpoint may have sent other options at run time; those ids
then show as they are). Submitted keys are matched to components through the payloads of
`complete` and `data_exchange` actions (`"svc": "${form.service}"`), else by component name.
See docs/flow-json.md for components and data sources.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from app.flowjson.model import EXAMPLE, iter_components

_FORM_REF = re.compile(r"^\$\{form\.([A-Za-z0-9_]+)\}$")
_DATA_REF = re.compile(r"^\$\{data\.([A-Za-z0-9_]+)\}$")


@dataclass(frozen=True)
class FieldLabel:
    """One input's label and its options (id -> title); empty when it has none."""

    label: str | None
    options: dict[str, str] = field(default_factory=dict)

    def titles(self, value: Any) -> list[str] | None:
        """The titles of `value` (an id or a list of ids), or None when none is known."""
        ids = value if isinstance(value, list) else [value]
        if not self.options or not all(isinstance(i, str) and i in self.options for i in ids):
            return None
        return [self.options[i] for i in ids]


def _options(source: Any, examples: dict[str, Any]) -> dict[str, str]:
    if isinstance(source, str):
        match = _DATA_REF.match(source)
        source = examples.get(match.group(1)) if match else None
    if not isinstance(source, list):
        return {}
    return {
        str(item["id"]): str(item["title"])
        for item in source
        if isinstance(item, dict) and "id" in item and isinstance(item.get("title"), str)
    }


def field_labels(document: dict[str, Any] | None) -> dict[str, FieldLabel]:
    """Submitted field name -> FieldLabel for every input of every screen of `document`."""
    if not isinstance(document, dict):
        return {}
    by_component: dict[str, FieldLabel] = {}
    payload_keys: dict[str, str] = {}
    for screen in document.get("screens") or []:
        if not isinstance(screen, dict):
            continue
        data = screen.get("data") if isinstance(screen.get("data"), dict) else {}
        examples = {k: v[EXAMPLE] for k, v in data.items() if isinstance(v, dict) and EXAMPLE in v}
        layout = screen.get("layout") if isinstance(screen.get("layout"), dict) else {}
        for comp in iter_components(layout.get("children")):
            name = comp.get("name")
            if isinstance(name, str):
                label = comp.get("label")
                by_component.setdefault(
                    name,
                    FieldLabel(
                        label if isinstance(label, str) else None,
                        _options(comp.get("data-source"), examples),
                    ),
                )
            for event, action in comp.items():
                if not (event.endswith("-action") and isinstance(action, dict)):
                    continue
                payload = action.get("payload")
                for key, ref in (payload if isinstance(payload, dict) else {}).items():
                    match = _FORM_REF.match(ref) if isinstance(ref, str) else None
                    if match:
                        payload_keys.setdefault(str(key), match.group(1))
    labels = dict(by_component)
    for key, component in payload_keys.items():
        if component in by_component:
            labels[key] = by_component[component]
    return labels
