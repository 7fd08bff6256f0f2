"""The rules file (`flows/automations.json` or FLOWGATE_AUTOMATIONS_FILE): model and checks.

Findings have the Flow JSON validator's shape (`file:line:column: LEVEL CODE message`), located
with the same loader (app/flowjson/loader.py). A rule with an error is not run; the other
rules are (docs/automations.md, "Checks"). A missing file means no rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.automations.hours import problems as hour_problems
from app.flowjson.findings import Finding, Level, join
from app.flowjson.loader import load_text

TRIGGERS = ("message.received", "flow.submitted", "window.expiring")
SEND_TYPES = ("text", "flow", "template")
FREE_FORM = ("text", "flow")
RULE_KEYS = {"name", "on", "when", "send", "once_per_seconds", "delay_seconds", "enabled"}
RULE_KEYS |= {"description"}
WHEN_KEYS = {"keywords", "flow", "first_in_window", "hours"}
WHEN_FOR = {"keywords": "message.received", "first_in_window": "message.received"}
WHEN_FOR["flow"] = "flow.submitted"
SEND_KEYS = {
    "text": ({"text"}, {"preview_url"}),
    "flow": ({"flow", "body", "cta"}, {"meta_flow_id", "meta_flow_name", "header", "footer"}),
    "template": ({"name", "language"}, {"components"}),
}
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")
PLACEHOLDERS = {
    "message.received": {"contact_name", "wa_id", "text", "ref"},
    "flow.submitted": {"contact_name", "wa_id", "flow", "submission_id"},
    "window.expiring": {"contact_name", "wa_id", "expires_at"},
}
NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")
MAX_SECONDS = 30 * 86400


@dataclass(frozen=True)
class Rule:
    """One checked rule. `send` is the rule's send object as written (text may hold
    placeholders; they are filled in when the rule fires)."""

    name: str
    on: str
    send: dict[str, Any]
    keywords: tuple[str, ...] = ()
    flow: str | None = None
    first_in_window: bool | None = None
    hours: dict[str, Any] | None = None
    once_per_seconds: int | None = None
    delay_seconds: int = 0
    enabled: bool = True

    @property
    def free_form(self) -> bool:
        return self.send.get("type") in FREE_FORM


@dataclass(frozen=True)
class RuleSet:
    """The rules that run (those without errors) and every finding of the file."""

    path: str
    rules: tuple[Rule, ...] = ()
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    def for_event(self, event: str) -> list[Rule]:
        return [r for r in self.rules if r.on == event and r.enabled]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.is_error]


def load_rules(path: Path, registry: Any = None, warning_seconds: float = 3600.0) -> RuleSet:
    """Read and check the rules file at `path` (absent: no rules, no findings)."""
    if not path.exists():
        return RuleSet(str(path))
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return RuleSet(str(path), (), (_finding("INVALID_AUTOMATIONS_JSON", str(exc), ""),))
    return check_text(source, str(path), registry, warning_seconds)


def check_text(
    source: str, file: str, registry: Any = None, warning_seconds: float = 3600.0
) -> RuleSet:
    """Check the rules file text; findings carry file, line and column."""
    loaded = load_text(source, file)
    if loaded.error is not None:
        error = Finding(
            "INVALID_AUTOMATIONS_JSON",
            Level.ERROR,
            loaded.error.message.replace("Flow JSON", "The rules file"),
            "",
            loaded.error.line,
            loaded.error.column,
            file,
        )
        return RuleSet(file, (), (error,))
    checker = _Checker(registry, warning_seconds)
    rules = checker.document(loaded.data)
    findings = tuple(loaded.locate(checker.findings))
    broken = {f.pointer.split("/")[2] for f in findings if f.is_error and _in_rule(f.pointer)}
    top_error = any(f.is_error and not _in_rule(f.pointer) for f in findings)
    kept = () if top_error else tuple(r for i, r in rules if str(i) not in broken)
    return RuleSet(file, kept, findings)


def _in_rule(pointer: str) -> bool:
    return pointer.startswith("/rules/") and len(pointer.split("/")) > 2


def _finding(code: str, message: str, pointer: str, level: Level = Level.ERROR) -> Finding:
    return Finding(code, level, message, pointer)


class _Checker:
    """Walks the document, collecting findings and the rules that can be built."""

    def __init__(self, registry: Any, warning_seconds: float) -> None:
        self.registry = registry
        self.warning_seconds = warning_seconds
        self.findings: list[Finding] = []

    def error(self, code: str, message: str, pointer: str) -> None:
        self.findings.append(_finding(code, message, pointer))

    def warn(self, code: str, message: str, pointer: str) -> None:
        self.findings.append(_finding(code, message, pointer, Level.WARNING))

    def document(self, data: Any) -> list[tuple[int, Rule]]:
        if not isinstance(data, dict):
            self.error("INVALID_TYPE", "The rules file must be a JSON object.", "")
            return []
        for key in sorted(set(data) - {"rules", "$schema", "description"}):
            self.error("UNKNOWN_KEY", f"Unknown top-level key {key!r}.", join("", key))
        rules = data.get("rules")
        if not isinstance(rules, list):
            self.error("MISSING_KEY", "`rules` must be a list of rules.", "/rules")
            return []
        out, names = [], {}
        for i, raw in enumerate(rules):
            where = join("/rules", i)
            rule = self.rule(raw, where)
            if rule is None:
                continue
            if rule.name in names:
                self.error(
                    "DUPLICATE_RULE_NAME",
                    f"Rule name {rule.name!r} is used twice (also /rules/{names[rule.name]}); "
                    "the name keys the at-most-once record of each send.",
                    join(where, "name"),
                )
                continue
            names[rule.name] = i
            out.append((i, rule))
        return out

    def rule(self, raw: Any, where: str) -> Rule | None:
        if not isinstance(raw, dict):
            self.error("INVALID_TYPE", "A rule must be a JSON object.", where)
            return None
        for key in sorted(set(raw) - RULE_KEYS):
            self.error("UNKNOWN_KEY", f"Unknown rule key {key!r}.", join(where, key))
        name, on = raw.get("name"), raw.get("on")
        ok = True
        if not isinstance(name, str) or not NAME.match(name):
            self.error("MISSING_KEY", "`name` must be 1-100 letters, digits, _ . -", where)
            ok = False
        if on not in TRIGGERS:
            pointer = join(where, "on") if "on" in raw else where
            self.error("UNKNOWN_TRIGGER", f"`on` must be one of {', '.join(TRIGGERS)}.", pointer)
            ok = False
        numbers = {}
        for key in ("once_per_seconds", "delay_seconds"):
            value = raw.get(key)
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not 0 <= value <= MAX_SECONDS
            ):
                self.error(
                    "INVALID_TYPE", f"`{key}` must be 0-{MAX_SECONDS} seconds.", join(where, key)
                )
                ok = False
            numbers[key] = value if isinstance(value, int) and not isinstance(value, bool) else None
        enabled = raw.get("enabled", True)
        if not isinstance(enabled, bool):
            self.error("INVALID_TYPE", "`enabled` must be true or false.", join(where, "enabled"))
            ok = False
        when = self.when(raw.get("when"), join(where, "when"), on)
        send = self.send(raw.get("send"), join(where, "send"), on, numbers["delay_seconds"] or 0)
        if not ok or when is None or send is None:
            return None
        return Rule(
            name=name,
            on=on,
            send=send,
            keywords=tuple(when.get("keywords", ())),
            flow=when.get("flow"),
            first_in_window=when.get("first_in_window"),
            hours=when.get("hours"),
            once_per_seconds=numbers["once_per_seconds"],
            delay_seconds=numbers["delay_seconds"] or 0,
            enabled=enabled,
        )

    def when(self, raw: Any, where: str, on: Any) -> dict[str, Any] | None:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.error("INVALID_TYPE", "`when` must be a JSON object.", where)
            return None
        ok = True
        for key in sorted(raw):
            if key not in WHEN_KEYS:
                self.error("UNKNOWN_KEY", f"Unknown condition {key!r}.", join(where, key))
                ok = False
            elif on in TRIGGERS and key in WHEN_FOR and WHEN_FOR[key] != on:
                self.error(
                    "CONDITION_NOT_FOR_TRIGGER",
                    f"`{key}` only applies to {WHEN_FOR[key]} rules.",
                    join(where, key),
                )
                ok = False
        keywords = raw.get("keywords")
        if keywords is not None and (
            not isinstance(keywords, list)
            or not keywords
            or not all(isinstance(k, str) and k.strip() for k in keywords)
        ):
            self.error(
                "INVALID_TYPE",
                "`keywords` must be a non-empty list of words.",
                join(where, "keywords"),
            )
            ok = False
        first = raw.get("first_in_window")
        if first is not None and not isinstance(first, bool):
            self.error(
                "INVALID_TYPE",
                "`first_in_window` must be true or false.",
                join(where, "first_in_window"),
            )
            ok = False
        if "hours" in raw:
            for key, message in hour_problems(raw["hours"]):
                self.error("INVALID_HOURS", message, join(where, "hours", *([key] if key else [])))
                ok = False
        flow = raw.get("flow")
        if flow is not None:
            if not isinstance(flow, str):
                self.error("INVALID_TYPE", "`flow` must be a flow name.", join(where, "flow"))
                ok = False
            elif self.registry is not None and self.registry.get(flow) is None:
                self.error(
                    "UNKNOWN_FLOW",
                    f"No flow named {flow!r} in the flows folder.",
                    join(where, "flow"),
                )
                ok = False
        return dict(raw) if ok else None

    def send(self, raw: Any, where: str, on: Any, delay: int) -> dict[str, Any] | None:
        if not isinstance(raw, dict):
            self.error("MISSING_KEY", "`send` must be a JSON object with a `type`.", where)
            return None
        kind = raw.get("type")
        if kind not in SEND_TYPES:
            self.error(
                "UNKNOWN_SEND_TYPE",
                f"`type` must be one of {', '.join(SEND_TYPES)}.",
                join(where, "type"),
            )
            return None
        required, optional = SEND_KEYS[kind]
        ok = True
        for key in sorted(set(raw) - required - optional - {"type"}):
            self.error("UNKNOWN_KEY", f"{key!r} is not used by a {kind} send.", join(where, key))
            ok = False
        for key in sorted(required - set(raw)):
            code = "TEMPLATE_WITHOUT_LANGUAGE" if key == "language" else "MISSING_KEY"
            self.error(code, f"A {kind} send needs `{key}`.", where)
            ok = False
        for key in sorted((required | optional) & set(raw) - {"components", "preview_url"}):
            if not isinstance(raw[key], str) or not raw[key].strip():
                self.error("INVALID_TYPE", f"`{key}` must be non-empty text.", join(where, key))
                ok = False
        if "components" in raw and not isinstance(raw["components"], list):
            self.error("INVALID_TYPE", "`components` must be a list.", join(where, "components"))
            ok = False
        if kind == "text" and isinstance(raw.get("text"), str) and len(raw["text"]) > 4096:
            self.error(
                "TEXT_TOO_LONG",
                "A text message holds at most 4096 characters.",
                join(where, "text"),
            )
            ok = False
        if kind == "flow" and isinstance(raw.get("flow"), str) and self.registry is not None:
            flow = raw["flow"]
            if self.registry.get(flow) is None:
                self.error(
                    "UNKNOWN_FLOW",
                    f"No flow named {flow!r} in the flows folder.",
                    join(where, "flow"),
                )
                ok = False
            elif self.registry.servable(flow) is None:
                self.warn(
                    "FLOW_NOT_SERVED",
                    f"Flow {flow!r} has errors and is not served; this rule will fail.",
                    join(where, "flow"),
                )
        if kind in FREE_FORM and on == "window.expiring" and delay >= self.warning_seconds:
            self.error(
                "FREE_FORM_AFTER_WINDOW",
                f"A {kind} send {delay} s after window.expiring (raised "
                f"{int(self.warning_seconds)} s before the window closes) would arrive after "
                "it closed; only a template can go then.",
                join(where, "type"),
            )
            ok = False
        if on in PLACEHOLDERS:
            for key in ("text", "body"):
                for name in PLACEHOLDER.findall(
                    raw.get(key) or "" if isinstance(raw.get(key), str) else ""
                ):
                    if name not in PLACEHOLDERS[on] and not name.startswith("fields."):
                        self.warn(
                            "UNKNOWN_PLACEHOLDER",
                            f"{{{name}}} is not filled in for {on} (known: "
                            f"{', '.join(sorted(PLACEHOLDERS[on]))}); it is sent as written.",
                            join(where, key),
                        )
        return dict(raw) if ok else None
