"""The flow registry: every flows/<name>.json as the `FlowDefinition` running code uses.

Loaded once at startup, and everything a request needs is built here, once: the parsed
`FlowModel`, the flow's `FlowHandlers` (flows/<name>.py) and its compiled submission
validator (schemas/<name>.json, else the schema derived from the Flow JSON). A bad flow
never stops the app: it is kept with its findings, logged with its reasons (logger
"flowgate.flows") and not served.
"""

from __future__ import annotations

import importlib.util
import logging
import re
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from app.flowjson.findings import Finding, Level, has_errors, join
from app.flowjson.handlers import FlowHandlers
from app.flowjson.loader import LoadedText, load_text
from app.flowjson.model import FlowModel
from app.flowjson.schema_gen import generate_schema
from app.flowjson.schema_sync import schema_findings
from app.flowjson.submission import SchemaSource, SubmissionValidator
from app.flowjson.validator import validate_loaded

log = logging.getLogger("flowgate.flows")

MODULE_PACKAGE = "flowgate_flows"
AUTOMATIONS_FILE_NAME = "automations.json"
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,99}$")


@dataclass(frozen=True)
class FlowDefinition:
    """One flow as running code uses it; built once by `load_definition`."""

    name: str  # file stem
    path: Path  # flows/<name>.json
    document: dict[str, Any] | None  # parsed Flow JSON (None when unparseable)
    findings: tuple[Finding, ...]  # validator findings (errors + warnings)
    model: FlowModel  # routing, screens, actions (empty for an unparseable document)
    handlers: FlowHandlers  # flows/<name>.py's `handlers`, else the JSON-only defaults
    validator: SubmissionValidator  # the one judge of screens and stored leads
    module: ModuleType | None = None  # the imported flows/<name>.py, if any

    @property
    def valid(self) -> bool:
        """No error-level findings (a broken handler module or schema file is an error)."""
        return not has_errors(self.findings)

    @property
    def endpoint_powered(self) -> bool:
        return self.model.endpoint_powered

    @property
    def schema(self) -> dict[str, Any] | None:
        """The submission schema leads are checked against (file or derived), if any."""
        schema = self.validator.schema
        return dict(schema) if schema is not None else None

    @property
    def schema_source(self) -> SchemaSource | None:
        """ "file" (schemas/<name>.json), "derived" (from the Flow JSON) or None."""
        return self.validator.source

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.is_error]


class FlowRegistry:
    """Flows by name; `servable` hands out only the valid ones."""

    def __init__(self, flows: dict[str, FlowDefinition]) -> None:
        self._flows = dict(sorted(flows.items()))

    @classmethod
    def load(cls, flows_dir: Path, schemas_dir: Path) -> FlowRegistry:
        flows_dir, schemas_dir = Path(flows_dir), Path(schemas_dir)
        flows: dict[str, FlowDefinition] = {}
        if not flows_dir.is_dir():
            log.warning("flows directory %s does not exist; no flows are served", flows_dir)
            return cls(flows)
        for path in sorted(flows_dir.glob("*.json")):
            if path.name == AUTOMATIONS_FILE_NAME:  # the rules file, not a flow (app/automations)
                continue
            definition = load_definition(path, schemas_dir / path.name)
            flows[definition.name] = definition
            if not definition.valid:
                reasons = "; ".join(f.format() for f in definition.errors)
                log.warning("flow %r is not served: %s", definition.name, reasons)
            else:
                log.info("flow %r: %s", definition.name, schema_note(definition))
        log.info("loaded %d flow(s), %d servable", len(flows), sum(f.valid for f in flows.values()))
        return cls(flows)

    def get(self, name: str) -> FlowDefinition | None:
        return self._flows.get(name)

    def servable(self, name: str) -> FlowDefinition | None:
        definition = self._flows.get(name)
        return definition if definition is not None and definition.valid else None

    def all(self) -> list[FlowDefinition]:
        return list(self._flows.values())


def _read(path: Path) -> tuple[LoadedText | None, Finding | None]:
    try:
        return load_text(path.read_text(encoding="utf-8"), str(path)), None
    except (OSError, UnicodeDecodeError) as exc:
        return None, Finding(
            "INVALID_FLOW_JSON", Level.ERROR, f"Cannot read the file: {exc}.", "", 1, 1, str(path)
        )


def load_schema(path: Path) -> tuple[dict[str, Any] | None, list[Finding]]:
    """The parsed submission schema (None if absent or broken) and its error findings."""
    if not path.exists():
        return None, []
    loaded, problem = _read(path)
    if problem is not None or loaded is None:
        return None, [_schema_error(problem.message if problem else "unreadable", "", path)]
    if loaded.error is not None:
        return None, [
            Finding(
                "INVALID_SUBMISSION_SCHEMA",
                Level.ERROR,
                f"Submission schema is not valid JSON: {loaded.error.message}",
                "",
                loaded.error.line,
                loaded.error.column,
                str(path),
            )
        ]
    schema = loaded.data
    if not isinstance(schema, dict):
        return None, loaded.locate([_schema_error("the schema must be a JSON object", "", path)])
    from jsonschema import Draft202012Validator, SchemaError  # loaded only with a schema file

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        pointer = join("", *exc.path)
        return None, loaded.locate(
            [_schema_error(f"not a valid JSON Schema: {exc.message}", pointer, path)]
        )
    return schema, []


def _schema_error(message: str, pointer: str, path: Path) -> Finding:
    return Finding(
        "INVALID_SUBMISSION_SCHEMA",
        Level.ERROR,
        f"Submission schema {path.name}: {message}.",
        pointer,
        file=str(path),
    )


def import_handlers(path: Path, name: str) -> tuple[ModuleType | None, list[Finding]]:
    """Import flows/<name>.py as `flowgate_flows.<name>`; a failure is an error finding."""
    if not path.exists():
        return None, []
    sys.modules.setdefault(MODULE_PACKAGE, types.ModuleType(MODULE_PACKAGE))
    module_name = f"{MODULE_PACKAGE}.{name.replace('-', '_')}"
    try:
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    except BaseException as exc:  # a handler module must never take the app down
        if isinstance(exc, KeyboardInterrupt):
            raise
        sys.modules.pop(module_name, None)
        log.exception("handler module %s failed to import", path)
        line = _traceback_line(exc, path)
        return None, [
            Finding(
                "HANDLER_MODULE_ERROR",
                Level.ERROR,
                f"Handler module {path.name} failed to import: {type(exc).__name__}: {exc}",
                "",
                line,
                1,
                str(path),
            )
        ]
    return module, []


def _traceback_line(exc: BaseException, path: Path) -> int:
    tb = exc.__traceback__
    line = getattr(exc, "lineno", None) if isinstance(exc, SyntaxError) else None
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename) == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line or 1


def validate_flow_file(path: Path, schema_path: Path | None) -> tuple[Any, list[Finding], Any]:
    """(document, findings, schema) for one flow file and its optional schema file."""
    loaded, problem = _read(path)
    if problem is not None or loaded is None:
        return None, [problem] if problem else [], None
    findings = validate_loaded(loaded, containers=False)
    document = loaded.data if loaded.error is None and isinstance(loaded.data, dict) else None
    schema = None
    if schema_path is not None:
        schema, schema_problems = load_schema(schema_path)
        findings += schema_problems
        if schema is not None and document is not None:
            sync = schema_findings(document, schema, str(schema_path))
            flow_side = loaded.locate([f for f in sync if f.file is None])
            schema_side = [f for f in sync if f.file is not None]
            if schema_side:
                schema_loaded, _ = _read(schema_path)
                if schema_loaded is not None:
                    schema_loaded.file = str(schema_path)
                    schema_side = schema_loaded.locate(schema_side)
            findings += flow_side + schema_side
    return document, findings, schema


def load_definition(path: Path, schema_path: Path) -> FlowDefinition:
    """Validate, import and compile one flow (a failure becomes a finding, never raises)."""
    name = path.stem
    document, findings, schema = validate_flow_file(path, schema_path)
    if not _NAME.match(name):
        findings.append(
            Finding(
                "INVALID_FLOW_NAME",
                Level.ERROR,
                f"Flow name {name!r} must be letters, digits, '_' or '-' (it is part of URLs).",
                "",
                1,
                1,
                str(path),
            )
        )
    module, problems = import_handlers(path.with_suffix(".py"), name)
    findings += problems
    handlers = FlowHandlers()
    if module is not None:
        found = getattr(module, "handlers", None)
        if isinstance(found, FlowHandlers):
            handlers = found
        else:
            findings.append(_no_handlers(module, path))
    source: SchemaSource = "file"
    if schema is None and not schema_path.exists():
        schema, source = _derived(document, name), "derived"
    return FlowDefinition(
        name=name,
        path=path,
        document=document,
        findings=tuple(findings),
        model=FlowModel(document if isinstance(document, dict) else {}),
        handlers=handlers,
        validator=SubmissionValidator(schema, source),
        module=module,
    )


def _derived(document: dict[str, Any] | None, name: str) -> dict[str, Any] | None:
    """The schema `flowgate schemas generate` would write, for a flow without a file."""
    if not isinstance(document, dict):
        return None
    try:
        return generate_schema(document, name)
    except Exception:  # a statically valid flow should never get here; stay tolerant
        log.exception("flow %r: cannot derive a submission schema", name)
        return None


def _no_handlers(module: ModuleType, path: Path) -> Finding:
    log.error("flow %s: %s has no `handlers = FlowHandlers(...)`", path.stem, module.__name__)
    return Finding(
        "HANDLER_MODULE_NO_HANDLERS",
        Level.WARNING,
        f"Handler module {path.with_suffix('.py').name} defines no `handlers = FlowHandlers()`;"
        " the flow runs from its JSON alone.",
        "",
        1,
        1,
        str(path.with_suffix(".py")),
    )


def schema_note(definition: FlowDefinition) -> str:
    """Which schema judges the flow's submissions, in words (start-up log, CLI)."""
    if definition.schema_source == "file":
        return f"submissions checked against schemas/{definition.name}.json"
    if definition.schema_source == "derived":
        return (
            "submissions checked against the schema derived from its Flow JSON "
            f"(no schemas/{definition.name}.json)"
        )
    return "no submission schema: every submission is stored invalid"


def report(definition: FlowDefinition) -> dict[str, Any]:
    """JSON-ready summary of one flow (used by the API and `flows list`)."""
    doc = definition.document or {}
    return {
        "name": definition.name,
        "valid": definition.valid,
        "endpoint_powered": definition.endpoint_powered,
        "version": doc.get("version") if isinstance(doc.get("version"), str) else None,
        "data_api_version": doc.get("data_api_version")
        if isinstance(doc.get("data_api_version"), str)
        else None,
        "screens": [s.get("id") for s in doc.get("screens", []) if isinstance(s, dict)]
        if isinstance(doc.get("screens"), list)
        else [],
        "has_schema": definition.schema is not None,
        "schema_source": definition.schema_source,
        "has_handlers": definition.module is not None,
        "errors": sum(1 for f in definition.findings if f.is_error),
        "warnings": sum(1 for f in definition.findings if not f.is_error),
        "findings": [f.to_dict() for f in definition.findings],
    }
