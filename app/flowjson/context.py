"""Shared validation state: the document indexed once (screens, components, actions).

Rules read this index instead of re-walking the document, which keeps each rule module
small and a full validation to one pass over the tree.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from app.flowjson.findings import Finding, Level, join
from app.flowjson.model import uses_endpoint
from app.flowjson.versions import LATEST, Version

ACTION_SLOTS = ("on-click-action", "on-select-action", "on-unselect-action")


@dataclass
class Component:
    node: dict[str, Any]
    pointer: str
    screen: Screen
    form: Component | None  # enclosing Form
    if_depth: int  # enclosing If components
    parent_type: str | None  # "Form", "If", "Switch" or None (layout)
    branch: tuple[str, ...]  # pointers of the enclosing If/Switch branches

    @property
    def type(self) -> str | None:
        value = self.node.get("type")
        return value if isinstance(value, str) else None

    @property
    def name(self) -> str | None:
        value = self.node.get("name")
        return value if isinstance(value, str) else None


@dataclass
class Action:
    node: dict[str, Any]
    pointer: str
    component: Component
    slot: str
    item: bool  # on a data-source or list item, not the component itself

    @property
    def name(self) -> str | None:
        value = self.node.get("name")
        return value if isinstance(value, str) else None


@dataclass
class Screen:
    index: int
    pointer: str
    node: dict[str, Any]
    components: list[Component] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    _inputs: dict[str, Component] | None = field(default=None, repr=False)

    @property
    def id(self) -> str | None:
        value = self.node.get("id")
        return value if isinstance(value, str) else None

    @property
    def terminal(self) -> bool:
        return self.node.get("terminal") is True

    @property
    def data(self) -> dict[str, Any]:
        value = self.node.get("data")
        return value if isinstance(value, dict) else {}

    @property
    def children(self) -> list[Any]:
        layout = self.node.get("layout")
        children = layout.get("children") if isinstance(layout, dict) else None
        return children if isinstance(children, list) else []

    def inputs(self) -> dict[str, Component]:
        """Input components by name (first wins), for `${form.x}` look-ups; built once."""
        if self._inputs is None:
            from app.flowjson.spec import INPUTS

            self._inputs = {}
            for comp in self.components:
                if comp.type in INPUTS and comp.name is not None:
                    self._inputs.setdefault(comp.name, comp)
        return self._inputs


class Context:
    """Everything a rule needs: the document, its version, the index and the findings list."""

    def __init__(self, doc: dict[str, Any], version: Version | None, base: str = "") -> None:
        self.doc = doc
        self.version: Version = version or LATEST
        self.base = base
        self.endpoint = uses_endpoint(doc)
        self.findings: list[Finding] = []
        self.screens: list[Screen] = []
        screens = doc.get("screens")
        if isinstance(screens, list):
            for index, node in enumerate(screens):
                if isinstance(node, dict):
                    screen = Screen(index, join(base, "screens", index), node)
                    self._index(screen)
                    self.screens.append(screen)
        self.by_id: dict[str, Screen] = {}
        for screen in self.screens:
            if screen.id:
                self.by_id.setdefault(screen.id, screen)

    def since(self, version: Version) -> bool:
        return self.version >= version

    def ptr(self, *tokens: str | int) -> str:
        return join(self.base, *tokens)

    def error(self, code: str, pointer: str, message: str) -> None:
        self.findings.append(Finding(code, Level.ERROR, message, pointer))

    def warn(self, code: str, pointer: str, message: str, source: str | None = None) -> None:
        self.findings.append(Finding(code, Level.WARNING, message, pointer, source=source))

    def _index(self, screen: Screen) -> None:
        layout = screen.node.get("layout")
        if isinstance(layout, dict) and isinstance(layout.get("children"), list):
            self._walk(screen, layout["children"], join(screen.pointer, "layout", "children"))

    def _walk(
        self,
        screen: Screen,
        children: list[Any],
        pointer: str,
        form: Component | None = None,
        if_depth: int = 0,
        parent_type: str | None = None,
        branch: tuple[str, ...] = (),
    ) -> None:
        for i, node in enumerate(children):
            if not isinstance(node, dict):
                self.error(
                    "INVALID_PROPERTY_TYPE",
                    join(pointer, i),
                    f"Expected a component object, but found {type(node).__name__}.",
                )
                continue
            comp = Component(node, join(pointer, i), screen, form, if_depth, parent_type, branch)
            screen.components.append(comp)
            self._collect_actions(comp)
            kind = comp.type
            if kind == "Form" and isinstance(node.get("children"), list):
                self._walk(
                    screen,
                    node["children"],
                    join(comp.pointer, "children"),
                    comp,
                    if_depth,
                    "Form",
                    branch,
                )
            elif kind == "If":
                for key in ("then", "else"):
                    if isinstance(node.get(key), list):
                        sub = join(comp.pointer, key)
                        self._walk(screen, node[key], sub, form, if_depth + 1, "If", (*branch, sub))
            elif kind == "Switch" and isinstance(node.get("cases"), dict):
                for key, case in node["cases"].items():
                    if isinstance(case, list):
                        sub = join(comp.pointer, "cases", key)
                        self._walk(screen, case, sub, form, if_depth, "Switch", (*branch, sub))

    def _collect_actions(self, comp: Component) -> None:
        for slot in ACTION_SLOTS:
            action = comp.node.get(slot)
            if isinstance(action, dict):
                comp.screen.actions.append(
                    Action(action, join(comp.pointer, slot), comp, slot, False)
                )
        for key in ("data-source", "list-items"):
            items = comp.node.get(key)
            if not isinstance(items, list):
                continue
            for i, item in enumerate(items):
                if not isinstance(item, dict):
                    continue
                for slot in ACTION_SLOTS:
                    action = item.get(slot)
                    if isinstance(action, dict):
                        pointer = join(comp.pointer, key, i, slot)
                        comp.screen.actions.append(Action(action, pointer, comp, slot, True))

    def all_actions(self) -> Iterator[Action]:
        for screen in self.screens:
            yield from screen.actions
