"""Pages of the resident surveys. The office running the campaign draws, prints door cards,
substitutes, keys paper forms and exports; residents answer on a public page with their code;
assessors confirm the points; community staff see only their community's aggregates, never an
individual answer, and nothing of fewer than five answers."""

from __future__ import annotations

import io
import uuid
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.campaigns.selectors import campaigns_for_user
from civicmark.core.errors import ApplicationError, ImportRefused
from civicmark.core.http import public_url
from civicmark.core.names import content_disposition
from civicmark.core.uploads import posted_file
from civicmark.divisions.models import Division, Level
from civicmark.surveys import services as svc
from civicmark.surveys import throttle
from civicmark.surveys.forms import (
    AnswerPageForm,
    DrawForm,
    EntryForm,
    PointsForm,
    SubstitutionForm,
    SurveyForm,
)
from civicmark.surveys.models import (
    Draw,
    Drawn,
    Instrument,
    Mode,
    Response,
    SubstitutionReason,
    SurveyRound,
)


def _survey(request: HttpRequest, public_id: Any) -> SurveyRound:
    survey = (
        SurveyRound.objects.select_related("round__campaign__division", "instrument")
        .filter(public_id=public_id)
        .first()
    )
    if (
        survey is None
        or not campaigns_for_user(request.user).filter(pk=survey.round.campaign_id).exists()
    ):
        raise Http404
    return survey


def _runner_survey(request: HttpRequest, public_id: Any) -> SurveyRound:
    survey = _survey(request, public_id)
    if not svc.can_run(request.user, survey):
        raise Http404
    return survey


def _community(survey: SurveyRound, code: str) -> Division:
    community = Division.objects.filter(code=code, level=Level.COMMUNITY).first()
    if (
        community is None
        or not survey.round.campaign.enrollments.filter(community=community).exists()
    ):
        raise Http404
    return community


@login_required
def survey_list(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    campaign = authz.get_visible_or_404(campaigns_for_user(request.user), request.user, slug=slug)
    round_ = campaign.rounds.filter(number=number).first()
    if round_ is None:
        raise Http404
    can_manage = svc.can_run_round(request.user, round_)
    instruments = Instrument.objects.filter(standard=campaign.standard, published_at__isnull=False)
    form = SurveyForm(request.POST if request.method == "POST" else None, instruments=instruments)
    if request.method == "POST":
        if not can_manage:
            raise Http404
        try:
            if not form.is_valid():
                raise ApplicationError(_("Nothing was saved: correct the fields marked."))
            data = form.cleaned_data
            survey = svc.survey_create(
                actor=request.user,
                round_=round_,
                instrument=form.chosen_instrument(),
                sample_size=data["sample_size"],
                reserve_size=data["reserve_size"],
                method=data["method"],
                refuse_community_collected=data["refuse_community"],
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            if not form.errors:
                form.add_error(None, exc.message)
        else:
            return redirect("survey_detail", public_id=survey.public_id)
    return render(
        request,
        "surveys/list.html",
        {
            "campaign": campaign,
            "round": round_,
            "surveys": SurveyRound.objects.filter(round=round_).select_related("instrument"),
            "form": form,
            "can_manage": can_manage,
        },
    )


@login_required
def survey_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Per community: frame, draw, answers, substitutions (with the alert) and flags."""
    survey = _survey(request, public_id)
    runner = svc.can_run(request.user, survey)
    if request.method == "POST" and not runner:
        raise Http404
    draw_form = DrawForm(
        request.POST if request.method == "POST" else None,
        communities=authz.divisions_for_user(request.user).filter(
            level=Level.COMMUNITY,
            pk__in=survey.round.campaign.enrollments.values("community"),
        ),
    )
    if request.method == "POST":
        try:
            if not draw_form.is_valid():
                raise ApplicationError(_("Nothing was drawn: correct the field marked."))
            community = draw_form.cleaned_data["community"]
            svc.draw_households(actor=request.user, survey=survey, community=community)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            if not draw_form.errors:
                draw_form.add_error("community", exc.message)
        else:
            messages.success(request, _("%s drawn.") % community.name)
            return redirect("survey_detail", public_id=survey.public_id)
    from django.core.paginator import Paginator
    from django.db.models import Count, Q

    from civicmark.surveys.models import FrameHousehold, Slot

    enrollments = (
        survey.round.campaign.enrollments.select_related("community")
        .filter(community__in=authz.divisions_for_user(request.user))
        .order_by("community__path")
    )
    page = Paginator(enrollments, 50).get_page(request.GET.get("page"))
    ids = [e.community_id for e in page]
    # A fixed number of grouped queries for the page, whatever the number of communities.
    draws = {d.community_id: d for d in Draw.objects.filter(survey=survey, community__in=ids)}
    answers = dict(
        Response.objects.filter(survey=survey, community__in=ids)
        .values("community")
        .annotate(n=Count("id"))
        .values_list("community", "n")
    )
    frames = dict(
        FrameHousehold.objects.filter(community__in=ids, active=True)
        .values("community")
        .annotate(n=Count("id"))
        .values_list("community", "n")
    )
    substituted = {
        draw: (sample, replaced)
        for draw, sample, replaced in Drawn.objects.filter(draw__in=list(draws.values()))
        .values("draw")
        .annotate(
            sample=Count("id", filter=Q(slot=Slot.SAMPLE)),
            replaced=Count("id", filter=~Q(replaced_reason="")),
        )
        .values_list("draw", "sample", "replaced")
    }
    rows = []
    for e in page:
        draw = draws.get(e.community_id)
        rate = None
        if draw is not None:
            sample, replaced = substituted.get(draw.pk, (0, 0))
            rate = svc.percent(Fraction(replaced, sample)) if sample else Decimal(0)
        rows.append(
            {
                "community": e.community,
                "frame": frames.get(e.community_id, 0),
                "draw": draw,
                "answers": answers.get(e.community_id, 0),
                "substitution": rate,
                "alert": rate is not None and rate > survey.substitution_alert,
            }
        )
    return render(
        request,
        "surveys/detail.html",
        {"survey": survey, "rows": rows, "runner": runner, "page": page, "draw_form": draw_form},
    )


def _frame_size(community: Division) -> int:
    from civicmark.surveys.models import FrameHousehold

    return FrameHousehold.objects.filter(community=community, active=True).count()


@login_required
def door_cards(request: HttpRequest, public_id: Any, code: str) -> HttpResponse:
    """Printable door cards: address, code and a QR code of the answer page. Only the office
    running the survey prints them; community staff never see the codes."""
    import segno

    survey = _runner_survey(request, public_id)
    community = _community(survey, code)
    draw = Draw.objects.filter(survey=survey, community=community).first()
    if draw is None:
        raise Http404
    cards = []
    for drawn in (
        draw.households.select_related("household")
        .filter(in_sample=True, used=False)
        .order_by("slot", "position")
    ):
        url = public_url(request, reverse("survey_answer", args=[drawn.code]))
        cards.append(
            {
                "drawn": drawn,
                "shown": throttle.spaced(drawn.code),
                "url": url,
                "qr": segno.make(url, error="m").svg_data_uri(scale=4, border=1),
            }
        )
    return render(
        request, "surveys/cards.html", {"survey": survey, "community": community, "cards": cards}
    )


def _posted_row(form: SubstitutionForm, draw: Draw) -> str:
    posted = str(form.data.get("drawn", "")) if form.is_bound else ""
    rows = {str(pk) for pk in draw.households.values_list("pk", flat=True)}
    return posted if posted in rows else ""


@login_required
def substitutions(request: HttpRequest, public_id: Any, code: str) -> HttpResponse:
    survey = _runner_survey(request, public_id)
    community = _community(survey, code)
    draw = Draw.objects.filter(survey=survey, community=community).first()
    if draw is None:
        raise Http404
    form = SubstitutionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        try:
            if not form.is_valid():
                raise ApplicationError(" ".join(str(m) for e in form.errors.values() for m in e))
            drawn = draw.households.filter(pk=form.cleaned_data["drawn"]).first()
            if drawn is None:
                raise ApplicationError(_("Choose a household of this draw."))
            svc.substitute(actor=request.user, drawn=drawn, reason=form.cleaned_data["reason"])
        except ApplicationError as exc:
            messages.error(request, exc.message)
            if not form.errors:
                form.add_error(None, exc.message)
        else:
            messages.success(request, _("Replaced by the next household of the reserve."))
            return redirect("survey_substitutions", public_id=survey.public_id, code=code)
    return render(
        request,
        "surveys/substitutions.html",
        {
            "survey": survey,
            "community": community,
            "draw": draw,
            "households": draw.households.select_related("household", "replaced_by").order_by(
                "slot", "position"
            ),
            "reasons": SubstitutionReason.choices,
            "rate": svc.percent(svc.substitution_rate(draw)),
            "form": form,
            # The row whose form was sent shows its error and choice; any other refusal above.
            "posted_drawn": _posted_row(form, draw),
        },
    )


def _answers_from(post: Any, survey: SurveyRound) -> dict[str, str]:
    return {q.code: post.get(q.code, "") for q in survey.instrument.questions.all()}


def answer_page(request: HttpRequest, code: str = "") -> HttpResponse:
    """The public answer page (no login, phone-sized): the code from the door card opens the
    questionnaire once. Tries are limited per code and per community's survey, not per address
    (surveys/throttle.py)."""
    code = throttle.normalise(code or request.GET.get("code", ""))
    meta = AnswerPageForm(request.POST if request.method == "POST" else None)
    # A damaged hidden field is read as absent: a stamp the throttle cannot read, a new entry.
    sent = meta.cleaned_data if meta.is_valid() else {"opened": "", "client_id": None}
    wait = throttle.wait(code, sent["opened"]) if code else None
    if wait is not None:
        response = render(
            request, "surveys/answer.html", {"code": "", "too_many": wait.message}, status=429
        )
        response["Retry-After"] = str(wait.seconds)
        return response
    drawn = (
        Drawn.objects.select_related("draw__survey__instrument", "draw__community")
        .filter(code=code)
        .first()
        if code
        else None
    )
    outcome = None
    errors: dict[str, str] = {}
    if request.method == "POST" and drawn is not None:
        outcome = svc.answer(
            code=code,
            answers=_answers_from(request.POST, drawn.draw.survey),
            client_id=sent["client_id"],
            actor=request.user,
        )
        errors = outcome.errors
    usable = (
        drawn is not None
        and drawn.in_sample
        and not drawn.used
        and drawn.draw.survey.closed_at is None
    )
    # A try costs one when it neither opens nor answers the questionnaire (a missing answer in
    # a form sent with a good code is the resident's slip, not a try).
    refused = not usable if outcome is None else not (outcome.stored or outcome.errors)
    if code and refused:
        throttle.failed(code, real=drawn is not None)
    response = render(
        request,
        "surveys/answer.html",
        {
            "code": code,
            "drawn": drawn,
            "usable": usable,
            "outcome": outcome,
            "errors": errors,
            "questions": drawn.draw.survey.instrument.questions.all() if drawn else [],
            "posted": request.POST if request.method == "POST" else {},
            "client_id": uuid.uuid4(),
            "opened": throttle.opened(code) if usable else "",
        },
    )
    response["X-Robots-Tag"] = "noindex"
    response["Cache-Control"] = "no-store"
    return response


def _paper(request: HttpRequest, data: dict[str, Any], answers: dict[str, str]) -> dict[str, Any]:
    """One keying of a paper form, or its settlement by the supervisor: what the page shows."""
    common = {"code": data["code"], "answers": answers, "collector": data["collector"]}
    if data["settle"] == "yes":
        svc.paper_finalise(actor=request.user, **common)
        return {"status": "final", "diff": {}, **common}
    status, diff = svc.paper_enter(actor=request.user, **common)
    return {"status": status, "diff": diff, **common}


@login_required
def enter(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Door-to-door entry by the survey team (tablet) and paper keying, on the same codes."""
    survey = _runner_survey(request, public_id)
    result: dict[str, Any] = {}
    form = EntryForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        answers = _answers_from(request.POST, survey)
        result = {"code": request.POST.get("code", "")[:40], "answers": answers}
        try:
            if not form.is_valid():
                raise ApplicationError(_("Nothing was saved: correct the fields marked."))
            data = form.cleaned_data
            if data["mode"] == Mode.PAPER:
                result.update(_paper(request, data, answers))
            else:
                outcome = svc.answer(
                    code=data["code"],
                    answers=answers,
                    mode=Mode.TABLET,
                    collector=data["collector"],
                    client_id=data["client_id"],
                    actor=request.user,
                )
                if not outcome.stored:
                    raise ApplicationError(outcome.message)
                messages.success(request, outcome.message)
                return redirect("survey_enter", public_id=survey.public_id)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            if not form.errors:
                form.add_error(None, exc.message)
    return render(
        request,
        "surveys/enter.html",
        {
            "survey": survey,
            "questions": survey.instrument.questions.all(),
            "form": form,
            "result": result,
            "client_id": uuid.uuid4(),
        },
    )


@login_required
def results(request: HttpRequest, public_id: Any, code: str) -> HttpResponse:
    """One community's figures: per item the rate or mean, sample, response and substitution
    rates, the interval, the flags and the computed points; the assessor of the item's
    department confirms or overrides here. Breakdowns hide every cell under five answers."""
    from civicmark.campaigns.models import Enrollment

    survey = _survey(request, public_id)
    community = _community(survey, code)
    if not authz.divisions_for_user(request.user).filter(pk=community.pk).exists():
        raise Http404
    enrollment = Enrollment.objects.get(campaign=survey.round.campaign, community=community)
    form = PointsForm(
        request.POST if request.method == "POST" else None,
        items=survey.round.campaign.standard.items.all(),
    )
    if request.method == "POST":
        try:
            if not form.is_valid():
                raise ApplicationError(_("Nothing was saved: correct the fields marked."))
            data = form.cleaned_data
            svc.survey_confirm(
                actor=request.user,
                survey=survey,
                enrollment=enrollment,
                item=data["item"],
                points=data["points"],
                reason=data["reason"],
                # The version of his score the page showed: a change made since is a conflict.
                expected_version=data["version"],
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            if not form.errors:
                form.add_error(None, exc.message)
        else:
            messages.success(request, _("Points recorded in the round's scores."))
            return redirect("survey_results", public_id=survey.public_id, code=code)
    from civicmark.assessments.access import score_refusal
    from civicmark.scoring.models import Score

    mine = {
        s.item_id: s
        for s in Score.objects.filter(
            round=survey.round, enrollment=enrollment, assessor_id=request.user.pk
        )
    }
    rows = []
    counted = svc.counted_answers(survey, community)  # read once for every question
    for question in survey.instrument.questions.select_related("item"):
        result = (
            svc.item_result(survey, community, question.item, counted=counted)
            if question.item
            else None
        )
        rows.append(
            {
                "question": question,
                "result": result,
                "breakdown": svc.breakdown(survey, community, question, counted),
                "score": mine.get(question.item_id) if question.item_id else None,
                "may_confirm": question.item is not None
                and score_refusal(request.user, survey.round, enrollment, question.item) is None,
            }
        )
    return render(
        request,
        "surveys/results.html",
        {
            "survey": survey,
            "community": community,
            "rows": rows,
            "min_cell": svc.MIN_CELL,
            "form": form,
            "posted_item": form.data.get("item", "") if form.is_bound else "",
        },
    )


@login_required
def export(request: HttpRequest, public_id: Any, kind: str) -> HttpResponse:
    """`answers`: every response with its community, mode and collector (no date, in no order
    of time), and a codebook sheet (for the survey office). `open`: the open-data file, answers and community only, no
    code, address, phone, date or collector, and no community with fewer than five answers."""
    from civicmark.core.tabular import write_table

    survey = _runner_survey(request, public_id)
    questions = list(survey.instrument.questions.all())
    responses = (
        Response.objects.filter(survey=survey)
        .select_related("community")
        # In an order that says nothing of when each answer came (a random id, not the order
        # of storing): the office that watches which door-card codes are used must not line
        # them up with the answers (ADR 9).
        .order_by("community__code", "public_id")
    )
    out = io.BytesIO()
    if kind == "answers":
        header = [
            "response",
            "community",
            "mode",
            "collector",
            *[q.code for q in questions],
        ]
        rows = [
            [
                str(r.public_id)[:8],
                r.community.code,
                r.mode,
                r.collector,
                *[r.answers.get(q.code, "") for q in questions],
            ]
            for r in responses
        ]
        codebook = [
            (f"{q.code}: {q.text}", "; ".join(f"{a['code']}={a['label']}" for a in q.scale))
            for q in questions
        ]
        write_table(out, header, rows, fmt="xlsx", sheet="answers", notes=codebook)
    elif kind == "open":
        counts: dict[int, int] = {}
        for r in responses:
            counts[r.community_id] = counts.get(r.community_id, 0) + 1
        header = ["community", *[q.code for q in questions]]
        rows = [
            [r.community.name, *[r.answers.get(q.code, "") for q in questions]]
            for r in responses
            if counts[r.community_id] >= svc.MIN_CELL
        ]
        write_table(out, header, rows, fmt="csv")
    else:
        raise Http404
    name = f"survey-{str(survey.public_id)[:8]}-{kind}." + ("xlsx" if kind == "answers" else "csv")
    response = HttpResponse(
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if kind == "answers"
        else "text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = content_disposition(*name.rsplit(".", 1))
    return response


@login_required
def frame_upload(request: HttpRequest, code: str) -> HttpResponse:
    """A community's household list (the survey frame), from a spreadsheet."""
    community = authz.get_visible_or_404(
        authz.ledger_communities(request.user), request.user, code=code
    )
    errors: list[Any] = []
    if request.method == "POST":
        try:
            data, name = posted_file(request, _("Choose the household list file."))
            n = svc.frame_import(actor=request.user, community=community, data=data, filename=name)
        except ImportRefused as exc:
            errors = exc.errors
            messages.error(request, _("Nothing was imported: correct the rows listed below."))
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("%(n)d households in the list.") % {"n": n})
            return redirect("survey_frame", code=code)
    return render(
        request,
        "surveys/frame.html",
        {"community": community, "size": _frame_size(community), "errors": errors},
    )
