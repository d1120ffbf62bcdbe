"""The scoring page's veto section (`assessments/_vetoes.html`) reads its rows here, so the score
page's own view needs no change to show it."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def vetoes_of(context: Any, round_: Any, community: Any) -> dict[str, Any]:
    from civicmark.assessments.views import veto_section

    request = context.get("request")
    if request is None or round_ is None or community is None:
        return {"shown": False}
    return veto_section(request, round_, community)
