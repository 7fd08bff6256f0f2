"""Flow handler modules (flows/<name>.py) import Flowgate only through `app.flows_api`.

That module is the public, stable surface for flow authors (docs/handlers.md); everything else
in `app` may move between releases.
"""

from __future__ import annotations

import ast

import app.flows_api
from tests.conftest import ROOT

PUBLIC = {
    "Answer",
    "FlowHandlers",
    "Handler",
    "HandlerContext",
    "ScreenError",
    "TokenRejected",
    "now",
}


def app_imports(source: str) -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "app"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "app":
            found.append(str(node.module))
    return found


def test_example_handlers_use_only_the_public_module() -> None:
    modules = sorted((ROOT / "flows").glob("*.py"))
    assert modules, "the example flows have handler modules"
    for path in modules:
        imports = app_imports(path.read_text(encoding="utf-8"))
        assert imports and set(imports) == {"app.flows_api"}, (path.name, imports)


def test_the_check_sees_an_internal_import() -> None:
    assert app_imports("from app.endpoint.protocol import ScreenError\nimport app.clock\n") == [
        "app.endpoint.protocol",
        "app.clock",
    ]


def test_the_public_surface_is_stable() -> None:
    assert set(app.flows_api.__all__) == PUBLIC
    assert all(getattr(app.flows_api, name) is not None for name in PUBLIC)
