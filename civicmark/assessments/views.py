"""The assessor's scoring pages: his department's items, community by community."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from civicmark.accounts import authz
from civicmark.accounts.roles import Role
from civicmark.assessments import posting, score_cards
from civicmark.assessments.coverage import CoverageRemoves
from civicmark.assessments.forms import (
    CardForm,
    CommendationForm,
    EvidenceForm,
    RectificationFileForm,
    RectificationForm,
    ReviewForm,
    RoundSettingsForm,
    ScoreCardForm,
    SelfScoreForm,
    SettleForm,
    SignOffForm,
    StepForm,
    VetoForm,
)
from civicmark.assessments.models import SelfScore
from civicmark.assessments.services import SELF_ASSESSABLE
from civicmark.campaigns import parts
from civicmark.campaigns.models import CombineRule
from civicmark.campaigns.selectors import campaigns_for_user, rounds_with_campaign
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.core.http import posted_uuid
from civicmark.core.names import content_disposition
from civicmark.core.parsing import (
    ParseError,
    parse_date,
    parse_decimal,
    parse_ids,
)
from civicmark.core.uploads import posted_file
from civicmark.divisions.models import Division, Level
from civicmark.notifications import escalation
from civicmark.scoring.models import Score, SettlementSource
from civicmark.scoring.validate import occurrence_points


def _round_or_404(request: HttpRequest, slug: str, number: int) -> Any:
    from civicmark.assessments import panels

    # The scope asked of the round found (the rule of `rounds_for_user`, in Python): a round
    # page, the score save first of all, does not build the scope's Q objects (issue 19).
    round_ = authz.get_seen_or_404(
        panels.with_choices(rounds_with_campaign()),
        request.user,
        lambda r: r.campaign.division.path,
        or_above=True,
        campaign__slug=slug,
        number=number,
    )
    return round_.campaign, round_


SCORE_HOME_PAGE = 50


def _found(enrollments: Any, query: str) -> Any:
    """Enrollments whose community's name, code or town matches what was typed in the search."""
    if not query:
        return enrollments
    return enrollments.filter(
        Q(community__name__icontains=query)
        | Q(community__code__startswith=query)
        | Q(community__parent__name__icontains=query)
    )


@login_required
def score_home(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """The communities this assessor may score in this round, with his progress on each: a page
    of them at a time (a province's assessor may cover thousands), found by name or code."""
    campaign, round_ = _round_or_404(request, slug, number)
    departments = authz.assessor_departments(request.user)
    if not departments:
        raise Http404
    items = (
        campaign.standard.items.filter(
            Q(department_id__in=departments) | Q(other_departments__in=departments)
        )
        .distinct()
        .count()
    )  # an item several departments score counts for an assessor of any of them
    from civicmark.assessments import panels

    on_panel = panels.on_panel(request.user, round_)
    covered = (
        panels.covered(round_)
        .select_related("community", "community__parent")
        .order_by("community__path")
    )
    if not authz.sees_all_under(request.user, campaign.division.path):
        # An assessor of the whole campaign needs no scope filter: left out, the pager's count
        # does not join the tree (issue 19: 66 of 104 ms at 110,000 communities).
        covered = covered.filter(authz.within_scope(request.user, "community__path"))
    query = request.GET.get("q", "").strip()
    covered = _found(covered, query)
    page = Paginator(covered if on_panel else covered.none(), SCORE_HOME_PAGE).get_page(
        request.GET.get("page")
    )
    shown = list(page)
    done = dict(
        Score.objects.filter(
            round=round_, assessor_id=request.user.pk, enrollment__in=[e.pk for e in shown]
        )
        .values_list("enrollment")
        .annotate(n=Count("id"))
    )
    rows = [
        {
            "enrollment": e,
            "done": done.get(e.pk, 0),
            "to_score": (
                items
                if (wanted := panels.items_to_score(round_, e)) is None
                else campaign.standard.items.filter(
                    pk__in=wanted, department_id__in=departments
                ).count()
            ),
            "conflict": authz.conflicted_over(request.user, e.community),
        }
        for e in shown
    ]
    from civicmark.divisions.models import Department

    my_departments = Department.objects.filter(pk__in=departments)
    return render(
        request,
        "assessments/score_home.html",
        {
            "campaign": campaign,
            "round": round_,
            "rows": rows,
            "page": page,
            "q": query,
            "items": items,
            "departments": my_departments,
            "on_panel": on_panel,
        },
    )


def _evidence_by_item(enrollment: Any) -> dict[int, list[Any]]:
    """The community's documents, listed under every item each one proves, each with the
    version it replaces and the one that replaced it (two queries)."""
    from civicmark.assessments.models import Evidence

    files: dict[int, list[Any]] = {}
    for evidence in (
        Evidence.objects.filter(enrollment=enrollment)
        .select_related("supersedes", "superseded_by")
        .prefetch_related("items")
    ):
        for item in evidence.items.all():
            files.setdefault(item.pk, []).append(evidence)
    return files


def _parse(raw: str) -> Decimal | None:
    """Points as typed: a finite number of at most one decimal place (never NaN or 1E+30)."""
    try:
        return parse_decimal(raw, places=1, max_digits=6, min_value=None, exact=True)
    except ParseError as exc:
        raise ApplicationError(exc.message) from None


def _enrollment_or_404(request: HttpRequest, campaign: Any, code: str) -> Any:
    """The campaign's enrollment of the community with this code, if the person may see it."""
    return authz.get_seen_or_404(
        campaign.enrollments.select_related("community"),
        request.user,
        lambda e: e.community.path,
        community__code=code,
    )


def _score_items(request: HttpRequest, slug: str, number: int, code: str) -> Any:
    """The round, the community's enrollment and this assessor's items to score there (404
    when he may score none of them, nor record a veto of his department)."""
    campaign, round_ = _round_or_404(request, slug, number)
    enrollment = _enrollment_or_404(request, campaign, code)
    items = posting.assessor_items(request.user, round_, enrollment)
    return campaign, round_, enrollment, items


def _mine(request: HttpRequest, round_: Any, enrollment: Any) -> dict[int, Score]:
    return {
        s.item_id: s
        for s in Score.objects.filter(
            round=round_, enrollment=enrollment, assessor_id=request.user.pk
        )
    }


@login_required
def score_community(request: HttpRequest, slug: str, number: int, code: str) -> HttpResponse:
    """Score this assessor's items for one community, a card per item: the page saves every
    card in one click (all or none, each refusal beside its field, every typed value kept), and
    each card saves alone as it is answered (`score_item`)."""
    campaign, round_, enrollment, items = _score_items(request, slug, number, code)
    if request.method == "POST":
        # Cards built only for the items posted; the rest of the page only to show a refusal.
        posted = score_cards.posted_cards(items, request.POST)
        saved = score_cards.cards_save(
            actor=request.user, round_=round_, enrollment=enrollment, forms=list(posted.values())
        )
        if not saved.refusal:
            if saved.typed and saved.held is not None:
                # What he holds now, as the writer read it under its lock: no read of his
                # scores before or after the save (issue 19: the save's profile).
                messages.success(
                    request,
                    _("Scores saved for %(community)s: %(done)d of %(total)d items scored.")
                    % {
                        "community": enrollment.community.name,
                        **score_cards.progress(items, saved.held),
                    },
                )
            else:  # an empty box is never a zero, and never "saved"
                messages.info(request, _("Nothing was saved: no points were typed."))
            return redirect("score_community", slug=campaign.slug, number=round_.number, code=code)
        messages.error(request, saved.refusal)
        mine = _mine(request, round_, enrollment)
        forms = [
            posted[i.pk].form
            if i.pk in posted
            else ScoreCardForm(request.POST, item=i, score=mine.get(i.pk))
            for i in items
        ]
    else:
        mine = _mine(request, round_, enrollment)
        forms = score_cards.cards(items, mine)
    own = {s.item_id: s for s in SelfScore.objects.filter(enrollment=enrollment)}
    from civicmark.assessments import panels
    from civicmark.assessments.models import Rectification

    files = _evidence_by_item(enrollment)
    from civicmark.assessments.evidence import mark_judged

    mark_judged(round_, enrollment.community, {f for found in files.values() for f in found})
    fixes = {
        r.item_id: r
        for r in Rectification.objects.filter(
            enrollment=enrollment, round__number__lt=round_.number
        ).prefetch_related("evidence")
    }
    rows = [
        {
            "item": form.item,
            "form": form,
            "score": mine.get(form.item.pk),
            "self": own.get(form.item.pk),
            "error": form.first_error() if form.is_bound else "",
            "fix": fixes.get(form.item.pk),
            "files": files.get(form.item.pk, []),
            "computed": _computed(form.item, mine.get(form.item.pk)),
            "state": _card_state(form),
        }
        for form in forms
    ]
    return render(
        request,
        "assessments/score_community.html",
        {
            "campaign": campaign,
            "round": round_,
            "community": enrollment.community,
            "rows": rows,
            "progress": score_cards.progress(items, mine),
            "locked": panels.round_sealed_for(round_, enrollment.community),
            "enrollment": enrollment,
        },
    )


def _card_state(form: ScoreCardForm) -> str:
    """A card after a refused page: its refusal, or what was typed and not saved (the page saves
    all or none); before any post, what is stored."""
    if not form.is_bound:
        return ""
    if form.errors:
        return "error"
    return "" if form.is_blank() else "dirty"


@login_required
def score_item(request: HttpRequest, slug: str, number: int, code: str, item: str) -> HttpResponse:
    """One card saved as it is answered (htmx): the answer goes through the same form and the
    same writer as the page; the reply is the card's state (saved, not scored, or the refusal
    beside its field), its new version and the page's progress. Nothing typed is replaced."""
    if request.method != "POST":
        raise Http404
    campaign, round_, enrollment, items = _score_items(request, slug, number, code)
    chosen = next((i for i in items if i.code == item), None)
    if chosen is None:
        raise Http404
    mine = _mine(request, round_, enrollment)
    form = ScoreCardForm(request.POST, item=chosen, score=mine.get(chosen.pk))
    saved = score_cards.cards_save(
        actor=request.user, round_=round_, enrollment=enrollment, forms=[form]
    )
    if not saved.refusal:
        mine = _mine(request, round_, enrollment)
    score = mine.get(chosen.pk)
    state = "error" if saved.refusal else ("saved" if saved.typed else "blank")
    return render(
        request,
        "assessments/_score_state.html",
        {
            "r": {
                "item": chosen,
                "form": form,
                "score": score,
                "computed": _computed(chosen, score),
            },
            "state": state,
            "oob": True,
            "progress": score_cards.progress(items, mine),
        },
    )


def _computed(item: Any, score: Any) -> Decimal | None:
    """A per-occurrence item's points as the stored count gives them (shown beside the count)."""
    if item.kind != "per_occurrence" or score is None or score.occurrences is None:
        return None
    return occurrence_points(item, score.occurrences)


@login_required
def communities(request: HttpRequest, slug: str) -> HttpResponse:
    """The campaign's communities and where each stands; steps apply to many at once."""
    from civicmark.assessments.workflow import (
        State,
        TransitionRefused,
        role_refusal,
        targets_from,
        transition_apply,
    )

    campaign = authz.get_visible_or_404(campaigns_for_user(request.user), request.user, slug=slug)
    scope = (
        campaign.enrollments.select_related("community", "community__parent")
        .filter(authz.within_scope(request.user, "community__path"))
        .order_by("community__path")
    )
    # A province holds 10,000 communities: the page filters by state and by name, code or town,
    # shows them a page at a time, and a step applies to the ticked ones or to every one the
    # filter finds (the form posts to this same address, filter included).
    state = request.GET.get("state", "")
    state = state if state in State.values else ""
    query = request.GET.get("q", "").strip()
    found = _found(scope.filter(status=state) if state else scope, query)
    here = reverse("communities", args=[campaign.slug]) + (
        f"?{request.GET.urlencode()}" if request.GET else ""
    )
    refusals: list[Any] = []
    step: StepForm | None = None
    sign_off: SignOffForm | None = None
    if request.method == "POST":
        if request.POST.get("action") == "move":
            step = StepForm(request.POST, states=State.choices)
            if step.is_valid():
                try:
                    chosen = list(
                        found
                        if step.cleaned_data["every"]
                        else found.filter(pk__in=step.cleaned_data["enrollment"])
                    )
                    if not chosen:
                        raise ApplicationError(_("Tick the communities to move."))
                    to = step.cleaned_data["to"]
                    moved = transition_apply(
                        actor=request.user,
                        campaign=campaign,
                        enrollments=chosen,
                        to=to,
                        comment=step.cleaned_data["comment"],
                    )
                    messages.success(request, _("%d communities moved.") % moved)
                    _warn_missing_evidence(request, campaign, chosen, to)
                    return redirect(here)
                except TransitionRefused as refused:
                    refusals = refused.refusals
                    step.add_error(
                        None,
                        _("Nothing changed: %d communities cannot take that step.") % len(refusals),
                    )
                except ApplicationError as exc:
                    step.refuse(exc, "enrollment")
        else:
            sign_off = SignOffForm(request.POST)
            if sign_off.is_valid():
                try:
                    round_ = authz.get_visible_or_404(
                        campaign.rounds.all(),
                        request.user,
                        number=sign_off.cleaned_data["round"] or 0,
                    )
                    _sign_off(request.user, round_, sign_off)
                    messages.success(request, _("Saved."))
                    return redirect(here)
                except ApplicationError as exc:
                    sign_off.refuse(exc)
        for form in (step, sign_off):
            if form is not None and form.errors:
                messages.error(request, _form_summary(form))
    page = Paginator(found, COMMUNITIES_PAGE).get_page(request.GET.get("page"))
    per_state = dict(scope.order_by().values_list("status").annotate(n=Count("id")))
    present = set(found.order_by().values_list("status", flat=True).distinct())
    targets = sorted({t for st in present for t in targets_from(st)}, key=list(State.values).index)
    # The menu offers only the steps the person's role can take here; the others are named with
    # the reason (the workflow's own rule, not a copy of it).
    paths = [e.community.path for e in page]
    why = {t: role_refusal(request.user, t, paths) for t in targets}
    return render(
        request,
        "assessments/communities.html",
        {
            "campaign": campaign,
            "rows": [{"e": e, "label": State(e.status).label} for e in page],
            "page": page,
            "q": query,
            "state": state,
            "pager_query": urlencode({"state": state}) if state else "",
            "states": [
                (value, label, per_state[value])
                for value, label in State.choices
                if per_state.get(value)
            ],
            "targets": [(t, State(t).label) for t in targets if why[t] is None],
            "not_yours": [(State(t).label, why[t]) for t in targets if why[t] is not None],
            # The first refusals, and how many more: a step tried on thousands may be refused
            # thousands of times, which no one reads on a page.
            "refusals": refusals[:REFUSALS_SHOWN],
            "refusals_more": max(0, len(refusals) - REFUSALS_SHOWN),
            "rounds": [
                {**_round_row(request.user, r), "kept": _kept_sign_off(sign_off, r.number)}
                for r in campaign.rounds.all()
            ],
            "step": step,
            "ticked": set(request.POST.getlist("enrollment")) if step is not None else set(),
            "sign_off": sign_off,
            # Reported with the county's statement on the page of reports (ADR 25).
            "pre_accepted": per_state.get(State.COUNTY_PRE_ACCEPTED, 0),
        },
        status=422 if request.method == "POST" else 200,
    )


def _county_posted(round_: Any, code: str) -> Any:
    """The county whose part of a split round the form names (None: the whole round)."""
    code = code.strip()
    if not code:
        return None
    county = parts.county_of(round_, code)
    if county is None:
        raise ApplicationError(_("%s is not a county of this round.") % code)
    return county


def _form_summary(form: Any) -> str:
    """The line at the top of a refused form's page: nothing saved, and the first reason."""
    for name, errors in form.errors.items():
        if errors:
            field = form.fields.get(name)
            label = f"{field.label}: " if field is not None and field.label else ""
            return _("Nothing was saved: %s") % f"{label}{errors[0]}"
    return _("Nothing was saved.")


def _kept_sign_off(form: SignOffForm | None, number: int | None, county: Any = None) -> Any:
    """The reason typed in the refused sign-off form of this round (or county part), and the
    refusal to show beside it; None for every other round's form."""
    if form is None or not form.errors:
        return None
    data = form.data
    if number is not None and data.get("round", "").strip() != str(number):
        return None
    code = county.code if county is not None else ""
    if data.get("county", "").strip() != code:
        return None
    errors = " ".join(str(e) for found in form.errors.values() for e in found)
    return {"reason": data.get("reason", ""), "error": errors}


def _round_row(user: Any, round_: Any) -> dict[str, Any]:
    """A round in the campaign's list: whether the person may finalise or reopen it, or (a
    county officer in a split round) his county's part of it."""
    if authz.can_lead_round(user, round_):
        return {"round": round_, "can_lead": True, "sealed": round_.finalised_at is not None}
    county = parts.led_county(user, round_)
    return {
        "round": round_,
        "can_lead": county is not None,
        "county": county,
        "sealed": county is not None and parts.part_sealed(round_, county.path),
    }


@login_required
def rectifications(request: HttpRequest, slug: str) -> HttpResponse:
    """What the finalised rounds found wanting, community by community, and what was done."""
    from civicmark.assessments.selectors import rectifications_for_user

    campaign = authz.get_visible_or_404(campaigns_for_user(request.user), request.user, slug=slug)
    visible = rectifications_for_user(request.user, campaign)
    if request.method == "POST":
        return _rectification_posted(request, campaign, visible)
    return _rectification_page(request, campaign, visible, request.GET)


def _rectification_posted(request: HttpRequest, campaign: Any, visible: Any) -> HttpResponse:
    """A card's status and note, or a document of the fix; a refusal shows the card again with
    what was typed and the reason beside the field (422)."""
    from civicmark.assessments.services import rectification_attach, rectification_update

    attach = request.POST.get("action") == "attach"
    form: RectificationForm | RectificationFileForm = (
        RectificationFileForm(request.POST, request.FILES)
        if attach
        else RectificationForm(request.POST)
    )
    # The card is found first: a finding the person may not see is no card of his (404).
    target = authz.get_visible_or_404(
        visible, request.user, public_id=posted_uuid(request.POST.get("id"))
    )
    if form.is_valid():
        try:
            if isinstance(form, RectificationFileForm):
                rectification_attach(
                    actor=request.user, rectification=target, upload=form.cleaned_data["file"]
                )
            else:
                rectification_update(
                    actor=request.user,
                    rectification=target,
                    status=form.cleaned_data["status"],
                    note=form.cleaned_data["note"],
                )
            messages.success(request, _("Saved."))
            return redirect(
                reverse("rectifications", args=[campaign.slug]) + _town_query(request.POST)
            )
        except ApplicationError as exc:
            form.refuse(exc)
    messages.error(request, _form_summary(form))
    errors = {name: " ".join(str(e) for e in found) for name, found in form.errors.items()}
    if isinstance(form, RectificationFileForm):
        kept = {
            "status": target.status,
            "note": target.note,
            "file_error": " ".join(errors.values()),
        }
    else:
        kept = {
            "status": form.data.get("status", ""),
            "note": form.data.get("note", ""),
            "status_error": errors.pop("status", ""),
            "error": " ".join(errors.values()),
        }
    kept["id"] = target.public_id
    return _rectification_page(request, campaign, visible, request.POST, kept)


def _rectification_page(
    request: HttpRequest, campaign: Any, visible: Any, query: Any, kept: Any = None
) -> HttpResponse:
    """A card per finding; `kept` is a card's refused entry, shown back as typed (422)."""
    from django.utils import timezone

    from civicmark.assessments.access import rectification_refusal
    from civicmark.assessments.models import RectificationStatus, overdue_rectifications_q

    today = timezone.localdate()
    overdue = overdue_rectifications_q(today)
    by_town = list(
        visible.order_by()
        .values("enrollment__community__parent__code", "enrollment__community__parent__name")
        .annotate(
            open=Count("id", filter=Q(status=RectificationStatus.OPEN)),
            done=Count("id", filter=Q(status=RectificationStatus.DONE)),
            overdue=Count("id", filter=overdue),
        )
        .order_by("enrollment__community__parent__code")
    )
    town = query.get("town", "")
    shown = visible.filter(enrollment__community__parent__code=town) if town else visible
    # After a province's July round there are thousands of findings: a page at a time.
    page = Paginator(
        shown.prefetch_related("evidence").order_by("enrollment__community__path", "pk"),
        RECTIFICATIONS_PAGE,
    ).get_page(query.get("page"))
    steps = escalation.steps_for("rectification", [r.public_id for r in page])
    rows = [
        {
            "r": r,
            "overdue": r.is_overdue(today),
            "may_update": rectification_refusal(request.user, r.enrollment.community) is None,
            "escalations": steps.get(r.public_id, []),
        }
        for r in page
    ]
    return render(
        request,
        "assessments/rectifications.html",
        {
            "campaign": campaign,
            "rows": rows,
            "statuses": RectificationStatus.choices,
            "by_town": by_town,
            "town": town,
            "page": page,
            "pager_query": urlencode({"town": town}) if town else "",
            "kept": kept,
        },
        status=422 if kept else 200,
    )


def _town_query(post: Any) -> str:
    """The town filter to come back to; a value no code could be is dropped (a posted town of
    20,000 characters made a redirect Django refuses, an HTTP 500)."""
    town = post.get("town", "")
    if len(town) > Division._meta.get_field("code").max_length:  # type: ignore[operator]
        town = ""
    return f"?{urlencode({'town': town})}" if town else ""


def _community_file(
    request: HttpRequest, slug: str, public_id: Any, model: Any, enrollment_path: str
) -> HttpResponse:
    """A stored document of a community goes out only to those who may see that community, of
    a campaign they may see, and only as an attachment."""
    from civicmark.core.files import download

    campaign = authz.get_visible_or_404(campaigns_for_user(request.user), request.user, slug=slug)
    record = authz.get_visible_or_404(
        model.objects.filter(
            **{
                f"{enrollment_path}__campaign": campaign,
                f"{enrollment_path}__community__in": authz.divisions_for_user(request.user),
            }
        ),
        request.user,
        public_id=public_id,
    )
    return download(record.path, record.name, record.content_type)  # type: ignore[return-value]


@login_required
def rectification_file(request: HttpRequest, slug: str, public_id: Any) -> HttpResponse:
    from civicmark.assessments.models import RectificationEvidence

    return _community_file(
        request, slug, public_id, RectificationEvidence, "rectification__enrollment"
    )


@login_required
def score_sheet(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """GET: the offline sheet of one of my departments; POST: upload a filled-in sheet."""
    from civicmark.assessments.sheets import export_sheet, import_sheet
    from civicmark.core.errors import ImportRefused
    from civicmark.divisions.models import Department

    campaign, round_ = _round_or_404(request, slug, number)
    departments = authz.assessor_departments(request.user)
    if not departments:
        raise Http404
    if request.method == "POST":
        try:
            data, _name = posted_file(request, _("Choose the filled-in score sheet."))
            result = import_sheet(actor=request.user, data=data)
        except ImportRefused as refused:
            return render(
                request,
                "core/import.html",
                {
                    "errors": refused.errors,
                    "title": _("Upload a score sheet"),
                    "columns": "",
                    "back": "home",
                    "form": None,
                },
                status=422,
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("Sheet imported: %(s)d scores saved, %(u)d unchanged, %(v)d vetoes.")
                % {"s": result.saved, "u": result.unchanged, "v": result.vetoes},
            )
        return redirect("score_home", slug=campaign.slug, number=round_.number)
    department = authz.get_visible_or_404(
        Department.objects.filter(pk__in=departments),
        request.user,
        code=request.GET.get("department", ""),
    )
    response = HttpResponse(
        export_sheet(round_=round_, department=department, assessor=request.user),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = f"{campaign.slug}-round{round_.number}-{department.code}"
    response["Content-Disposition"] = content_disposition(name, "xlsx")
    return response


def _warn_missing_evidence(request: HttpRequest, campaign: Any, moved: list[Any], to: str) -> None:
    """A campaign that only warns on missing evidence lets a self-assessment be submitted without
    it, and says, community by community, which items went without."""
    from civicmark.assessments.workflow import State, missing_evidence

    if to != State.SUBMITTED or campaign.missing_evidence != "warn":
        return
    for enrollment in moved[:REFUSALS_SHOWN]:
        if missing := missing_evidence(enrollment):
            messages.warning(
                request,
                _("%(community)s was submitted with %(n)d items without evidence: %(items)s")
                % {
                    "community": enrollment.community.name,
                    "n": len(missing),
                    "items": ", ".join(missing),
                },
            )


def _self_context(request: HttpRequest, campaign: Any, enrollment: Any) -> dict[str, Any]:
    """What the self-assessment's cards show: each item with its stored score, its documents
    and the town's comment on it; the progress line; what this person may do there."""
    from civicmark.assessments.evidence import GATHERING, evidence_refusal
    from civicmark.assessments.workflow import latest_return, returned_by

    items = list(campaign.standard.items.select_related("category", "department").order_by("order"))
    own = {s.item_id: s for s in SelfScore.objects.filter(enrollment=enrollment)}
    files = _evidence_by_item(enrollment)
    returned, notes = latest_return(enrollment)
    staff = authz.is_community_staff(request.user, enrollment.community)
    rows = [
        {"item": i, "self": own.get(i.pk), "files": files.get(i.pk, []), "note": notes.get(i.pk)}
        for i in items
    ]
    return {
        "campaign": campaign,
        "enrollment": enrollment,
        "rows": rows,
        "files": files,
        "returned": returned,
        "returned_by": returned_by(returned, enrollment.community) if returned else "",
        "can_edit": staff and enrollment.status in SELF_ASSESSABLE,
        "can_attach": staff and evidence_refusal(enrollment) is None,
        # A wrong attachment is taken back only before the self-assessment is submitted.
        "can_remove": staff and enrollment.status in GATHERING,
    }


def _progress(context: dict[str, Any]) -> dict[str, Any]:
    """The sticky line: how many items are scored, how many still lack the evidence they ask."""
    rows = context["rows"]
    missing_scores = [r["item"].code for r in rows if not r["self"]]
    missing_evidence = [r["item"].code for r in rows if r["item"].evidence and not r["files"]]
    return {
        "total": len(rows),
        "scored": len(rows) - len(missing_scores),
        "missing_scores": missing_scores,
        "missing_evidence": missing_evidence,
    }


def _card_forms(request: HttpRequest, rows: list[dict[str, Any]]) -> dict[int, SelfScoreForm]:
    """A bound form per posted card: the page form posts them all, a card only its own."""
    forms = {}
    for row in rows:
        form = SelfScoreForm(
            request.POST, request.FILES, item=row["item"], stored=row["self"] is not None
        )
        if form.add_prefix("points") in request.POST or form.has_upload:
            forms[row["item"].pk] = form
    return forms


def _save_cards(request: HttpRequest, enrollment: Any, forms: dict[int, SelfScoreForm]) -> bool:
    """Save the posted cards' points (all or none), then attach each card's document to its
    item. False when something was refused: the error then sits on its card's field."""
    from civicmark.assessments.services import evidence_attach

    if not posting.self_cards_save(actor=request.user, enrollment=enrollment, forms=forms):
        return False
    saved = True
    for form in forms.values():
        for upload in form.uploads:
            try:
                evidence_attach(
                    actor=request.user, enrollment=enrollment, items=[form.item], upload=upload
                )
            except ApplicationError as exc:
                form.add_error("file", exc.message)
                saved = False
    return saved


@login_required
def self_assessment(request: HttpRequest, slug: str) -> HttpResponse:
    """The community scores itself item by item, attaches evidence, sees what is missing: a card
    per item, each saved as it is given (`self_assessment_item`), and the whole page saved by
    one button when the browser runs no script."""
    campaign = authz.get_visible_or_404(campaigns_for_user(request.user), request.user, slug=slug)
    code = request.GET.get("community") or request.POST.get("community", "")
    if not code:
        # Asked for without a community (the menu, the to-do list): community staff have one,
        # their own; whoever sees several chooses it from the campaign's list.
        mine = list(
            campaign.enrollments.filter(
                authz.within_scope(request.user, "community__path")
            ).values_list("community__code", flat=True)[:2]
        )
        if len(mine) != 1:
            return redirect("communities", slug=campaign.slug)
        code = mine[0]
    enrollment = _enrollment_or_404(request, campaign, code)
    here = f"{request.path}?community={enrollment.community.code}"
    context = _self_context(request, campaign, enrollment)
    forms: dict[int, SelfScoreForm] = {}
    other: ReviewForm | EvidenceForm | None = None  # the review or document form, refused
    if request.method == "POST":
        action = request.POST.get("action")
        items = [r["item"] for r in context["rows"]]
        if action in ("return", "reviewed"):
            other = ReviewForm(request.POST, items=items)
            if _review(request, campaign, enrollment, other):
                return redirect(here)
        elif action == "submit":
            if _submit(request, campaign, enrollment):
                return redirect(here)
            context = _self_context(request, campaign, enrollment)
            return _self_page(request, context, {}, status=422)
        elif action == "evidence":
            other = EvidenceForm(
                request.POST, request.FILES, items=items, documents=_documents(context["files"])
            )
            if _attach_posted(request, enrollment, items, other):
                messages.success(request, _("File attached."))
                return redirect(here)
        else:
            try:
                forms = _card_forms(request, context["rows"])
                if _save_cards(request, enrollment, forms):
                    messages.success(request, _("Saved."))
                    return redirect(here)
                messages.error(request, _("Nothing was saved: correct the items marked."))
            except ApplicationError as exc:
                messages.error(request, exc.message)
                if not forms:
                    return redirect(here)
        if other is not None:
            messages.error(request, _form_summary(other))
        context = _self_context(request, campaign, enrollment)  # documents attached meanwhile
    return _self_page(request, context, forms, status=422 if forms or other else 200, other=other)


def _submit(request: HttpRequest, campaign: Any, enrollment: Any) -> bool:
    """The community submits its self-assessment to the town from its own page (a first
    submission or again after a return): the workflow's own step, as the campaign's list takes
    it. False when refused: the reason is then a message at the top and beside the button."""
    from civicmark.assessments.workflow import State, TransitionRefused, transition_apply

    try:
        transition_apply(
            actor=request.user, campaign=campaign, enrollments=[enrollment], to=State.SUBMITTED
        )
    except TransitionRefused as refused:
        reasons = "; ".join(r.reason for r in refused.refusals)
        messages.error(request, _("Not submitted: %s") % reasons)
        return False
    except ApplicationError as exc:
        messages.error(request, _("Not submitted: %s") % exc.message)
        return False
    messages.success(request, _("Submitted to the town."))
    _warn_missing_evidence(request, campaign, [enrollment], State.SUBMITTED)
    return True


def _submission(request: HttpRequest, enrollment: Any) -> dict[str, Any]:
    """Whether this person may submit the self-assessment now, and if not why: offered to the
    community's own staff while the self-assessment is theirs to finish (the workflow's
    `why_not`, the very checks the step makes); nobody else is addressed about submitting."""
    from civicmark.assessments.workflow import State, why_not

    staff = authz.is_community_staff(request.user, enrollment.community)
    if not staff or enrollment.status not in SELF_ASSESSABLE:
        return {"can_submit": False, "submit_refusal": None, "submitter": False}
    refusal = why_not(request.user, enrollment, State.SUBMITTED)
    return {"can_submit": refusal is None, "submit_refusal": refusal, "submitter": True}


def _documents(files: dict[int, list[Any]]) -> list[Any]:
    """The community's documents, each once, without those a newer version replaced."""
    return sorted(
        {f for found in files.values() for f in found if not _has_newer(f)},
        key=lambda f: f.uploaded_at,
    )


def _self_page(
    request: HttpRequest,
    context: dict[str, Any],
    forms: dict[int, Any],
    status: int = 200,
    other: ReviewForm | EvidenceForm | None = None,
) -> HttpResponse:
    from civicmark.assessments.workflow import State, may_take

    enrollment = context["enrollment"]
    review = other if isinstance(other, ReviewForm) else None
    notes = review.data if review is not None else {}
    note_errors = review.note_errors() if review is not None else {}
    for row in context["rows"]:
        row["form"] = forms.get(row["item"].pk)
        row["review_note"] = notes.get(f"note-{row['item'].pk}", "")
        row["review_note_error"] = note_errors.get(row["item"].pk, "")
    files = context.pop("files")
    return render(
        request,
        "assessments/self_assessment.html",
        {
            **context,
            "progress": _progress(context),
            "documents": _documents(files),
            "review": review,
            "evidence_form": other if isinstance(other, EvidenceForm) else None,
            "can_return": may_take(request.user, enrollment, State.RETURNED),
            "can_review": may_take(request.user, enrollment, State.TOWN_REVIEWED),
            **_submission(request, enrollment),
        },
        status=status,
    )


def _attach_posted(
    request: HttpRequest, enrollment: Any, items: list[Any], form: EvidenceForm
) -> bool:
    """The page's own document form: one document for the items chosen, or a new version.
    False when refused: the reason is then on the form, beside its field."""
    stored = posting.evidence_post(
        actor=request.user, enrollment=enrollment, items=items, form=form
    )
    return stored is not None


@login_required
@require_POST
def self_assessment_item(request: HttpRequest, slug: str, code: str, item: str) -> HttpResponse:
    """One card of the self-assessment, saved as it is given (htmx): answers the card again,
    saved or with its error beside the field and what was typed (422), and the progress line."""
    campaign = authz.get_visible_or_404(campaigns_for_user(request.user), request.user, slug=slug)
    enrollment = _enrollment_or_404(request, campaign, code)
    context = _self_context(request, campaign, enrollment)
    row = next((r for r in context["rows"] if r["item"].code == item), None)
    if row is None:
        raise Http404
    forms = _card_forms(request, [row])
    form = forms.get(row["item"].pk) or SelfScoreForm(
        request.POST, request.FILES, item=row["item"], stored=row["self"] is not None
    )
    forms[row["item"].pk] = form
    try:
        saved = _save_cards(request, enrollment, forms)
    except ApplicationError as exc:
        saved = False
        form.add_error(None, exc.message)
    if saved:
        context = _self_context(request, campaign, enrollment)
        row = next(r for r in context["rows"] if r["item"].code == item)
        row["state"] = "saved" if form.has_changed() else ""
    else:
        row["form"], row["state"] = form, "error"
    return render(
        request,
        "assessments/_self_card_response.html",
        {**context, "r": row, "progress": _progress(context)},
        status=200 if saved else 422,
    )


def _has_newer(evidence: Any) -> bool:
    try:
        return evidence.superseded_by is not None
    except ObjectDoesNotExist:
        return False


def _review(request: HttpRequest, campaign: Any, enrollment: Any, form: ReviewForm) -> bool:
    """The town (or county) reviews a submitted self-assessment: passes it on, or returns it
    with a comment on each item that must change. False when refused: the reason is then on
    the form (a return's beside its comment), and every note typed is shown back."""
    from civicmark.assessments.workflow import (
        State,
        TransitionRefused,
        return_with_comments,
        transition_apply,
    )

    if not form.is_valid():
        return False
    returning = form.cleaned_data["action"] == "return"
    try:
        if returning:
            return_with_comments(
                actor=request.user,
                enrollment=enrollment,
                comment=form.cleaned_data["comment"],
                item_comments=form.notes(),
            )
            messages.success(request, _("Returned to the community with your comments."))
        else:
            transition_apply(
                actor=request.user,
                campaign=campaign,
                enrollments=[enrollment],
                to=State.TOWN_REVIEWED,
                comment=form.cleaned_data["comment"],
            )
            messages.success(request, _("Marked as reviewed by the town."))
    except TransitionRefused as refused:
        reasons = "; ".join(r.reason for r in refused.refusals)
        form.add_error("comment" if returning else None, reasons)
        return False
    except ApplicationError as exc:
        form.refuse(exc)
        return False
    return True


@login_required
def evidence_file(request: HttpRequest, slug: str, public_id: Any) -> HttpResponse:
    from civicmark.assessments.models import Evidence

    return _community_file(request, slug, public_id, Evidence, "enrollment")


def _community_evidence(request: HttpRequest, slug: str, public_id: Any) -> Any:
    """A community's document, found only by those who may see the community (404 otherwise)."""
    from civicmark.assessments.models import Evidence

    campaign = authz.get_visible_or_404(campaigns_for_user(request.user), request.user, slug=slug)
    return authz.get_visible_or_404(
        Evidence.objects.filter(
            enrollment__campaign=campaign,
            enrollment__community__in=authz.divisions_for_user(request.user),
        ).select_related("enrollment__community", "enrollment__campaign"),
        request.user,
        public_id=public_id,
    )


@login_required
@xframe_options_sameorigin
def evidence_preview(request: HttpRequest, slug: str, public_id: Any) -> HttpResponse:
    """A document seen in the page: an image as a small JPEG, a PDF as itself, shown inline
    (framed by this site's own page only); anything else has no preview (404), and is downloaded."""
    from civicmark.core.files import inline, thumbnail

    evidence = _community_evidence(request, slug, public_id)
    if evidence.content_type == "application/pdf":
        return inline(evidence.path, evidence.name, evidence.content_type)  # type: ignore[return-value]
    small = thumbnail(evidence.path, evidence.content_type)
    if small is None:
        raise Http404
    response = HttpResponse(small, content_type="image/jpeg")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def evidence_remove(request: HttpRequest, slug: str, public_id: Any) -> HttpResponse:
    """Take back a document attached by mistake, before the self-assessment is submitted."""
    from civicmark.assessments.services import evidence_remove as remove

    evidence = _community_evidence(request, slug, public_id)
    enrollment = evidence.enrollment
    try:
        remove(actor=request.user, evidence=evidence)
    except NotAllowed:
        raise Http404 from None
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("“%s” was removed.") % evidence.name)
    anchor = CardForm(request.POST).anchor()
    return redirect(
        f"{reverse('self_assessment', args=[enrollment.campaign.slug])}"
        f"?community={enrollment.community.code}{anchor}"
    )


def _date(raw: str) -> Any:
    try:
        return parse_date(raw)
    except ParseError as exc:
        raise ApplicationError(exc.message) from None


@login_required
def round_detail(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """A round's window, lead, rules, panel and coverage; its lead may change them (a county
    officer, in the county round of a city's campaign, his own county's part: ADR 12)."""
    from civicmark.assessments import panels
    from civicmark.assessments.services import round_configure
    from civicmark.assessments.workflow import State
    from civicmark.campaigns.models import CombineRule, Rescore

    campaign, round_ = _round_or_404(request, slug, number)
    can_lead = authz.can_lead_round(request.user, round_)
    # A county officer in the county round of a city's campaign leads his county's part only.
    own = None if can_lead else parts.led_county(request.user, round_)
    posted = None  # what the lead ticked and typed, shown back when it is not saved
    sign_off: SignOffForm | None = None
    settings_form: RoundSettingsForm | None = None
    refused = sign_off is not None
    if request.method == "POST" and request.POST.get("action") in ("finalise", "reopen"):
        if not (can_lead or own):
            raise Http404
        sign_off = SignOffForm(request.POST, confirming=True)
        if sign_off.is_valid():
            try:
                _sign_off(request.user, round_, sign_off, own)
                messages.success(request, _("Saved."))
                return redirect("round_detail", slug=campaign.slug, number=round_.number)
            except ApplicationError as exc:
                sign_off.refuse(exc)
        messages.error(request, _form_summary(sign_off))
    elif request.method == "POST":
        if not (can_lead or own):
            raise Http404
        settings_form = RoundSettingsForm(request.POST)
        posted = request.POST
        try:
            if not settings_form.is_valid():
                raise _Refused
            data = settings_form.cleaned_data
            county = _county_posted(round_, data["county"]) or own
            if data["action"] == "back":
                raise _KeepTicks
            whole = county is None  # a part's form sets its rule, panel and coverage only
            if whole and not settings_form.require_window():
                raise _Refused
            round_configure(
                actor=request.user,
                round_=round_,
                opens_on=data["opens_on"] if whole else round_.opens_on,
                closes_on=data["closes_on"] if whole else round_.closes_on,
                combine_rule=data["combine_rule"],
                rescore=(data["rescore"] or Rescore.LOST) if whole else round_.rescore,
                lead=_lead_posted(data["lead"]) if whole else round_.lead,
                panel=list(panels.candidates(round_).filter(public_id__in=data["panel"])),
                covers=_covers_posted(campaign, data, request.user),
                county=county,
                confirm_removal=data["confirm_removal"],
            )
        except _KeepTicks:
            pass
        except _Refused:
            refused = True
            messages.error(request, _form_summary(settings_form))
        except CoverageRemoves as exc:
            return _confirm_removal(request, campaign, round_, exc)
        except ApplicationError as exc:
            refused = True
            settings_form.refuse(exc)
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Saved."))
            return redirect("round_detail", slug=campaign.slug, number=round_.number)
    panel = list(panels.panel(round_, county=own))
    grants: dict[int, list[str]] = {}
    for user_id, dept in (
        panels.candidates(round_, county=own)
        .filter(roles__role="assessor")
        .values_list("pk", "roles__department__name")
    ):
        grants.setdefault(user_id, []).append(dept)
    # A province's round covers thousands of communities: past COVERAGE_LIST_MAX the page shows
    # the coverage per workflow state, and the lead lists communities by code in a text box; the
    # same statements either way (ADR 31).
    listing = panels.coverage_listing(
        round_, scope=_campaign_scope(request.user, campaign), limit=COVERAGE_LIST_MAX
    )
    large = listing.large
    enrollments: list[Any] = listing.rows
    covered_ids = {e.pk for e in enrollments if e.on}
    defaults = {e.pk for e in enrollments if e.by_default}
    covered_count = listing.covered
    by_state = [{"label": State(status).label, "n": n} for status, n in listing.by_state]
    listed = "\n".join(listing.listed_codes) if large else ""
    listed_panel = set(round_.panel.values_list("pk", flat=True))
    if own is not None:
        listed_panel &= {u.pk for u in panel}
    ticked = set(_ints(posted.getlist("covers"))) if posted is not None else covered_ids
    if posted is not None and large:
        listed = posted.get("covers_codes", listed)
    if posted is not None:
        listed_panel = {
            u.pk
            for u in panels.candidates(round_, county=own).filter(
                public_id__in=[posted_uuid(v) for v in posted.getlist("panel")]
            )
        }
    return render(
        request,
        "assessments/round_detail.html",
        {
            "campaign": campaign,
            "round": round_,
            "can_lead": can_lead and round_.finalised_at is None,
            # Leading it, signed off or not: the quality pages (calibration, drift, sample,
            # appeals) and the notice matter most once the round is signed off.
            "leads_round": can_lead,
            # A county officer reads his own county's accuracy figures (the page shows him
            # nothing else).
            "sees_sample": round_.level == Level.CITY
            and (can_lead or Role.COUNTY_OFFICER in authz.roles_of(request.user)),
            "own": own,
            "own_sealed": own is not None and parts.part_sealed(round_, own.path),
            "own_rule": parts.rule_for(round_, own.path) if own is not None else "",
            "parts": _parts_rows(request.user, round_, sign_off) if can_lead else [],
            # The whole round's sign-off (the lead office): finalise, with its confirmation, or
            # reopen with a reason; the refusal and what was typed beside the form.
            "may_sign_off": can_lead,
            "sign_off_kept": _kept_sign_off(sign_off, None),
            "sign_off": sign_off
            if sign_off is not None and not (sign_off.data.get("county") or "").strip()
            else None,
            "own_kept": _kept_sign_off(sign_off, None, own) if own is not None else None,
            "panel": [{"user": u, "departments": grants.get(u.pk, [])} for u in panel],
            "candidates": [
                {
                    "user": u,
                    "departments": grants.get(u.pk, []),
                    "on": u in panel,
                    "checked": u.pk in listed_panel,
                }
                for u in panels.candidates(round_, county=own)
            ],
            "explicit_panel": bool(listed_panel),
            "explicit_covers": panels.listed(round_, "covers"),
            "leads": panels.lead_candidates(round_),
            "coverage": [
                {
                    "e": e,
                    "on": e.pk in covered_ids,
                    "checked": e.pk in ticked,
                    "default": e.pk in defaults,
                    "label": State(e.status).label,
                }
                for e in enrollments
            ],
            "values": _round_values(round_, posted, own),
            "settings_form": settings_form,
            "covered_count": covered_count,
            "large": large,
            "by_state": by_state,
            "listed_codes": listed,
            "rules": CombineRule.choices,
            "rescores": Rescore.choices,
            "departments": panels.departments(round_),
        },
        status=422 if refused or sign_off is not None else 200,
    )


def _campaign_scope(user: Any, campaign: Any) -> Q:
    """The viewer's scope as a filter on the campaign's enrollments: none when it holds the
    campaign's whole division (every enrolled community lies under it), so that counting a
    province's round joins no division table; his own subtrees otherwise."""
    if authz.sees_all_under(user, campaign.division.path):
        return Q()
    return authz.within_scope(user, "community__path")


class _KeepTicks(Exception):
    """The lead went back from the confirmation: his ticks come back unsaved."""


class _Refused(Exception):
    """The round's form was refused: shown back as typed, with the errors beside the boxes."""


def _round_values(round_: Any, posted: Any, own: Any) -> dict[str, Any]:
    """The window, rules and lead as the form shows them: as typed when they were not saved."""
    values = {
        "opens_on": round_.opens_on.isoformat(),
        "closes_on": round_.closes_on.isoformat(),
        "combine_rule": parts.rule_for(round_, own.path) if own else round_.combine_rule,
        "rescore": round_.rescore,
        "lead": str(round_.lead.public_id) if round_.lead else "",
    }
    if posted is not None:
        values.update({k: posted[k] for k in values if k in posted})
    return values


def _confirm_removal(
    request: HttpRequest, campaign: Any, round_: Any, refusal: CoverageRemoves
) -> HttpResponse:
    """Before communities leave a round: which, and which join; confirm, or go back with the
    ticks as they were."""
    from civicmark.assessments.coverage import describe

    fields = [
        (name, value)
        for name, values in request.POST.lists()
        if name not in ("csrfmiddlewaretoken", "confirm_removal", "action")
        for value in values
    ]
    return render(
        request,
        "assessments/round_cover_confirm.html",
        {
            "campaign": campaign,
            "round": round_,
            "fields": fields,
            "stays_default": not refusal.change.covers,
            **describe(round_, refusal.change),
        },
    )


def _lead_posted(public_id: Any) -> Any:
    from civicmark.accounts.models import User

    return User.objects.filter(public_id=public_id).first() if public_id else None


def _sign_off(user: Any, round_: Any, form: SignOffForm, own: Any = None) -> None:
    """Finalise or reopen the round, or (naming a county, or led by a county officer) that
    county's part of it."""
    from civicmark.assessments.services import round_finalise, round_reopen

    county = _county_posted(round_, form.cleaned_data["county"]) or own
    if form.cleaned_data["action"] == "finalise":
        round_finalise(actor=user, round_=round_, county=county)
    else:
        round_reopen(actor=user, round_=round_, reason=form.cleaned_data["reason"], county=county)


def _parts_rows(
    user: Any, round_: Any, sign_off: SignOffForm | None = None
) -> list[dict[str, Any]]:
    """The county parts of a split round, for the city's page: rule, status, who may act."""
    pieces = parts.part_map(round_)
    return [
        {
            "county": c,
            "rule": CombineRule(parts.rule_of(pieces.get(c.path), round_)).label,
            "part": pieces.get(c.path),
            "sealed": parts.part_sealed(round_, c.path),
            "may": authz.can_lead_round(user, round_, county=c),
            "kept": _kept_sign_off(sign_off, None, c),
        }
        for c in parts.counties(round_)
    ]


COVERAGE_LIST_MAX = 300
COMMUNITIES_PAGE = 100
REFUSALS_SHOWN = 50
RECTIFICATIONS_PAGE = 100


def _covers_posted(campaign: Any, data: dict[str, Any], user: Any) -> list[Any]:
    """The communities the lead listed: ticked boxes, or, on a large campaign's page, codes in
    a text box (one per line, or separated by spaces or commas). An unknown code refuses the
    whole form, naming the codes. Codes are read only among the communities the person sees: one
    outside reads as one that does not exist."""
    from civicmark.campaigns.selectors import enrollments_by_code
    from civicmark.core.http import typed_codes

    text = data["covers_codes"]
    if text is None:
        # Ticks outside a county's part are refused by the service, naming none of them.
        return list(campaign.enrollments.filter(pk__in=data["covers"]))
    codes = typed_codes(text)
    found = enrollments_by_code(campaign, codes, user=user)
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise ApplicationError(
            _("These codes are not communities of this campaign: %s")
            % "、".join(unknown[:10] + (["…"] if len(unknown) > 10 else []))
        )
    return list(found.values())


def _ints(values: list[str]) -> list[int]:
    return parse_ids(values)


@login_required
def commendation(request: HttpRequest, slug: str) -> HttpResponse:
    """The advanced units: proposed for commendation, and the city confirms (or declines) the list."""
    from civicmark.assessments.workflow import State, TransitionRefused, may_take, transition_apply
    from civicmark.scoring.rules import Outcome

    campaign = authz.get_visible_or_404(campaigns_for_user(request.user), request.user, slug=slug)
    enrollments = list(
        campaign.enrollments.select_related("community", "community__parent")
        .filter(
            authz.within_scope(request.user, "community__path"),
            status__in=(State.STANDARD_UNIT, State.PROPOSED, State.COMMENDED),
        )
        .order_by("community__path")
    )
    form: CommendationForm | None = None
    if request.method == "POST":
        to = {"confirm": State.COMMENDED, "decline": State.STANDARD_UNIT, "propose": State.PROPOSED}
        form = CommendationForm(request.POST)
        if form.is_valid():
            ids = set(form.cleaned_data["enrollment"])
            chosen = [e for e in enrollments if e.pk in ids]
            try:
                if not chosen:
                    raise ApplicationError(_("Tick the communities and choose what to do."))
                moved = transition_apply(
                    actor=request.user,
                    campaign=campaign,
                    enrollments=chosen,
                    to=to[form.cleaned_data["action"]],
                    comment=form.cleaned_data["comment"],
                )
                messages.success(request, _("%d communities moved.") % moved)
                return redirect("commendation", slug=campaign.slug)
            except TransitionRefused as refused:
                # A decline asks for a comment: its refusal goes beside the comment box.
                beside = "comment" if form.cleaned_data["action"] == "decline" else None
                form.add_error(beside, "; ".join(str(r) for r in refused.refusals))
            except ApplicationError as exc:
                form.refuse(exc, "enrollment")
        messages.error(request, _form_summary(form))
    # The latest complete municipal result of each community listed, read from the stored
    # results (ADR 7), not computed again for the whole round.
    from civicmark.scoring.materialize import current
    from civicmark.scoring.models import CommunityResult

    latest: dict[int, Any] = {}
    for round_ in campaign.rounds.filter(level="city").order_by("number"):
        current(round_)
        for result in (
            CommunityResult.objects.filter(
                authz.within_scope(request.user, "enrollment__community__path"),
                round=round_,
                enrollment__status__in=(State.STANDARD_UNIT, State.PROPOSED, State.COMMENDED),
            )
            .exclude(outcome=Outcome.INCOMPLETE)
            .only("enrollment_id", "total", "level")
        ):
            latest[result.enrollment_id] = result
    top = campaign.standard.levels.order_by("-min_score").first()

    def row(e: Any) -> dict[str, Any]:
        result = latest.get(e.pk)
        return {"e": e, "result": result, "label": State(e.status).label}

    proposed = [row(e) for e in enrollments if e.status == State.PROPOSED]
    commended = [row(e) for e in enrollments if e.status == State.COMMENDED]
    candidates = [
        row(e)
        for e in enrollments
        if e.status == State.STANDARD_UNIT
        and top is not None
        and (r := latest.get(e.pk)) is not None
        and r.level == top.name
    ]
    may_confirm = any(may_take(request.user, r["e"], State.COMMENDED) for r in proposed)
    may_propose = any(may_take(request.user, r["e"], State.PROPOSED) for r in candidates)
    return render(
        request,
        "assessments/commendation.html",
        {
            "campaign": campaign,
            "proposed": proposed,
            "commended": commended,
            "candidates": candidates,
            "top": top,
            "may_confirm": may_confirm,
            "may_propose": may_propose,
            "form": form,
            # Which form was posted, and what it ticked: shown back as ticked after a refusal.
            "posted_action": form.data.get("action", "") if form is not None else "",
            "ticked": set(request.POST.getlist("enrollment")) if form is not None else None,
        },
        status=422 if form is not None else 200,
    )


DISAGREEMENTS_SHOWN = 50


def disagreement_section(user: Any, round_: Any, form: SettleForm | None = None) -> dict[str, Any]:
    """The round page's disagreements, for the round's lead (a county part's lead: his county's
    communities): the open ones with a settle form each, and those settled with the decision.
    Anyone else gets nothing. `form` is a refused settlement, shown back on its row."""
    from civicmark.assessments import panels
    from civicmark.scoring.disagreements import first_open, settled

    if authz.can_lead_round(user, round_):
        ids = None
    else:
        county = parts.led_county(user, round_)
        if county is None:
            return {"shown": False}
        ids = list(
            panels.covered(round_)
            .filter(community__path__startswith=county.path)
            .values_list("pk", flat=True)
        )
    posted = form.data if form is not None else {}
    rows = []
    # A province's round may hold thousands: the first ones, and how many (ADR 11), found by the
    # counts stored beside the results, at the cost of the shown communities (ADR 31).
    found, total = first_open(round_, ids, limit=DISAGREEMENTS_SHOWN)
    for d in found:
        mine = posted.get("enrollment") == str(d.enrollment.pk) and posted.get("item") == str(
            d.item.pk
        )
        rows.append({"d": d, "form": form if mine else None})
    # A reviewer's decision on an appeal is stored as a settlement too (ADR 20), but it settled
    # no disagreement: it is listed apart, with a link to its appeal.
    done = list(settled(round_, ids))
    return {
        "shown": True,
        "may_settle": round_.finalised_at is None,
        "rows": rows,
        "total": total,
        "settled": [s for s in done if s.source != SettlementSource.APPEAL],
        "on_appeal": [s for s in done if s.source == SettlementSource.APPEAL],
        "round": round_,
        "campaign": round_.campaign,
    }


@login_required
def round_disagreements(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """The lead settles an item its assessors disagree on (points or not applicable, and why);
    a refusal (422) shows the page again with what he typed and the error beside its box."""
    from civicmark.assessments.settling import settle
    from civicmark.scoring.validate import Invalid

    campaign, round_ = _round_or_404(request, slug, number)
    form: SettleForm | None = None
    if request.method == "POST":
        form = SettleForm(request.POST, campaign=campaign)
        if form.is_valid():
            data = form.cleaned_data
            try:
                settle(
                    actor=request.user,
                    round_=round_,
                    enrollment=data["enrollment"],
                    item=data["item"],
                    points=data["points"],
                    not_applicable=data["not_applicable"],
                    reason=data["reason"],
                )
            except Invalid as exc:
                form.refuse(exc, exc.field if exc.field in form.fields else "points")
            except ApplicationError as exc:
                form.refuse(exc, None)
            else:
                messages.success(request, _("Saved."))
                return redirect("round_detail", slug=campaign.slug, number=round_.number)
        messages.error(request, form.first_error())
    section = disagreement_section(request.user, round_, form)
    if not section["shown"]:
        raise Http404
    return render(
        request,
        "assessments/disagreements.html",
        {"campaign": campaign, "round": round_, "disagreements": section},
        status=422 if form is not None else 200,
    )


# --- Vetoes on the scoring page (ADR 17): found, standing, lifted; record, lift, withdraw -------

VETO_FORM = "veto_form"  # the session key that carries a refused form back to the page


def veto_section(request: HttpRequest, round_: Any, community: Any) -> dict[str, Any]:
    """The vetoes of the assessor's departments for one community in one round: each veto's
    state (found here, standing from an earlier round, lifted), who recorded it, when and why,
    and the controls he may use. A refused form comes back with its error and its text."""
    from civicmark.assessments import panels
    from civicmark.assessments.access import ACCESS
    from civicmark.scoring import vetoes
    from civicmark.scoring.models import VetoFinding

    user = request.user
    enrollment = round_.campaign.enrollments.filter(community=community).first()
    if enrollment is None:
        return {"shown": False}
    mine = list(
        round_.campaign.standard.vetoes.filter(
            department_id__in=authz.assessor_departments(user)
        ).order_by("order", "code")
    )
    if not mine:
        return {"shown": False}
    statuses = {
        s.veto_id: s for s in vetoes.statuses(round_, [enrollment.pk]).get(enrollment.pk, [])
    }
    here: dict[int, list[Any]] = {}
    for f in (
        VetoFinding.objects.filter(round=round_, enrollment=enrollment, veto__in=mine)
        .select_related("assessor")
        .order_by("created_at", "pk")
    ):
        here.setdefault(f.veto_id, []).append(f)
    locked = panels.round_sealed_for(round_, community)
    back = request.session.get(VETO_FORM) or {}
    if back.get("where") != [round_.pk, enrollment.pk]:
        back = {}
    elif request.method == "GET":
        request.session.pop(VETO_FORM, None)
    rows = []
    for veto in mine:
        status = statuses.get(veto.pk)
        records = here.get(veto.pk, [])
        own = next((f for f in records if f.assessor_id == user.pk), None)
        refusal = None if locked else ACCESS.veto_refusal(user, round_, enrollment, veto)
        state = status.state.value if status is not None else ""
        can_act = not locked and not refusal and own is None
        lifted_here = any(f.lifts for f in records)
        rows.append(
            {
                "veto": veto,
                "status": status,
                "state": state,
                "records": records,
                "own": own,
                "can_record": can_act
                and not lifted_here
                and state in ("", vetoes.VetoState.LIFTED, vetoes.VetoState.FOUND),
                "can_lift": can_act and state == vetoes.VetoState.STANDING,
                "can_withdraw": not locked and own is not None,
                "refusal": refusal,
                "error": back.get("error") if back.get("veto") == veto.code else "",
                "text": back.get("text", "") if back.get("veto") == veto.code else "",
            }
        )
    return {
        "shown": True,
        "rows": rows,
        "locked": locked,
        "round": round_,
        "campaign": round_.campaign,
        "community": community,
    }


@login_required
def score_vetoes(request: HttpRequest, slug: str, number: int, code: str) -> HttpResponse:
    """Record a finding, lift a standing veto, or withdraw one's own record of this round, from
    the scoring page; a refusal goes back beside the control with the text kept."""
    if request.method != "POST":
        raise Http404
    campaign, round_ = _round_or_404(request, slug, number)
    enrollment = _enrollment_or_404(request, campaign, code)
    vetoes = list(campaign.standard.vetoes.all())
    form = VetoForm(request.POST, vetoes=vetoes)
    try:
        done, veto = posting.veto_post(
            actor=request.user,
            round_=round_,
            enrollment=enrollment,
            form=form,
            vetoes=vetoes,
            via="web",
        )
        message = {"withdraw": _("%s withdrawn."), "lift": _("%s lifted.")}.get(
            done, _("%s recorded.")
        )
        messages.success(request, message % veto.code)
    except ApplicationError as exc:
        # The scoring page shows the refusal beside the veto's text box, with the text as typed
        # (the page is a GET after this redirect: the form travels in the session).
        request.session[VETO_FORM] = {
            "where": [round_.pk, enrollment.pk],
            "veto": form.data.get("veto", "")[:64],
            "text": form.data.get("text", "")[:VETO_TEXT_KEPT],
            "error": exc.message,
        }
        messages.error(request, exc.message)
    url = reverse("score_community", args=[campaign.slug, round_.number, code])
    return redirect(f"{url}#vetoes")


VETO_TEXT_KEPT = 20_000  # a session holds what was typed, not a pasted file
