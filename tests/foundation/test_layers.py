"""Layers only point down: an import-graph check over app/ (the order is docs/architecture.md's).

Every import counts, including function-level and `TYPE_CHECKING` ones: each is a
dependency a reader has to follow. A module may import its own package and the packages
of lower layers; packages of one layer are independent of each other; only the shell
layers may import Flask.
"""

from __future__ import annotations

import ast
import re

from tests.conftest import ROOT

APP = ROOT / "app"
# Lowest first. Each entry is a package (app/<name>/) or a top-level module (app/<name>.py);
# "app" is the package's own __init__ (the Flask app factory).
LAYERS: list[set[str]] = [
    {"app.errors", "app.clock", "app.ids", "app.database_url", "app.private_files"},
    {"app.config", "app.pagination", "app.prepared"},
    {"app.models", "app.db", "app.db_migrations", "app.crypto", "app.logs", "app.metrics"},
    {"app.flowjson", "app.settings_check", "app.instance_env"},
    {"app.runtime"},
    {"app.delivery"},
    {"app.media"},
    {"app.leads"},
    {"app.endpoint", "app.export", "app.messaging", "app.instance"},
    {"app.ops", "app.metaflows", "app.automations"},
    {"app.api", "app.flows_api"},
    {"app.web"},
    {"app", "app.serving"},
    {"app.cli"},
]
FLASK_LAYERS = {"app.web", "app", "app.serving", "app.cli"}
EXTERNAL_SHELL = {"flask", "werkzeug"}


def area_of(module: str) -> str:
    """`app.leads.intake` -> `app.leads`; `app.clock` -> `app.clock`; `app` -> `app`."""
    return ".".join(module.split(".")[:2])


def layer_of(area: str) -> int:
    for index, members in enumerate(LAYERS):
        if area in members:
            return index
    raise AssertionError(f"{area} is in no layer: add it to LAYERS and docs/architecture.md")


def imports_of(source: str, module: str) -> list[tuple[str, int]]:
    """(imported module, line) for every import in `source`, `from app import x` resolved."""
    found: list[tuple[str, int]] = []
    package = module if module == "app" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            if base == "app":  # `from app import clock` names a module, `create_app` not
                found += [
                    (f"app.{a.name}" if _is_module(a.name) else "app", node.lineno)
                    for a in node.names
                ]
            else:
                found.append((base, node.lineno))
    return found


def _is_module(name: str) -> bool:
    return (APP / f"{name}.py").exists() or (APP / name / "__init__.py").exists()


def violations(sources: dict[str, str]) -> list[str]:
    """Every import in `sources` ({module name: source}) that points up or sideways."""
    problems: list[str] = []
    for module, source in sorted(sources.items()):
        mine = area_of(module)
        for target, line in imports_of(source, module):
            root = target.split(".")[0]
            if root in EXTERNAL_SHELL and mine not in FLASK_LAYERS:
                problems.append(f"{module}:{line} imports {target} (Flask stays in the shell)")
                continue
            if root != "app":
                continue
            theirs = area_of(target)
            if theirs == mine:
                continue
            if layer_of(theirs) > layer_of(mine):
                problems.append(f"{module}:{line} imports {target} from a higher layer")
            elif layer_of(theirs) == layer_of(mine):
                problems.append(f"{module}:{line} imports {target} from its own layer")
    return problems


def app_sources() -> dict[str, str]:
    out: dict[str, str] = {}
    for path in APP.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path.read_text(encoding="utf-8")
    return out


def test_app_imports_only_point_down() -> None:
    assert violations(app_sources()) == []


def test_every_area_has_a_layer() -> None:
    for module in app_sources():
        layer_of(area_of(module))


def test_the_check_fails_on_wrong_imports() -> None:
    """Self-check: a core module reaching up, sideways or into Flask is reported."""
    sources = app_sources()
    sources["app.leads.intake"] += "\nfrom app.web import runtime\n"  # up into the shell
    sources["app.export.query"] += "\nfrom app.messaging import sending\n"  # sideways
    sources["app.export.query"] += "\nimport flask\n"  # Flask in the core
    sources["app.models.base"] += "\nfrom app import api\n"  # `from app import x` resolved
    found = violations(sources)
    assert len(found) == 4, found
    assert any(p.startswith("app.leads.intake:") and "higher layer" in p for p in found)
    assert any(p.startswith("app.export.query:") and "own layer" in p for p in found)
    assert any(p.startswith("app.export.query:") and "Flask" in p for p in found)
    assert any(p.startswith("app.models.base:") and "app.api" in p for p in found)


def test_docs_list_the_same_layers() -> None:
    """docs/architecture.md's "Layers" list is this test's LAYERS, in the same order."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    listed = [
        set(re.findall(r"`(app[a-z_.]*)`", line))
        for line in section.splitlines()
        if re.match(r"^\d+\. ", line)
    ]
    assert listed == LAYERS
