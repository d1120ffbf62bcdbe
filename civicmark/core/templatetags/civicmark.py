from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import template
from django.forms import BoundField

register = template.Library()


@register.filter
def styled(field: BoundField) -> Any:
    """Render a form field with the CSS framework's class for its kind of widget."""
    kind = getattr(field.field.widget, "input_type", "")
    css = {"checkbox": "form-check-input", "select": "form-select"}.get(kind, "form-control")
    if field.field.widget.__class__.__name__ in ("Select", "SelectMultiple"):
        css = "form-select"
    if field.errors:
        css += " is-invalid"  # the box itself is marked, not only the message below it
    return field.as_widget(attrs={"class": css})


@register.filter
def lookup(mapping: dict, key: str) -> Any:
    return mapping.get(key, key)


@register.filter
def points(value: Any) -> str:
    """A computed value as every page, sheet and PDF shows it (ADR 17): half up to 0.01, two
    decimals (1.75 stays 1.75, 1.245 shows 1.25, where Python's format would give 1.24);
    nothing for no value. Exports and the PDF call it too."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return str(number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
