"""Whether the campaign's reports to the city are the person's (ADR 25): the campaign's tabs,
a template of a lower app, ask it by this tag rather than import results."""

from __future__ import annotations

from typing import Any

from django import template

from civicmark.results import upward

register = template.Library()


@register.simple_tag(takes_context=True)
def sees_upward_reports(context: Any, campaign: Any) -> bool:
    request = context.get("request")
    return request is not None and upward.sees_reports(request.user, campaign)
