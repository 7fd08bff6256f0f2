"""If conditions and backtick expressions: one parser, one set of type rules.

Conditions (flow-json.md §4.4, 4.0+) and nested expressions in backticks (§4.3, 6.0+) share
the grammar and the operand type rules ("validated during Flow JSON creation time"); an
expression adds arithmetic (`+ - * / %`, numbers only) and string concatenation (members
side by side, separated by spaces). See docs/flow-validation.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.flowjson.context import Context, Screen
from app.flowjson.findings import join
from app.flowjson.types import reference_type

_TOKEN = re.compile(
    r"\s*(?:(?P<ref>\$\{[^}]*\})|(?P<str>'(?:[^'\\]|\\.)*')|(?P<num>\d+(?:\.\d+)?)"
    r"|(?P<bool>true|false)|(?P<op>==|!=|>=|<=|&&|\|\||>|<|!)|(?P<paren>[()])"
    r"|(?P<minus>-)|(?P<arith>[+*/%])|(?P<quote>')|(?P<bad>\S))"
)


class ConditionError(Exception):
    pass


@dataclass
class Operand:
    type: str | None  # boolean, number, string or None (unknown)
    literal: bool


_NUMERIC = frozenset({"number", "integer"})
_ARITH = frozenset({"+", "-", "*", "/", "%"})
_CONCAT = "concat"  # marks the level where members side by side are joined as a string


def _type(value: str | None) -> str | None:
    return "number" if value == "integer" else value


class _Parser:
    _CONDITION_LEVELS: tuple[tuple[str, ...], ...] = (
        ("||",),
        ("&&",),
        ("==", "!="),
        (">", ">=", "<", "<="),
    )
    _EXPRESSION_LEVELS = (*_CONDITION_LEVELS, (_CONCAT,), ("+", "-"), ("*", "/", "%"))

    def __init__(self, text: str, screen: Screen, expression: bool = False) -> None:
        self.screen = screen
        self.expression = expression
        self._LEVELS = self._EXPRESSION_LEVELS if expression else self._CONDITION_LEVELS
        self.tokens: list[tuple[str, str, int]] = []
        for m in _TOKEN.finditer(text):
            kind = m.lastgroup or "bad"
            value = m.group(kind)
            if kind == "quote":
                raise ConditionError("Missing closing quote for string.")
            if kind == "bad" or (kind == "arith" and not expression):
                raise ConditionError(
                    f"Unexpected character '{value}' at column {m.start(kind) + 1}."
                )
            if kind == "minus" and not expression:
                raise ConditionError("A numerical value is expected to follow the negative sign.")
            if kind in ("minus", "arith"):
                kind = "op"
            self.tokens.append((kind, value, m.start(kind) + 1))
        self.pos = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def parse(self) -> Operand:
        if not self.tokens:
            raise ConditionError("Expected property 'condition' to contain at least one operand.")
        result = self.binary(0)
        tok = self.peek()
        if tok is not None:
            if tok[1] == ")":
                raise ConditionError("Missing opening parenthesis for ')'.")
            raise ConditionError(f"Missing operator before '{tok[1]}' at column {tok[2]}.")
        return result

    def binary(self, level: int) -> Operand:
        if level == len(self._LEVELS):
            return self.unary()
        if self._LEVELS[level] == (_CONCAT,):
            return self.concat(level)
        left = self.binary(level + 1)
        while (tok := self.peek()) is not None and tok[0] == "op" and tok[1] in self._LEVELS[level]:
            self.pos += 1
            if self.peek() is None:
                raise ConditionError("Missing operand after last operator.")
            right = self.binary(level + 1)
            left = self.combine(tok[1], left, right)
        return left

    def concat(self, level: int) -> Operand:
        """Members side by side (`'Hello ' ${form.name}`) are joined into one string."""
        first = self.binary(level + 1)
        members = [first]
        while (tok := self.peek()) is not None and (
            tok[0] in ("ref", "str", "num", "bool") or tok[1] in ("(", "!")
        ):
            members.append(self.binary(level + 1))
        if len(members) == 1:
            return first
        return Operand("string", all(m.literal for m in members))

    def combine(self, op: str, left: Operand, right: Operand) -> Operand:
        if op in _ARITH:
            found = {t for t in (left.type, right.type) if t is not None} - _NUMERIC
            if found:
                raise ConditionError(
                    f"Operator '{op}' works on numbers only, not {' or '.join(sorted(found))}; "
                    "join strings by writing them side by side, separated by spaces."
                )
            return Operand("number", left.literal and right.literal)
        if left.literal and right.literal:
            raise ConditionError("An operator cannot not have literals on both sides.")
        types = {t for t in (left.type, right.type) if t is not None}
        if op in ("==", "!="):
            if len(types) > 1:
                raise ConditionError(
                    f"Type mismatch in an equality operation: {left.type} {op} {right.type}."
                )
        elif op in ("&&", "||"):
            if types - {"boolean"}:
                raise ConditionError(f"Invalid operand format: '{op}' joins booleans.")
        elif types - {"number", "integer"}:
            raise ConditionError(f"Invalid operand format: '{op}' compares numbers.")
        return Operand("boolean", False)

    def unary(self) -> Operand:
        tok = self.peek()
        if tok is None:
            raise ConditionError("Missing operand after last operator.")
        if tok[1] == "!":
            self.pos += 1
            operand = self.unary()
            if operand.type not in (None, "boolean"):
                raise ConditionError("Invalid operand format: '!' negates a boolean.")
            return Operand("boolean", operand.literal)
        if tok[1] == "-" and self.expression:
            self.pos += 1
            operand = self.unary()
            if operand.type not in (None, "number"):
                raise ConditionError("A numerical value is expected to follow the negative sign.")
            return Operand("number", operand.literal)
        return self.primary()

    def primary(self) -> Operand:
        tok = self.peek()
        assert tok is not None
        kind, value, column = tok
        self.pos += 1
        if value == "(":
            if (nxt := self.peek()) is not None and nxt[1] == ")":
                raise ConditionError(f"Found invalid empty parentheses at column {column}.")
            inner = self.binary(0)
            close = self.peek()
            if close is None or close[1] != ")":
                raise ConditionError("Missing closing parenthesis.")
            self.pos += 1
            return inner
        if kind == "ref":
            return Operand(_type(reference_type(self.screen, value[2:-1])), False)
        if kind == "str":
            return Operand("string", True)
        if kind == "num":
            return Operand("number", True)
        if kind == "bool":
            return Operand("boolean", True)
        raise ConditionError(f"Wrong positioning of operator '{value}' at column {column}.")


def condition_problem(text: str, screen: Screen) -> str | None:
    """None when `text` is a valid If condition on `screen`, else the validator's message."""
    try:
        parser = _Parser(text, screen)
        result = parser.parse()
    except ConditionError as exc:
        return str(exc)
    if not any(kind == "ref" for kind, _, _ in parser.tokens):
        if len(parser.tokens) == 1:
            return "The only operand is a literal value. Expected single operand to be a boolean."
        return "A condition must contain at least one dynamic value."
    if result.type not in (None, "boolean"):
        return "Expected single operand to be a boolean."
    return None


def expression_problem(text: str, screen: Screen) -> tuple[str | None, str | None]:
    """(None, result type) when the backtick expression `text` is valid on `screen`, else
    (the message, None). The type is boolean, number, string or None (unknown)."""
    try:
        parser = _Parser(text[1:-1], screen, expression=True)
        result = parser.parse()
    except ConditionError as exc:
        return str(exc), None
    return None, result.type


def check(ctx: Context) -> None:
    for screen in ctx.screens:
        for comp in screen.components:
            if comp.type != "If" or not isinstance(comp.node.get("condition"), str):
                continue
            message = condition_problem(comp.node["condition"], screen)
            if message:
                ctx.error("INVALID_PROPERTY_VALUE", join(comp.pointer, "condition"), message)
