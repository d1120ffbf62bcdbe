"""The API's writes (ADR 24): the self-assessment, scores, vetoes and evidence, each through the
same form and service as its page (`assessments.posting`, `assessments.services.scores_save` ->
`scoring.writer`), audited with via="api". All or nothing, as on the page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Form, Path, Router
from ninja.files import UploadedFile

from civicmark.api import scope
from civicmark.api.auth import reader, writer
from civicmark.api.errors import ApiError, ErrorOut, of_application
from civicmark.api.schemas import (
    CODE,
    EvidenceOut,
    ScoreOut,
    ScoresIn,
    SelfScoreOut,
    SelfScoresIn,
    VetoDoneOut,
    VetoIn,
    two,
)
from civicmark.assessments import panels, posting
from civicmark.assessments.forms import EvidenceForm, ScoreCardForm, SelfScoreForm, VetoForm
from civicmark.assessments.models import Evidence, SelfScore
from civicmark.assessments.services import ScoreErrors, scores_save
from civicmark.core.errors import ApplicationError
from civicmark.scoring.models import Score
from civicmark.scoring.validate import Invalid

router = Router()
NUMBER = {"ge": 1, "le": 32767}


def errors(*extra: int) -> dict[int, Any]:
    return {code: ErrorOut for code in (401, 403, 404, 422, 429, *extra)}


def _form_error(form: Any, index: int, names: dict[str, str]) -> ApiError:
    """The first refusal on a form as `scores.<index>.<field>`."""
    for name, found in form.errors.items():
        if found:
            field = names.get(name, name) if name != "__all__" else "item"
            return ApiError("invalid", str(found[0]), field=f"scores.{index}.{field}")
    return ApiError("invalid", _("Nothing was saved."), field=f"scores.{index}")


def _items_by_code(entries: list[Any], items: dict[str, Any]) -> list[Any]:
    """Each entry's item; an unknown code, or one given twice, refused beside it."""
    seen: set[str] = set()
    found = []
    for n, entry in enumerate(entries):
        item = items.get(entry.item)
        if item is None:
            raise ApiError(
                "invalid",
                _("%s is not an item of this standard.") % entry.item,
                field=f"scores.{n}.item",
            )
        if entry.item in seen:
            raise ApiError(
                "invalid", _("%s is given twice.") % entry.item, field=f"scores.{n}.item"
            )
        seen.add(entry.item)
        found.append(item)
    return found


# --- the self-assessment -----------------------------------------------------------------------


def _self_scores(enrollment: Any) -> list[dict[str, Any]]:
    return [
        {"item": s.item.code, "points": two(s.points), "explanation": s.explanation}
        for s in SelfScore.objects.filter(enrollment=enrollment)
        .select_related("item")
        .order_by("item__order")
    ]


@router.get(
    "/campaigns/{slug}/self-assessment/{code}",
    response={200: list[SelfScoreOut], **errors()},
    tags=["self-assessment"],
)
def self_assessment(
    request: HttpRequest, slug: str = Path(..., pattern=CODE), code: str = Path(..., pattern=CODE)
) -> Any:
    """The community's self-assessment as it stands."""
    user = reader(request)
    return _self_scores(scope.enrollment(user, scope.campaign(user, slug), code))


@router.put(
    "/campaigns/{slug}/self-assessment/{code}",
    response={200: list[SelfScoreOut], **errors()},
    tags=["self-assessment"],
)
def self_assessment_save(
    request: HttpRequest,
    body: SelfScoresIn,
    slug: str = Path(..., pattern=CODE),
    code: str = Path(..., pattern=CODE),
) -> Any:
    """The community's own staff score items of the self-assessment, all or none, until it is
    submitted (as the self-assessment page's cards)."""
    user = writer(request)
    campaign = scope.campaign(user, slug)
    enrollment = scope.enrollment(user, campaign, code)
    items = {i.code: i for i in campaign.standard.items.all()}
    stored = set(SelfScore.objects.filter(enrollment=enrollment).values_list("item_id", flat=True))
    forms: dict[int, SelfScoreForm] = {}
    for entry, item in zip(body.scores, _items_by_code(body.scores, items), strict=True):
        prefix = f"i{item.pk}"
        data = {f"{prefix}-points": entry.points, f"{prefix}-explanation": entry.explanation}
        forms[item.pk] = SelfScoreForm(data, item=item, stored=item.pk in stored)
    if not posting.self_cards_save(actor=user, enrollment=enrollment, forms=forms, via="api"):
        order = list(forms)
        for pk, form in forms.items():
            if form.errors:
                raise _form_error(form, order.index(pk), {})
    return _self_scores(enrollment)


# --- scores --------------------------------------------------------------------------------


def _scores(round_: Any, enrollment: Any, user: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": s.public_id,
            "item": s.item.code,
            "points": two(s.points),
            "occurrences": s.occurrences,
            "not_applicable": s.not_applicable,
            "reason": s.reason,
            "version": s.version,
        }
        for s in Score.objects.filter(round=round_, enrollment=enrollment, assessor_id=user.pk)
        .select_related("item")
        .order_by("item__order")
    ]


def _assessor(request: HttpRequest, user: Any, slug: str, number: int, code: str) -> Any:
    round_ = scope.round_of(user, slug, number)
    enrollment = scope.enrollment(user, round_.campaign, code)
    return round_, enrollment, posting.assessor_items(user, round_, enrollment)


@router.get(
    "/campaigns/{slug}/rounds/{number}/scores/{code}",
    response={200: list[ScoreOut], **errors()},
    tags=["scores"],
)
def scores(
    request: HttpRequest,
    slug: str = Path(..., pattern=CODE),
    number: int = Path(..., **NUMBER),
    code: str = Path(..., pattern=CODE),
) -> Any:
    """The assessor's own scores of the community in the round, with their versions (404 where
    he scores nothing, as his scoring page)."""
    user = reader(request)
    round_, enrollment, _items = _assessor(request, user, slug, number, code)
    return _scores(round_, enrollment, user)


CARD_FIELDS = {"na": "not_applicable"}


@router.put(
    "/campaigns/{slug}/rounds/{number}/scores/{code}",
    response={200: list[ScoreOut], **errors(409)},
    tags=["scores"],
)
def scores_put(
    request: HttpRequest,
    body: ScoresIn,
    slug: str = Path(..., pattern=CODE),
    number: int = Path(..., **NUMBER),
    code: str = Path(..., pattern=CODE),
) -> Any:
    """Score items of the assessor's departments, all or none: points (or a per-occurrence
    item's count) or not applicable, a reason for a deduction, and the version read (null for a
    first score). A stale version, an item scored already, or a round signed off is a conflict."""
    user = writer(request)
    round_, enrollment, mine = _assessor(request, user, slug, number, code)
    if panels.round_sealed_for(round_, enrollment.community):
        raise ApiError("conflict", _("The round is finalised: its scores are locked."))
    standard = {i.code: i for i in round_.campaign.standard.items.all()}
    own = {i.code: i for i in mine}
    stored = {
        s.item_id: s
        for s in Score.objects.filter(round=round_, enrollment=enrollment, assessor_id=user.pk)
    }
    entries = []
    for n, (entry, item) in enumerate(
        zip(body.scores, _items_by_code(body.scores, standard), strict=True)
    ):
        if item.code not in own:
            raise ApiError(
                "forbidden",
                _("You may not score %(item)s for %(community)s.")
                % {"item": item.code, "community": enrollment.community.name},
                field=f"scores.{n}.item",
            )
        item = own[item.code]
        form = ScoreCardForm(_card(item, entry), item=item, score=stored.get(item.pk))
        if form.is_blank():
            raise ApiError(
                "invalid",
                _("Give points, occurrences or not applicable for %s.") % item.code,
                field=f"scores.{n}",
            )
        found = form.entry()
        if found is None:
            raise _form_error(form, n, CARD_FIELDS)
        entries.append(found)
    try:
        scores_save(actor=user, round_=round_, enrollment=enrollment, entries=entries, via="api")
    except ScoreErrors as exc:
        order = [e.item.pk for e in entries]
        key, error = next(iter(exc.errors.items()))
        where = f"scores.{order.index(key)}" if key in order else None
        if isinstance(error, Invalid) and where:
            where = f"{where}.{CARD_FIELDS.get(error.field, error.field)}"
        raise of_application(error, field=where) from None
    return _scores(round_, enrollment, user)


def _card(item: Any, entry: Any) -> dict[str, str]:
    """The API's entry as the score card's fields (the page's form reads it)."""
    prefix = f"i{item.pk}"
    return {
        f"{prefix}-points": entry.points or "",
        f"{prefix}-occurrences": "" if entry.occurrences is None else str(entry.occurrences),
        f"{prefix}-na": "on" if entry.not_applicable else "",
        f"{prefix}-reason": entry.reason,
        f"{prefix}-version": "" if entry.version is None else str(entry.version),
    }


# --- vetoes --------------------------------------------------------------------------------


@router.post(
    "/campaigns/{slug}/rounds/{number}/vetoes/{code}",
    response={200: VetoDoneOut, **errors(409)},
    tags=["scores"],
)
def veto_post(
    request: HttpRequest,
    body: VetoIn,
    slug: str = Path(..., pattern=CODE),
    number: int = Path(..., **NUMBER),
    code: str = Path(..., pattern=CODE),
) -> Any:
    """Record a one-vote veto finding, lift a veto that stands, or withdraw one's own record of
    this round (the scoring page's veto section)."""
    user = writer(request)
    round_ = scope.round_of(user, slug, number)
    enrollment = scope.enrollment(user, round_.campaign, code)
    vetoes = list(round_.campaign.standard.vetoes.all())
    data = {
        "action": body.action,
        "veto": body.veto,
        "text": body.text,
        "finding": str(body.finding) if body.finding else "",
    }
    form = VetoForm(data, vetoes=vetoes)
    try:
        done, veto = posting.veto_post(
            actor=user, round_=round_, enrollment=enrollment, form=form, vetoes=vetoes, via="api"
        )
    except ApplicationError as exc:
        field = next((name for name, found in form.errors.items() if found), None)
        raise of_application(exc, field=field) from None
    return {"veto": veto.code, "action": done}


# --- evidence ------------------------------------------------------------------------------

ITEMS = Form(..., pattern=r"^[\w.\-]+(,[\w.\-]+)*$", max_length=4000)
SUPERSEDES = Form("", pattern=r"^([0-9a-fA-F-]{32,36})?$")


@router.post(
    "/campaigns/{slug}/evidence/{code}",
    response={200: EvidenceOut, **errors(409)},
    tags=["self-assessment"],
)
def evidence_post(
    request: HttpRequest,
    file: File[UploadedFile],
    items: str = ITEMS,
    supersedes: str = SUPERSEDES,
    slug: str = Path(..., pattern=CODE),
    code: str = Path(..., pattern=CODE),
) -> Any:
    """One document (PDF, image, office file) for items of the community's self-assessment,
    `items` their codes separated by commas; or a new version of a document (`supersedes`)."""
    user = writer(request)
    campaign = scope.campaign(user, slug)
    enrollment = scope.enrollment(user, campaign, code)
    all_items = list(campaign.standard.items.all())
    by_code = {i.code: i for i in all_items}
    chosen = []
    for name in items.split(","):
        if name not in by_code:
            raise ApiError(
                "invalid", _("%s is not an item of this standard.") % name, field="items"
            )
        chosen.append(by_code[name].pk)
    documents = Evidence.objects.filter(enrollment=enrollment, superseded_by__isnull=True)
    form = EvidenceForm(
        {"items": chosen, "supersedes": supersedes},
        {"file": file},
        items=all_items,
        documents=documents,
    )
    stored = posting.evidence_post(
        actor=user, enrollment=enrollment, items=all_items, form=form, via="api"
    )
    if stored is None:
        field = next((name for name, found in form.errors.items() if found), None)
        refused = getattr(form, "refused_with", None)
        if refused is not None:
            raise of_application(refused, field=field)
        message = next((str(found[0]) for found in form.errors.values() if found), "")
        raise ApiError("invalid", message or _("Nothing was attached."), field=field)
    return {
        "id": stored.public_id,
        "name": stored.name,
        "sha256": stored.sha256,
        "items": sorted(i.code for i in stored.items.all()),
        "supersedes": stored.supersedes.public_id if stored.supersedes_id else None,
    }
