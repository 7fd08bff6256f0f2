"""Text search over leads: field values, contact name and wa_id, case-insensitively.

Field values are searched, not the stored JSON text: on SQLite that text escapes non-ASCII
(`"Jos\\u00e9"`), and keys would match every lead ("name"). Each database walks the values
with its own JSON table function, so the condition is one SQL construct compiled per
dialect. SQLite's LIKE folds ASCII letters only; PostgreSQL's ILIKE folds every letter
(docs/dashboard.md). A search is a scan of the rows the other filters leave.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement, String, bindparam, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.visitors import InternalTraversal

from app.models import Submission

ESCAPE = "\\"


def like_pattern(text: str) -> str:
    """`%text%` with LIKE's wildcards in `text` taken literally."""
    escaped = text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")
    return f"%{escaped}%"


class FieldValueLike(ColumnElement[bool]):
    """True when some top-level value of `submissions.fields` matches a LIKE pattern."""

    type = Boolean()
    inherit_cache = True
    _traverse_internals = [("pattern", InternalTraversal.dp_clauseelement)]

    def __init__(self, pattern: str) -> None:
        self.pattern: BindParameter[str] = bindparam(None, pattern, String())


@compiles(FieldValueLike, "sqlite")
def _sqlite(element: FieldValueLike, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(Submission.__table__.c.fields, **kw)
    pattern = compiler.process(element.pattern, **kw)
    # A row SQLite cannot read as JSON (e.g. NaN) is searched as an empty object, not an error.
    values = f"CASE WHEN json_valid({column}) THEN {column} ELSE '{{}}' END"
    where = f"fv.value LIKE {pattern} ESCAPE '{ESCAPE}'"  # a bind placeholder, no user text
    return f"EXISTS (SELECT 1 FROM json_each({values}) AS fv WHERE {where})"  # noqa: S608


@compiles(FieldValueLike)
def _postgresql(element: FieldValueLike, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(Submission.__table__.c.fields, **kw)
    pattern = compiler.process(element.pattern, **kw)
    values = f"CASE WHEN jsonb_typeof({column}) = 'object' THEN {column} ELSE '{{}}'::jsonb END"
    where = f"fv.value ILIKE {pattern} ESCAPE '{ESCAPE}'"  # a bind placeholder, no user text
    return f"EXISTS (SELECT 1 FROM jsonb_each_text({values}) AS fv WHERE {where})"  # noqa: S608


def text_condition(text: str) -> ColumnElement[bool]:
    """Leads whose field values, contact name or wa_id contain `text`."""
    pattern = like_pattern(text.strip())
    return or_(
        FieldValueLike(pattern),
        Submission.contact_name.ilike(pattern, escape=ESCAPE),
        Submission.wa_id.like(pattern, escape=ESCAPE),
    )
