"""The calibration pages (thin: parse, select, call one service, render). The lead's pages answer
404 to anyone else ("shown to the lead only"); a member's sheet answers 404 to anyone off the
exercise's panel."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicmark.accounts import authz
from civicmark.campaigns.models import AcceptanceRound
from civicmark.campaigns.selectors import rounds_for_user
from civicmark.core.errors import ApplicationError
from civicmark.divisions.models import Division
from civicmark.quality import calibration
from civicmark.quality.forms import ExerciseForm, SheetCardForm
from civicmark.quality.models import CalibrationExercise, CalibrationScore


def _round(request: HttpRequest, slug: str, number: int) -> AcceptanceRound:
    return authz.get_visible_or_404(
        rounds_for_user(request.user), request.user, campaign__slug=slug, number=number
    )


def _led_round(request: HttpRequest, slug: str, number: int) -> AcceptanceRound:
    round_ = _round(request, slug, number)
    if not calibration.may_lead(request.user, round_):
        raise Http404
    return round_


def _exercise(round_: AcceptanceRound, public_id: Any) -> CalibrationExercise:
    found = round_.calibrations.select_related("community").filter(public_id=public_id).first()
    if found is None:
        raise Http404
    return found


def _exercise_form(round_: AcceptanceRound, data: Any = None) -> ExerciseForm:
    communities = Division.objects.filter(enrollments__campaign=round_.campaign).order_by("path")
    return ExerciseForm(
        data,
        communities=communities,
        items=calibration.calibratable_items(round_),
        initial=None if data else {"items": list(calibration.calibratable_items(round_)[:10])},
    )


@login_required
def calibration_list(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """The round's exercises and the form that opens one (the lead only)."""
    round_ = _led_round(request, slug, number)
    form = _exercise_form(round_, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            exercise = calibration.calibration_open(
                actor=request.user,
                round_=round_,
                items=form.cleaned_data["items"],
                community=form.cleaned_data["community"],
                evidence=form.cleaned_data["evidence"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Calibration exercise opened for the panel."))
            return redirect(
                "calibration_detail", slug=slug, number=number, public_id=exercise.public_id
            )
    return render(
        request,
        "quality/calibration_list.html",
        {
            "campaign": round_.campaign,
            "round": round_,
            "exercises": calibration.exercises_led(request.user, round_),
            "form": form,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
def calibration_detail(
    request: HttpRequest, slug: str, number: int, public_id: Any
) -> HttpResponse:
    """Agreement per item and per assessor, the panel's alpha, the outliers named."""
    round_ = _led_round(request, slug, number)
    exercise = _exercise(round_, public_id)
    return render(
        request,
        "quality/calibration_detail.html",
        {
            "campaign": round_.campaign,
            "round": round_,
            "exercise": exercise,
            "figures": calibration.calibration_figures(exercise),
            "few": calibration.stats.FEW_SHARED,
        },
    )


@login_required
@require_POST
def calibration_close(request: HttpRequest, slug: str, number: int, public_id: Any) -> HttpResponse:
    round_ = _led_round(request, slug, number)
    exercise = _exercise(round_, public_id)
    try:
        calibration.calibration_close(actor=request.user, exercise=exercise)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Calibration exercise closed."))
    return redirect("calibration_detail", slug=slug, number=number, public_id=public_id)


def _member(request: HttpRequest, exercise: CalibrationExercise) -> bool:
    return exercise.members.filter(pk=request.user.pk or 0).exists()


@login_required
def calibration_sheet(request: HttpRequest, slug: str, number: int, public_id: Any) -> HttpResponse:
    """A panel member's own sheet: a card per item, saved all or none."""
    round_ = _round(request, slug, number)
    exercise = _exercise(round_, public_id)
    if not _member(request, exercise):
        raise Http404
    items = list(exercise.items.order_by("order", "code"))
    mine = {
        s.item_id: s
        for s in CalibrationScore.objects.filter(exercise=exercise, assessor_id=request.user.pk)
    }
    data = request.POST if request.method == "POST" else None
    cards = [SheetCardForm(data, item=i, score=mine.get(i.pk)) for i in items]
    status = 200
    if data is not None:
        saved = _save_sheet(request, exercise, cards)
        if saved:
            return redirect("calibration_sheet", slug=slug, number=number, public_id=public_id)
        status = 400
    return render(
        request,
        "quality/calibration_sheet.html",
        {
            "campaign": round_.campaign,
            "round": round_,
            "exercise": exercise,
            "cards": cards,
            "done": len(mine),
            "total": len(items),
            "locked": not exercise.is_open,
        },
        status=status,
    )


def _save_sheet(request: HttpRequest, exercise: CalibrationExercise, cards: list[Any]) -> bool:
    """The typed cards through the service; a refusal goes beside its field, nothing saved."""
    typed = [c for c in cards if not c.is_blank()]
    if not all(c.is_valid() for c in typed):
        messages.error(request, _("Nothing was saved: correct the items marked below."))
        return False
    if not typed:
        messages.info(request, _("Nothing was saved: no points were typed."))
        return True
    entries = [
        calibration.SheetEntry(c.item, c.cleaned_data["points"], c.cleaned_data["reason"])
        for c in typed
    ]
    try:
        calibration.calibration_sheet_save(actor=request.user, exercise=exercise, entries=entries)
    except calibration.SheetErrors as exc:
        by_item = {c.item.pk: c for c in typed}
        for pk, error in exc.errors.items():
            by_item[pk].refuse(error)
        messages.error(request, exc.message)
        return False
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return False
    messages.success(request, _("Calibration sheet saved."))
    return True


@login_required
def round_drift(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """Each assessor's drift against his peers on the items they shared in the round."""
    round_ = _led_round(request, slug, number)
    return render(
        request,
        "quality/round_drift.html",
        {
            "campaign": round_.campaign,
            "round": round_,
            "rows": calibration.round_drift(round_),
            "few": calibration.stats.FEW_SHARED,
        },
    )
