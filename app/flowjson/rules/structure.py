"""Where components may sit: Forms by version, unique input names, If/Switch branches (§3.1)."""

from __future__ import annotations

from app.flowjson import spec
from app.flowjson.context import Component, Context, Screen
from app.flowjson.findings import join
from app.flowjson.values import refs

MAX_IF_DEPTH = 3


def check(ctx: Context) -> None:
    for screen in ctx.screens:
        _forms(ctx, screen)
        _names(ctx, screen)
        for comp in screen.components:
            if comp.parent_type in ("If", "Switch"):
                _branch_child(ctx, comp)
            if comp.type == "If":
                _if(ctx, comp)
            elif comp.type == "Switch":
                _switch(ctx, comp)


def _forms(ctx: Context, screen: Screen) -> None:
    forms = [c for c in screen.components if c.type == "Form"]
    for form in forms:
        if form.form is not None:
            ctx.error("INVALID_PROPERTY_VALUE", form.pointer, "A Form cannot contain another Form.")
        if isinstance(form.node.get("children"), list) and not form.node["children"]:
            ctx.error(
                "MIN_ITEMS_REQUIRED",
                join(form.pointer, "children"),
                "A Form needs at least one component.",
            )
        _form_values(ctx, screen, form)
    for comp in screen.components:
        if comp.form is not None or comp.type not in spec.INPUTS:
            continue
        if not ctx.since((4, 0)) and comp.type in spec.LEGACY_INPUTS:
            ctx.error(
                "KEYWORD_ONE_OF",
                comp.pointer,
                f"Property '{comp.type}' must be defined inside parent property 'Form' before "
                "Flow JSON 4.0.",
            )
        elif forms and ctx.since((4, 0)):
            ctx.error(
                "COMPONENTS_OUTSIDE_FORM",
                comp.pointer,
                f"{comp.type} '{comp.name}' sits outside the screen's Form; move it into the Form.",
            )


def _form_values(ctx: Context, screen: Screen, form: Component) -> None:
    members = {
        c.name: c for c in screen.components if c.form is form and c.name and c.type in spec.INPUTS
    }
    for key in ("init-values", "error-messages"):
        values = form.node.get(key)
        if not isinstance(values, dict):
            continue
        for name in values:
            pointer = join(form.pointer, key, name)
            member = members.get(name)
            if member is None:
                ctx.warn(
                    "INVALID_PROPERTY_VALUE",
                    pointer,
                    f"'{key}' names '{name}', which is no input of this Form.",
                )
            elif key == "init-values" and member.type in spec.MEDIA_PICKERS:
                ctx.error(
                    "NATIVE_COMPONENT_IN_FORM_INIT_VALUES",
                    pointer,
                    f"{member.type} '{name}' cannot be set through Form init-values.",
                )


def _names(ctx: Context, screen: Screen) -> None:
    seen: dict[tuple[int, str], Component] = {}
    for comp in screen.components:
        if comp.type not in spec.INPUTS or comp.name is None:
            continue
        key = (id(comp.form), comp.name)
        if key in seen:
            ctx.error(
                "DUPLICATE_FORM_COMPONENT_NAMES",
                join(comp.pointer, "name"),
                f"Input name '{comp.name}' is already used on this screen; names must be unique.",
            )
        else:
            seen[key] = comp


def _branch_child(ctx: Context, comp: Component) -> None:
    allowed = set(spec.BRANCH_CHILDREN)
    if ctx.since((7, 1)):
        allowed.add("ChipsSelector")
    if comp.parent_type == "Switch":
        allowed -= {"If", "Switch"}
    if comp.type is not None and comp.type in spec.SPECS and comp.type not in allowed:
        ctx.error(
            "INVALID_PROPERTY_VALUE",
            join(comp.pointer, "type"),
            f"{comp.type} is not allowed inside {comp.parent_type}.",
        )


def _if(ctx: Context, comp: Component) -> None:
    if comp.if_depth + 1 > MAX_IF_DEPTH:
        ctx.error(
            "MAX_IF_NESTING",
            comp.pointer,
            f"If components can be nested at most {MAX_IF_DEPTH} levels deep.",
        )
    then = comp.node.get("then")
    if isinstance(then, list) and not then:
        ctx.error(
            "MIN_ITEMS_REQUIRED",
            join(comp.pointer, "then"),
            "Expected array to contain at least one component.",
        )


def _switch(ctx: Context, comp: Component) -> None:
    cases = comp.node.get("cases")
    if isinstance(cases, dict) and not cases:
        ctx.error(
            "INVALID_PROPERTY_VALUE",
            join(comp.pointer, "cases"),
            "Invalid empty property found at cases; add at least one case.",
        )
    elif isinstance(cases, dict):
        for key, case in cases.items():
            if not isinstance(case, list):
                ctx.error(
                    "INVALID_PROPERTY_TYPE",
                    join(comp.pointer, "cases", key),
                    "Each Switch case must be an array of components.",
                )
    value = comp.node.get("value")
    if isinstance(value, str) and not refs(value):
        ctx.error(
            "INVALID_PROPERTY_VALUE",
            join(comp.pointer, "value"),
            "Switch 'value' must be a dynamic reference such as '${form.choice}'.",
        )
