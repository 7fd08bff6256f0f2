"""Small typed accessors over a parsed Flow JSON dict, for code that runs a flow.

Pure functions, no validation: callers use them on documents the registry found valid, and
they return empty results rather than raising on odd shapes.
"""

from __future__ import annotations

from typing import Any

from app.flowjson.spec import INPUTS

Document = dict[str, Any]


def screens(doc: Document) -> list[dict[str, Any]]:
    value = doc.get("screens")
    return [s for s in value if isinstance(s, dict)] if isinstance(value, list) else []


def screen_ids(doc: Document) -> list[str]:
    return [s["id"] for s in screens(doc) if isinstance(s.get("id"), str)]


def screen_by_id(doc: Document, screen_id: str) -> dict[str, Any] | None:
    return next((s for s in screens(doc) if s.get("id") == screen_id), None)


def terminal_screens(doc: Document) -> list[str]:
    return [s["id"] for s in screens(doc) if s.get("terminal") is True and "id" in s]


def _components(children: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for node in children if isinstance(children, list) else []:
        if not isinstance(node, dict):
            continue
        out.append(node)
        kind = node.get("type")
        if kind == "Form":
            out.extend(_components(node.get("children")))
        elif kind == "If":
            out.extend(_components(node.get("then")) + _components(node.get("else")))
        elif kind == "Switch" and isinstance(node.get("cases"), dict):
            for case in node["cases"].values():
                out.extend(_components(case))
    return out


def components(doc: Document, screen_id: str) -> list[dict[str, Any]]:
    """Every component of a screen, nested ones included, in document order."""
    screen = screen_by_id(doc, screen_id) or {}
    layout = screen.get("layout")
    return _components(layout.get("children") if isinstance(layout, dict) else None)


def input_components(doc: Document, screen_id: str) -> dict[str, str]:
    """Input component name -> component type on a screen (first one wins on duplicates)."""
    out: dict[str, str] = {}
    for node in components(doc, screen_id):
        if node.get("type") in INPUTS and isinstance(node.get("name"), str):
            out.setdefault(node["name"], node["type"])
    return out


def screen_data_model(doc: Document, screen_id: str) -> dict[str, Any]:
    """The screen's declared `data` model (field -> schema with `__example__`), or {}."""
    screen = screen_by_id(doc, screen_id) or {}
    data = screen.get("data")
    return data if isinstance(data, dict) else {}


def example_data(doc: Document, screen_id: str) -> dict[str, Any]:
    """The `__example__` value of every top-level data field of a screen."""
    return {
        key: schema["__example__"]
        for key, schema in screen_data_model(doc, screen_id).items()
        if isinstance(schema, dict) and "__example__" in schema
    }


def navigate_targets(doc: Document, screen_id: str) -> list[str]:
    """Screens a screen's navigate actions lead to, in document order."""
    out: list[str] = []
    stack: list[Any] = list(components(doc, screen_id))
    while stack:
        node = stack.pop(0)
        if isinstance(node, dict):
            nxt = node.get("next")
            if node.get("name") == "navigate" and isinstance(nxt, dict):
                target = nxt.get("name")
                if isinstance(target, str) and target not in out:
                    out.append(target)
            stack.extend(v for k, v in node.items() if k not in ("children", "then", "else"))
        elif isinstance(node, list):
            stack.extend(node)
    return out


def routes(doc: Document) -> dict[str, list[str]]:
    """The routing model: explicit `routing_model`, else derived from navigate actions."""
    model = doc.get("routing_model")
    if isinstance(model, dict):
        out = {sid: [] for sid in screen_ids(doc)}
        for source, targets in model.items():
            if isinstance(targets, list):
                out[source] = [t for t in targets if isinstance(t, str)]
        return out
    return {sid: navigate_targets(doc, sid) for sid in screen_ids(doc)}


def next_screens(doc: Document, screen_id: str) -> list[str]:
    return routes(doc).get(screen_id, [])


def transition_allowed(doc: Document, source: str, target: str) -> bool:
    """True when the routing model lets `source` lead to `target` (SUCCESS closes the flow)."""
    return target == "SUCCESS" or target in next_screens(doc, source)


def entry_screen(doc: Document) -> str | None:
    """The first screen (document order) with no inbound route; the first screen as fallback."""
    graph = routes(doc)
    inbound = {t for targets in graph.values() for t in targets}
    ids = screen_ids(doc)
    return next((s for s in ids if s not in inbound), ids[0] if ids else None)


def endpoint_powered(doc: Document) -> bool:
    return "data_api_version" in doc
