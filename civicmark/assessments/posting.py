"""What a posted form becomes, for the pages and the JSON API alike (ADR 24): which items an
assessor may score here, the self-assessment's points, a veto's record, lift or withdrawal, a
document. Each reads a bound form of `assessments.forms` and calls the one service; the page and
the API differ only in how they answer."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.assessments import panels
from civicmark.assessments.access import ACCESS, score_refusal
from civicmark.assessments.forms import EvidenceForm, SelfScoreForm, VetoForm
from civicmark.assessments.models import Evidence
from civicmark.assessments.services import (
    SelfEntry,
    SelfScoreErrors,
    evidence_attach,
    self_scores_save,
)
from civicmark.core.errors import ApplicationError
from civicmark.scoring.findings import veto_record, veto_withdraw
from civicmark.scoring.models import VetoFinding
from civicmark.standards import published


def assessor_items(user: Any, round_: Any, enrollment: Any) -> list[Any]:
    """This assessor's items to score for the community in the round (404 when he may score
    none of them, nor record a veto of his department)."""
    campaign = round_.campaign
    departments = authz.assessor_departments(user)
    # Kept in the process: a published version's items never change (issue 19: the save).
    items = published.items_scored_by(campaign.standard, departments)
    wanted = panels.items_to_score(round_, enrollment)
    items = [i for i in items if wanted is None or i.pk in wanted]
    if any(score_refusal(user, round_, enrollment, i) for i in items):
        raise Http404
    if not items and not any(
        score_refusal(user, round_, enrollment, veto=v) is None
        for v in campaign.standard.vetoes.filter(department_id__in=departments)
    ):
        # Nothing of his to re-score here, and no veto of his department to record or lift.
        raise Http404
    return items


def self_cards_save(
    *, actor: Any, enrollment: Any, forms: dict[int, SelfScoreForm], via: str = "web"
) -> bool:
    """The points of the posted self-assessment cards, all or none. False when something was
    refused: the error then sits on its card's field."""
    if not all([form.is_valid() for form in forms.values()]):
        return False
    entries = [
        SelfEntry(f.item, f.cleaned_data["points"], f.cleaned_data["explanation"])
        for f in forms.values()
        if f.cleaned_data["points"] is not None
    ]
    try:
        if entries:
            self_scores_save(actor=actor, enrollment=enrollment, entries=entries, via=via)
    except SelfScoreErrors as exc:
        for pk, message in exc.errors.items():
            forms[pk].add_error("points", message)
        return False
    return True


def evidence_post(
    *, actor: Any, enrollment: Any, items: list[Any], form: EvidenceForm, via: str = "web"
) -> Any:
    """One document for the items chosen, or a new version: the stored document, or None when
    refused (the reason is then on the form, beside its field)."""
    if not form.is_valid():
        return None
    chosen = set(form.cleaned_data["items"])
    replaced = form.cleaned_data["supersedes"]
    try:
        return evidence_attach(
            actor=actor,
            enrollment=enrollment,
            items=[i for i in items if i.pk in chosen],
            upload=form.cleaned_data["file"],
            supersedes=(
                Evidence.objects.filter(enrollment=enrollment, public_id=replaced).first()
                if replaced
                else None
            ),
            via=via,
        )
    except ApplicationError as exc:
        form.refuse(exc)
        form.refused_with = exc  # type: ignore[attr-defined]  # the API answers by its kind
        return None


def veto_post(
    *, actor: Any, round_: Any, enrollment: Any, form: VetoForm, vetoes: list[Any], via: str
) -> tuple[str, Any]:
    """Record a finding, lift a standing veto, or withdraw one's own record of this round:
    (what was done, the veto). An ApplicationError says why not."""
    if not form.is_valid():
        raise ApplicationError(form.first_error())
    data = form.cleaned_data
    veto = next(v for v in vetoes if v.code == data["veto"])
    if data["action"] == "withdraw":
        finding = (
            VetoFinding.objects.select_related("round__campaign", "enrollment__community")
            .filter(
                public_id=data["finding"],
                round=round_,
                enrollment=enrollment,
                veto=veto,
                assessor_id=actor.pk,
            )
            .first()
            if data["finding"] is not None
            else None
        )
        if finding is None:
            raise ApplicationError(_("That finding was already withdrawn."))
        finding.round = round_  # the round as this request loaded it (with its choices)
        veto_withdraw(actor=actor, finding=finding, access=ACCESS, via=via)
        return "withdraw", veto
    veto_record(
        actor=actor,
        round_=round_,
        enrollment=enrollment,
        veto=veto,
        reason=data["text"],
        lifts=data["action"] == "lift",
        access=ACCESS,
        via=via,
    )
    return data["action"], veto
