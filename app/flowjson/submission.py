"""The one judge of a flow's submitted fields: compiled once per flow, at load.

The data endpoint checks each screen's fields with `check(fields, only=...)` and intake checks
the stored lead with `check(fields)`: one schema, one compiled validator, one format checker,
one set of messages, so a value accepted on a screen is accepted in the lead.

The schema is schemas/<flow>.json when that file exists, else the one derived from the Flow
JSON (`flowgate schemas generate` writes the same derivation, app/flowjson/schema_gen.py).
An optional field left blank (`""`, as the WhatsApp client sends an untouched input) counts
as absent (docs/leads.md). Each error is `{"field": <dotted path or None>, "code": <JSON
Schema keyword>, "message": <text a person can read>}`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from jsonschema import ValidationError
from jsonschema.exceptions import SchemaError
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

SchemaSource = Literal["file", "derived"]


def error(field: str | None, code: str, message: str) -> dict[str, Any]:
    """One readable validation error in the stored shape."""
    return {"field": field, "code": code, "message": message}


class SubmissionValidator:
    """A flow's compiled submission schema (or the lack of one, which judges every lead)."""

    def __init__(self, schema: Mapping[str, Any] | None, source: SchemaSource | None) -> None:
        self.schema = schema
        self.source = source if schema is not None else None
        self._validator: Validator | None = None
        self._problem: dict[str, Any] | None = None
        self._optional: frozenset[str] = frozenset()
        self._required: frozenset[str] = frozenset()
        # Per-field views of the one compiled validator (same resolver and format checker),
        # so a screen is judged field by field without validating the rest of the object.
        self._fields: dict[str, Validator] = {}
        self._extra: Validator | bool | None = True  # additionalProperties: schema, or bool
        if schema is None:
            self._problem = error(
                None, "no_schema", "This flow has no submission schema to check against."
            )
            return
        try:
            cls = validator_for(schema)
            cls.check_schema(schema)
        except SchemaError as exc:
            self._problem = error(
                None, "schema_error", f"The flow's submission schema is broken: {exc.message}"
            )
            return
        self._validator = validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
        properties = schema.get("properties")
        required = schema.get("required")
        self._required = frozenset(r for r in required or [] if isinstance(r, str))
        if isinstance(properties, Mapping):
            self._optional = frozenset(k for k in properties if k not in self._required)
            self._fields = {k: validator.evolve(schema=v) for k, v in properties.items()}
        extra = schema.get("additionalProperties", True)
        self._extra = validator.evolve(schema=extra) if isinstance(extra, Mapping) else extra
        if "patternProperties" in schema:  # rare: let the whole-object path judge screens
            self._extra = None

    @property
    def usable(self) -> bool:
        """A schema that compiled: submissions can be judged field by field."""
        return self._validator is not None

    def check(
        self, fields: Mapping[str, Any], only: Iterable[str] | None = None
    ) -> list[dict[str, Any]]:
        """Readable errors of `fields` (empty: valid).

        `only`: judge just these top-level fields, as a screen that sends part of the
        submission is judged: each of them against its own rules, `required` among them,
        nothing about the rest or across fields (that waits for the whole lead).
        """
        if self._validator is None:
            return [] if only is not None else [dict(self._problem or {})]
        judged = {k: v for k, v in fields.items() if not (v == "" and k in self._optional)}
        names = None if only is None else frozenset(only)
        if names is not None and self._extra is not None:
            return self._check_fields(judged, names)
        found = sorted(
            self._validator.iter_errors(judged), key=lambda e: [str(p) for p in e.absolute_path]
        )
        readable: list[dict[str, Any]] = []
        for exc in found:  # one `required` error per missing name, each listing them all
            if names is not None and not exc.absolute_path and exc.validator not in _PER_FIELD:
                continue
            for item in _readable(exc):
                top = (item["field"] or "").split(".")[0]
                if names is not None and top not in names:
                    continue
                if item not in readable:
                    readable.append(item)
        return readable

    def _check_fields(self, judged: Mapping[str, Any], names: frozenset[str]) -> list[dict]:
        """The per-screen check: each named field alone, `required` among the names."""
        readable: list[dict[str, Any]] = []
        for name in sorted(names):
            if name not in judged:
                if name in self._required:
                    readable.append(error(name, "required", "This field is required."))
                continue
            judge = self._fields.get(name)
            if judge is None and self._extra is False:
                readable.append(error(name, "unexpected", "This is not a field of this form."))
                continue
            if judge is None:
                judge = self._extra if not isinstance(self._extra, bool) else None
            for exc in judge.iter_errors(judged[name]) if judge is not None else ():
                exc.path.appendleft(name)
                readable.extend(item for item in _readable(exc) if item not in readable)
        return readable


# Object-level keywords whose errors still name one field each (kept in a per-screen check).
_PER_FIELD = frozenset({"required", "additionalProperties"})


def _path(parts: Iterable[Any]) -> str | None:
    text = ".".join(str(p) for p in parts)
    return text or None


def _readable(exc: ValidationError) -> list[dict[str, Any]]:
    """Turn one jsonschema error into errors that name the field and say what is wrong."""
    where = list(exc.absolute_path)
    keyword = str(exc.validator)
    value = exc.validator_value
    if keyword == "required" and isinstance(exc.instance, Mapping):
        missing = [name for name in value if name not in exc.instance]
        return [
            error(_path([*where, name]), "required", "This field is required.") for name in missing
        ]
    if keyword == "additionalProperties" and isinstance(exc.instance, Mapping):
        known = set((exc.schema.get("properties") or {}).keys())
        extras = [k for k in exc.instance if k not in known] or [None]
        return [
            error(
                _path([*where, k]) if k is not None else _path(where),
                "unexpected",
                "This is not a field of this form.",
            )
            for k in extras
        ]
    messages = {
        "type": lambda: f"Must be {_type_text(value)}.",
        "enum": lambda: "Must be one of: " + ", ".join(str(v) for v in value) + ".",
        "const": lambda: f"Must be {value!r}.",
        "minLength": lambda: f"Must be at least {value} characters long.",
        "maxLength": lambda: f"Must be at most {value} characters long.",
        "pattern": lambda: "Does not have the expected format.",
        "format": lambda: f"Is not a valid {value}.",
        "minimum": lambda: f"Must be at least {value}.",
        "maximum": lambda: f"Must be at most {value}.",
        "minItems": lambda: f"Must have at least {value} item(s).",
        "maxItems": lambda: f"Must have at most {value} item(s).",
    }
    make = messages.get(keyword)
    text = make() if make is not None else exc.message[:200]
    return [error(_path(where), keyword, text)]


def _type_text(value: Any) -> str:
    names = {
        "string": "text",
        "integer": "a whole number",
        "number": "a number",
        "boolean": "true or false",
        "object": "an object",
        "array": "a list",
        "null": "empty",
    }
    types = value if isinstance(value, list) else [value]
    return " or ".join(names.get(str(t), str(t)) for t in types)
