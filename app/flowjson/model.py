"""What code that runs a flow needs to know about one Flow JSON document, computed once.

Routing (entry screen, next screens), each screen's data model (with the `__example__` values
kept apart) and each screen's actions (which component event fires which action with which
payload). The endpoint's router and answer checker, the client emulator and message sending
all read flows through this one view, so server and emulated client agree on what a flow
means. No validation here: documents come from the registry, which found them valid, and odd
shapes give empty results rather than exceptions.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator

from app.flowjson.quickcheck import Check, compile_schema

EXAMPLE = "__example__"


def uses_endpoint(document: Any) -> bool:
    """The one rule for "endpoint-powered": the document declares a `data_api_version`.

    Validator, registry, router and message sending all ask this. An empty `routing_model`
    is served too: the validator accepts it for a single-screen endpoint flow
    (docs/flow-validation.md), whose entry screen is then its first screen.
    """
    return isinstance(document, dict) and "data_api_version" in document


@dataclass(frozen=True)
class ScreenAction:
    """One action attached to a component: `event` is e.g. `on-click-action`."""

    event: str
    name: str
    component: dict[str, Any]
    payload: dict[str, Any]
    next: dict[str, Any] | None


def _strip_examples(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _strip_examples(v) for k, v in schema.items() if k != EXAMPLE}
    if isinstance(schema, list):
        return [_strip_examples(v) for v in schema]
    return schema


def iter_components(children: Any) -> Iterator[dict[str, Any]]:
    """Every component under `children`, depth first, including If/Switch branches."""
    if not isinstance(children, list):
        return
    for comp in children:
        if not isinstance(comp, dict):
            continue
        yield comp
        yield from iter_components(comp.get("children"))
        yield from iter_components(comp.get("then"))
        yield from iter_components(comp.get("else"))
        cases = comp.get("cases")
        if isinstance(cases, dict):
            for branch in cases.values():
                yield from iter_components(branch)


@dataclass
class ScreenModel:
    id: str
    document: dict[str, Any]
    terminal: bool
    data_model: dict[str, Any]  # property -> schema, without __example__
    examples: dict[str, Any]
    actions: list[ScreenAction] = field(default_factory=list)
    validator: Draft202012Validator | None = None
    prop_validators: dict[str, Draft202012Validator] = field(default_factory=dict)
    # The same schemas compiled once (app/flowjson/quickcheck.py); None: not compilable.
    quick: Check | None = None
    prop_quick: dict[str, Check | None] = field(default_factory=dict)

    def accepts(self, prop: str, value: Any) -> bool:
        """True when `value` fits the declared schema of data property `prop`."""
        quick = self.prop_quick.get(prop)
        if quick is not None:
            return quick(value)
        validator = self.prop_validators.get(prop)
        return validator is not None and validator.is_valid(value)

    def components(self) -> Iterator[dict[str, Any]]:
        layout = self.document.get("layout")
        return iter_components(layout.get("children") if isinstance(layout, dict) else None)


class FlowModel:
    """Read-only view of a Flow JSON document (assumed statically valid by the registry)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.data_api_version: str | None = document.get("data_api_version")
        routing = document.get("routing_model")
        self.routing: dict[str, list[str]] = (
            {k: [s for s in v if isinstance(s, str)] for k, v in routing.items()}
            if isinstance(routing, dict)
            else {}
        )
        self.screens: dict[str, ScreenModel] = {}
        for raw in document.get("screens") or []:
            if isinstance(raw, dict) and isinstance(raw.get("id"), str):
                self.screens[raw["id"]] = self._screen(raw)

    @staticmethod
    def _screen(raw: dict[str, Any]) -> ScreenModel:
        model = raw.get("data") if isinstance(raw.get("data"), dict) else {}
        props = {k: _strip_examples(v) for k, v in model.items() if isinstance(v, dict)}
        examples = {k: copy.deepcopy(v[EXAMPLE]) for k, v in model.items() if EXAMPLE in v}
        screen = ScreenModel(
            id=raw["id"],
            document=raw,
            terminal=bool(raw.get("terminal")),
            data_model=props,
            examples=examples,
        )
        whole = {"type": "object", "properties": props, "required": sorted(props)}
        screen.validator = Draft202012Validator(whole)
        screen.prop_validators = {k: Draft202012Validator(v) for k, v in props.items()}
        screen.quick = compile_schema(whole)
        screen.prop_quick = {k: compile_schema(v) for k, v in props.items()}
        for comp in screen.components():
            for event, action in comp.items():
                if event.endswith("-action") and isinstance(action, dict):
                    payload = action.get("payload")
                    screen.actions.append(
                        ScreenAction(
                            event=event,
                            name=str(action.get("name")),
                            component=comp,
                            payload=payload if isinstance(payload, dict) else {},
                            next=action.get("next")
                            if isinstance(action.get("next"), dict)
                            else None,
                        )
                    )
        return screen

    @property
    def endpoint_powered(self) -> bool:
        """The endpoint serves this flow (see `uses_endpoint`)."""
        return uses_endpoint(self.document)

    def screen(self, screen_id: str | None) -> ScreenModel | None:
        return self.screens.get(screen_id) if isinstance(screen_id, str) else None

    @property
    def entry_screen(self) -> str | None:
        """The first screen no route leads to (Meta's rule), else the first screen."""
        targets = {t for routes in self.routing.values() for t in routes}
        for screen_id in self.screens:
            if screen_id not in targets:
                return screen_id
        return next(iter(self.screens), None)

    def next_screens(self, screen_id: str) -> list[str]:
        return list(self.routing.get(screen_id, []))
