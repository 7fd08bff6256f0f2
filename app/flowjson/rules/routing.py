"""Routing model: explicit for endpoint flows, derived from navigate otherwise (§4.5)."""

from __future__ import annotations

from app.flowjson.context import Context
from app.flowjson.findings import join

MAX_BRANCHES = 10
CODE = "INVALID_ROUTING_MODEL"


def navigate_edges(ctx: Context) -> list[tuple[str, str, str]]:
    """(source, target, pointer of next.name) for every navigate action to a known other screen."""
    edges = []
    for screen in ctx.screens:
        for action in screen.actions:
            nxt = action.node.get("next")
            if action.name != "navigate" or not isinstance(nxt, dict):
                continue
            target = nxt.get("name")
            if screen.id and target in ctx.by_id and target != screen.id:
                edges.append((screen.id, target, join(action.pointer, "next", "name")))
    return edges


def check(ctx: Context) -> None:
    if not ctx.by_id:
        return
    if "routing_model" in ctx.doc:
        _explicit(ctx)
    elif not ctx.endpoint:  # an endpoint flow without a model was reported by toplevel
        _derived(ctx)


def _reachable(graph: dict[str, list[str]], start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in graph.get(todo.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _cycle(graph: dict[str, list[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    for root in graph:
        if state.get(root):
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = []
        while stack:
            node, i = stack.pop()
            if i == 0:
                state[node] = 1
                path.append(node)
            children = graph.get(node, [])
            if i < len(children):
                stack.append((node, i + 1))
                child = children[i]
                if state.get(child) == 1:
                    return path[path.index(child) :]
                if not state.get(child):
                    stack.append((child, 0))
            else:
                state[node] = 2
                path.pop()
    return None


def _connectivity(ctx: Context, graph: dict[str, list[str]], pointer: str, derived: bool) -> None:
    ids = list(ctx.by_id)
    inbound = {t for targets in graph.values() for t in targets}
    entries = [s for s in ids if s not in inbound]
    if not entries:
        ctx.error(
            CODE,
            pointer,
            "No entry screen found in the routing model. Expected a screen with no inbound edges "
            "as the entry screen."
            if not derived
            else "No entry screen found in the routing model. Add a screen that is not used as "
            "the next screen in any of the navigate actions.",
        )
        return
    reached = _reachable(graph, entries[0])
    lost = [s for s in ids if s not in reached]
    if lost:
        ctx.error(
            CODE,
            pointer,
            (
                "Following screens are not connected with the rest of the screens via navigate "
                f"screen action: {', '.join(lost)}. Every screen must be reachable from the "
                f"entry screen {entries[0]}."
            )
            if derived
            else (
                f"Following screens are not connected with the rest of the screens : "
                f"{', '.join(lost)}. All screens should be connected to the entry screen "
                f"{entries[0]}."
            ),
        )


def _explicit(ctx: Context) -> None:
    model = ctx.doc["routing_model"]
    pointer = ctx.ptr("routing_model")
    if not isinstance(model, dict):
        ctx.error("INVALID_PROPERTY_TYPE", pointer, "'routing_model' must be an object.")
        return
    graph: dict[str, list[str]] = {s: [] for s in ctx.by_id}
    mentioned: set[str] = set()
    for source, targets in model.items():
        src_ptr = join(pointer, source)
        if source not in ctx.by_id:
            ctx.error(CODE, src_ptr, f"Invalid screens found in the routing model: {source}.")
            continue
        mentioned.add(source)
        if not isinstance(targets, list):
            ctx.error("INVALID_PROPERTY_TYPE", src_ptr, "Routes must be an array of screen ids.")
            continue
        if len(targets) > MAX_BRANCHES:
            ctx.error(
                CODE,
                src_ptr,
                f"Number of branches exceeds the max limit of {MAX_BRANCHES} for screen: {source}.",
            )
        for i, target in enumerate(targets):
            if target not in ctx.by_id:
                ctx.error(
                    CODE, join(src_ptr, i), f"Invalid screen found in the routing model: {target}."
                )
            elif target == source:
                ctx.error(
                    CODE, join(src_ptr, i), f"A route cannot point to the current screen {source}."
                )
            else:
                mentioned.add(target)
                graph[source].append(target)
    seen_edges: set[tuple[str, str]] = set()
    for source, targets in model.items():
        for i, target in enumerate(targets if isinstance(targets, list) else []):
            if (target, source) in seen_edges:
                ctx.error(
                    CODE,
                    join(pointer, source, i),
                    f"Backward route [{source}-{target}] corresponding to forward route "
                    f"[{target}-{source}] is not allowed in the routing model. Only forward "
                    "routes can be specified.",
                )
            seen_edges.add((source, target))
    missing = [s for s in ctx.by_id if s not in mentioned]
    if missing and len(ctx.by_id) > 1:
        ctx.error(
            CODE,
            pointer,
            f"Following screens are missing in the routing model: {', '.join(missing)}.",
        )
    for source, target, _ in navigate_edges(ctx):
        if target not in graph.get(source, []):
            ctx.error(
                CODE,
                join(pointer, source) if source in model else pointer,
                f"Missing direct route from screen '{source}' to screen '{target}' in the routing "
                f"model, while it exists in the navigate screen action of screen '{source}'.",
            )
    cycle = _cycle(graph)
    if cycle:
        if len(cycle) > 2:  # a 2-cycle was reported above as a backward route
            ctx.error(
                CODE,
                pointer,
                f"Loop detected in the routing model for screens: {', '.join(cycle)}.",
            )
        return
    if not missing or len(ctx.by_id) == 1:
        _connectivity(ctx, graph, pointer, derived=False)


def _derived(ctx: Context) -> None:
    graph: dict[str, list[str]] = {s: [] for s in ctx.by_id}
    for source, target, _ in navigate_edges(ctx):
        if target not in graph[source]:
            graph[source].append(target)
    for screen in ctx.screens:
        if screen.id and len(graph.get(screen.id, [])) > MAX_BRANCHES:
            ctx.error(
                CODE,
                screen.pointer,
                f"Number of branches exceeds the max limit of {MAX_BRANCHES} for screen: "
                f"{screen.id}. Reduce navigate actions for the screen.",
            )
    _connectivity(ctx, graph, ctx.ptr("screens"), derived=True)
    # "Read more" screens opened from an OptIn or EmbeddedLink are meant to be left with BACK.
    read_more = {
        t
        for s in ctx.screens
        for a in s.actions
        if a.name == "navigate"
        and a.component.type in ("OptIn", "EmbeddedLink")
        and isinstance(a.node.get("next"), dict)
        and isinstance(t := a.node["next"].get("name"), str)
    }
    for screen in ctx.screens:
        if screen.id in read_more:
            continue
        if screen.id and not screen.terminal and not graph.get(screen.id):
            # "All routes must end at the terminal screen" is UNCONFIRMED as a static check.
            ctx.warn(
                "DEAD_END_SCREEN",
                screen.pointer,
                f"Screen '{screen.id}' is not terminal and navigates nowhere; users can only go "
                "back from it.",
            )
