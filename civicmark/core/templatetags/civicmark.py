from __future__ import annotations

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
    return field.as_widget(attrs={"class": css})


@register.filter
def lookup(mapping: dict, key: str) -> Any:
    return mapping.get(key, key)
