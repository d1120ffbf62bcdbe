"""The round page's disagreement section (`assessments/_disagreements.html`) reads its rows here,
so the round page's own view needs no change to show it."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def disagreements_of(context: Any, round_: Any) -> dict[str, Any]:
    from civicmark.assessments.views import disagreement_section

    request = context.get("request")
    if request is None or round_ is None:
        return {"shown": False}
    return disagreement_section(request.user, round_)
