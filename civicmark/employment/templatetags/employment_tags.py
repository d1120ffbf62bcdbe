"""The scoring page's employment-figure card (`employment/_figures.html`): the ledger's figures
beside a Labour assessor's items. The card is the employment app's, so the scoring page (of
assessments, which imports nothing of employment) only loads this tag."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.utils import timezone

register = template.Library()


@register.inclusion_tag("employment/_figures.html", takes_context=True)
def employment_figures(context: Any) -> dict[str, Any]:
    """Beside a Labour assessor's items: the station's figures for the period, live until he
    signs them, then as signed."""
    from civicmark.employment.models import IndicatorSnapshot
    from civicmark.employment.services import figures_for, indicator_period

    shown = {k: context.get(k) for k in ("campaign", "round", "community", "locked")}
    request, round_, enrollment = (
        context.get("request"),
        context.get("round"),
        context.get("enrollment"),
    )
    items = [row["item"] for row in context.get("rows", ())]
    if (
        request is None
        or enrollment is None
        or not any(i.department.code in settings.CIVICMARK_LABOUR_DEPARTMENTS for i in items)
    ):
        return {**shown, "employment": None}
    signed = IndicatorSnapshot.objects.filter(
        round=round_, enrollment=enrollment, signed_by_id=request.user.pk
    ).first()
    if signed is not None:
        employment = {
            "figures": signed.figures,
            "signed": signed,
            "start": signed.period_start,
            "end": signed.period_end,
        }
    else:
        start, end = indicator_period(round_, timezone.localdate())
        employment = {
            "figures": figures_for(enrollment.community, start, end),
            "signed": None,
            "start": start,
            "end": end,
        }
    return {**shown, "employment": employment}
