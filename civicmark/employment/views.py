"""Pages of the employment station. Thin: each reads through the authorization layer and writes
through one service. ID numbers are shown masked everywhere; the full number only after a reveal
with a reason, on the person's page, once."""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from civicmark.accounts import authz
from civicmark.core.errors import ApplicationError
from civicmark.core.http import public_url
from civicmark.core.names import content_disposition, is_plain
from civicmark.core.parsing import (
    ParseError,
    parse_date,
    parse_year,
)
from civicmark.core.uploads import posted_file
from civicmark.divisions.models import Division, Level
from civicmark.employment import indicators, pii, rules
from civicmark.employment import services as svc
from civicmark.employment.forms import (
    ActionForm,
    CheckInForm,
    ConsentForm,
    EmployerForm,
    FairEmployerForm,
    FairForm,
    FollowUpForm,
    HouseholdForm,
    MoveForm,
    ReferForm,
    ResidentForm,
    RevealForm,
    ServiceForm,
    StatusForm,
    VacancyDecisionForm,
    VacancyForm,
    coded,
)
from civicmark.employment.models import (
    OPEN_REFERRAL,
    Household,
    JobFair,
    Reconciliation,
    Referral,
    ReferralState,
    Resident,
    ServiceKind,
    Status,
    Vacancy,
    VacancyState,
    ZeroEmploymentCase,
)
from civicmark.employment.selectors import households_for_user, residents_for_user


def _today() -> dt.date:
    return timezone.localdate()


def _date(raw: str, field: str) -> dt.date:
    try:
        day = parse_date(raw)
    except ParseError as exc:
        raise ApplicationError(f"{field}: {exc.message}") from None
    if day is None:
        raise ApplicationError(_("%s: give a date as YYYY-MM-DD.") % field)
    return day


def _community(request: HttpRequest, code: str) -> Division:
    return authz.get_visible_or_404(authz.ledger_communities(request.user), request.user, code=code)


@login_required
def names(request: HttpRequest) -> HttpResponse:
    """Suggestions for the station's name boxes (core.lookup): residents by name, households by
    address, only within the ledgers this person keeps (authz.ledger_scope), optionally within
    one division (`within`, a fair's or a ledger's); anyone else is never offered."""
    from civicmark.core.lookup import labelled, search

    field = request.GET.get("field", "q")
    text = (request.GET.get(field, "") or request.GET.get("q", ""))[:100]
    if request.GET.get("kind") == "household":
        queryset: Any = coded(households_for_user(request.user), name="address")
        path = "community__path"
    else:
        queryset = coded(residents_for_user(request.user))
        path = "household__community__path"
    code = request.GET.get("within", "")[:40]
    within = Division.objects.filter(code=code).first() if code and is_plain(code) else None
    if within is not None:
        queryset = queryset.filter(**{f"{path}__startswith": within.path})
    found = search(queryset, text)
    shown = [
        (labelled(o), o.address if isinstance(o, Household) else f"{o.masked_id} · {o.household}")
        for o in found
    ]
    return render(request, "employment/name_suggestions.html", {"found": shown})


@login_required
def station_home(request: HttpRequest) -> HttpResponse:
    """The communities whose ledgers this person keeps, those with open zero-employment cases
    first, fifty a page: one aggregate query whatever the number of communities."""
    from django.core.paginator import Paginator
    from django.db.models import Count, Min, Q

    today = _today()
    scope = authz.ledger_communities(request.user)
    open_case = Q(households__zero_cases__closed_on__isnull=True)
    communities = scope.annotate(
        residents=Count("households__members", distinct=True),
        open_cases=Count("households__zero_cases", filter=open_case, distinct=True),
        next_deadline=Min("households__zero_cases__deadline", filter=open_case),
    ).order_by("-open_cases", "next_deadline", "path")
    page = Paginator(communities, 50).get_page(request.GET.get("page"))
    pending = Vacancy.objects.filter(state=VacancyState.PENDING, community__in=scope)
    reviewable = [
        v
        for v in pending.select_related("community", "employer")[:100]
        if authz.can_review_vacancy(request.user, v.community)
    ]
    return render(
        request,
        "employment/home.html",
        {"page": page, "today": today, "reviewable": reviewable},
    )


NOT_SAVED = _lazy("Nothing was saved: correct the fields marked.")


def _refused(form: Any, exc: ApplicationError) -> None:
    """A service's refusal shown above the form it answers, if no field holds an error already."""
    if form is not None and not form.errors:
        form.add_error(None, exc.message)


@login_required
def ledger(request: HttpRequest, code: str) -> HttpResponse:
    """The community's households and residents; the station adds them one by one or imports a
    sheet. A refused form comes back with everything typed and the error beside its field."""
    from civicmark.core.errors import ImportRefused

    community = _community(request, code)
    today = _today()
    import_errors: list[Any] = []
    post = request.POST if request.method == "POST" else None
    action = ActionForm(
        post, actions=["import", "household", "resident"], default="resident"
    ).chosen()
    sensitive = authz.can_see_sensitive(request.user)
    household_form = HouseholdForm(post if action == "household" else None)
    resident_form = ResidentForm(
        post if action == "resident" else None,
        households=Household.objects.filter(community=community),
        within=community.code,
        sensitive=sensitive,
    )
    if post is not None:
        form: Any = {"household": household_form, "resident": resident_form}.get(action or "")
        try:
            if action is None:
                raise ApplicationError(_("Unknown action."))
            if action == "import":
                data, name = posted_file(request, _("Choose the ledger file."))
                n = svc.ledger_import(
                    actor=request.user, community=community, data=data, filename=name, today=today
                )
                messages.success(request, _("%(n)d residents added.") % {"n": n})
                return redirect("employment_ledger", code=code)
            if not form.is_valid():
                raise ApplicationError(str(NOT_SAVED))
            if action == "household":
                svc.household_add(actor=request.user, community=community, **form.cleaned_data)
            else:
                svc.resident_add(actor=request.user, **form.cleaned_data)
        except ImportRefused as exc:
            messages.error(request, _("Nothing was imported: correct the rows listed below."))
            import_errors = exc.errors
        except ApplicationError as exc:
            messages.error(request, exc.message)
            _refused(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("employment_ledger", code=code)
    households: list[Any] = list(
        Household.objects.filter(community=community).prefetch_related(
            "members__periods", "zero_cases"
        )
    )
    for household in households:
        member: Any
        for member in household.members.all():
            member.today = svc.status_on(member, today)
            member.is_4050 = rules.is_4050(member.sex, member.birth_date, today)
        household.open_case = next(
            (z for z in household.zero_cases.all() if z.closed_on is None), None
        )
        household.zero_now = svc.is_zero_employment(household, today)
    return render(
        request,
        "employment/ledger.html",
        {
            "community": community,
            "households": households,
            "today": today,
            "sensitive": sensitive,
            "import_errors": import_errors,
            "household_form": household_form,
            "resident_form": resident_form,
        },
    )


RESIDENT_FORMS: dict[str, type[Any]] = {
    "reveal": RevealForm,
    "status": StatusForm,
    "refer": ReferForm,
    "move": MoveForm,
    "consent": ConsentForm,
    "follow_up": FollowUpForm,
    "service": ServiceForm,
}


def _resident_act(
    request: HttpRequest, resident: Resident, action: str, data: dict[str, Any], today: dt.date
) -> str:
    """One of a resident's page forms, read and checked: the service it names. Returns the
    revealed ID number for a reveal, else ""."""
    user = request.user
    if action == "reveal":
        return svc.id_reveal(actor=user, resident=resident, reason=data["reason"])
    if action == "status":
        svc.status_set(actor=user, resident=resident, **data)
    elif action == "refer":
        vacancy = Vacancy.objects.filter(public_id=data["vacancy"]).first()
        if vacancy is None:
            raise ApplicationError(_("Choose a post."))
        svc.referral_create(actor=user, resident=resident, vacancy=vacancy, today=today)
    elif action == "move":
        referral = resident.referrals.filter(public_id=data["referral"]).first()
        if referral is None:
            raise ApplicationError(_("That referral is not this person's."))
        svc.referral_move(
            actor=user,
            referral=referral,
            to=data["to"],
            day=data["day"] or today,
            reason=data["reason"],
        )
    elif action == "consent":
        svc.consent_record(
            actor=user, resident=resident, purpose=svc.SHARE_PROFILE, given=data["given"] == "yes"
        )
    elif action == "follow_up":
        from civicmark.employment.models import FollowUp

        follow_up = FollowUp.objects.filter(
            referral__resident=resident, pk=data["follow_up"]
        ).first()
        if follow_up is None:
            raise ApplicationError(_("That follow-up is not this person's."))
        svc.follow_up_record(
            actor=user,
            follow_up=follow_up,
            day=data["day"] or today,
            still_employed=data["still_employed"] == "yes",
        )
    else:
        svc.service_record(
            actor=user,
            resident=resident,
            kind=data["kind"],
            on=data["on"] or today,
            note=data["note"],
        )
    return ""


@login_required
def resident_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    resident = authz.get_visible_or_404(
        residents_for_user(request.user), request.user, public_id=public_id
    )
    community = resident.household.community
    today = _today()
    revealed = ""
    post = request.POST if request.method == "POST" else None
    action = ActionForm(post, actions=list(RESIDENT_FORMS)).chosen()
    forms_ = {
        name: form_class(post if action == name else None, auto_id=f"{name}_%s")
        for name, form_class in RESIDENT_FORMS.items()
    }
    if post is not None:
        form = forms_.get(action or "")
        try:
            if form is None:
                raise ApplicationError(_("Unknown action."))
            if not form.is_valid():
                raise ApplicationError(str(NOT_SAVED))
            revealed = _resident_act(request, resident, action or "", form.cleaned_data, today)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            _refused(form, exc)
        else:
            if not revealed:
                messages.success(request, _("Saved."))
                return redirect("employment_resident", public_id=resident.public_id)
    referred = set(resident.referrals.values_list("vacancy_id", flat=True))
    open_posts = [
        v for v in svc.open_vacancies(community.parent or community, today) if v.pk not in referred
    ]
    wish = rules.Wish(
        resident.wants_category, resident.wants_hours, resident.max_km, resident.min_wage
    )
    reasons = {
        "category": _("wanted category"),
        "hours": _("wanted hours"),
        "near": _("within 3 km"),
    }
    ranked = rules.match(
        wish,
        [rules.Post(v, v.category, v.hours, v.distance_km, v.wage_max) for v in open_posts],
    )
    referrals: list[Any] = list(
        resident.referrals.select_related("vacancy__employer").prefetch_related(
            "steps", "follow_ups"
        )
    )
    for referral in referrals:
        referral.moves = [ReferralState(s) for s in rules.MOVES[referral.state]]
    return render(
        request,
        "employment/resident.html",
        {
            "resident": resident,
            "community": community,
            "periods": resident.periods.all(),
            "statuses": Status.choices,
            "referrals": referrals,
            "matches": [(post, points, [reasons[w] for w in why]) for post, points, why in ranked],
            "services": resident.services.all()[:50],
            "service_kinds": ServiceKind.choices,
            "revealed": revealed,
            "can_reveal": authz.can_reveal_id(request.user, community),
            "sensitive": authz.can_see_sensitive(request.user),
            "today": today,
            "is_4050": rules.is_4050(resident.sex, resident.birth_date, today),
            "open_states": OPEN_REFERRAL,
            "consent": svc.has_consent(resident),
            "open_case": resident.household.zero_cases.filter(closed_on__isnull=True).first(),
            "forms": forms_,
            "action": action,
        },
    )


@login_required
def job_bank(request: HttpRequest, code: str) -> HttpResponse:
    """The community's posts; the station verifies employers and files posts for review. A
    refused form comes back with everything typed and the error beside its field."""
    community = _community(request, code)
    today = _today()
    employers = svc.employers_near(community)
    post = request.POST if request.method == "POST" else None
    action = ActionForm(post, actions=["employer", "file", "approve", "reject", "extend"]).chosen()
    employer_form = EmployerForm(post if action == "employer" else None)
    vacancy_form = VacancyForm(post if action == "file" else None, employers=employers)
    decision = VacancyDecisionForm(post if action in ("approve", "reject", "extend") else None)
    if post is not None:
        try:
            if action is None:
                raise ApplicationError(_("Unknown action."))
            if action == "employer":
                if not employer_form.is_valid():
                    raise ApplicationError(_("Nothing was saved: correct the fields marked."))
                svc.employer_verify(
                    actor=request.user, division=community, **employer_form.cleaned_data
                )
            elif action == "file":
                if not vacancy_form.is_valid():
                    raise ApplicationError(_("Nothing was saved: correct the fields marked."))
                data = dict(vacancy_form.cleaned_data)
                data.pop("employer")
                data["distance_km"] = data["distance_km"] or Decimal(0)
                svc.vacancy_file(
                    actor=request.user,
                    employer=vacancy_form.chosen_employer(),
                    community=community,
                    **data,
                )
            else:
                if not decision.is_valid():
                    raise ApplicationError(
                        " ".join(str(m) for e in decision.errors.values() for m in e)
                    )
                vacancy = Vacancy.objects.filter(
                    community=community, public_id=decision.cleaned_data["vacancy"]
                ).first()
                if vacancy is None:
                    raise ApplicationError(_("That post is not in this community."))
                if action == "extend":
                    svc.vacancy_extend(actor=request.user, vacancy=vacancy, today=today)
                else:
                    svc.vacancy_review(
                        actor=request.user,
                        vacancy=vacancy,
                        approve=action == "approve",
                        today=today,
                        note=decision.cleaned_data["note"],
                    )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            _refused({"employer": employer_form, "file": vacancy_form}.get(action or ""), exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("employment_jobs", code=code)
    vacancies: list[Any] = list(
        Vacancy.objects.filter(community=community).select_related("employer")
    )
    for v in vacancies:
        v.open_now = v.is_open(today)
        v.soon = v.open_now and v.expires_on and (v.expires_on - today).days <= svc.REMIND_DAYS
    return render(
        request,
        "employment/jobs.html",
        {
            "community": community,
            "vacancies": vacancies,
            "employer_form": employer_form,
            "vacancy_form": vacancy_form,
            "can_review": authz.can_review_vacancy(request.user, community),
            "public_url": reverse("public_jobs", args=[community.code]),
        },
    )


@login_required
def indicator_page(request: HttpRequest, code: str) -> HttpResponse:
    """The Labour Bureau's figures for one community and period, each with its drill-down;
    readable by the assessors and viewers above it, de-identified."""
    community = authz.get_visible_or_404(
        authz.divisions_for_user(request.user).filter(level=Level.COMMUNITY),
        request.user,
        code=code,
    )
    today = _today()
    try:
        start = (
            _date(request.GET.get("from", ""), _("from"))
            if request.GET.get("from")
            else dt.date(today.year, 1, 1)
        )
        end = _date(request.GET.get("to", ""), _("to")) if request.GET.get("to") else today
    except ApplicationError as exc:
        messages.error(request, exc.message)
        start, end = dt.date(today.year, 1, 1), today
    found = indicators.for_community(community, start, end)
    rows = []
    for i in found:
        n, d = i.counts()
        rows.append(
            {"i": i, "n": n, "d": d, "rate": round(100 * n / d, 1) if d else None, "rows": i.rows()}
        )
    return render(
        request,
        "employment/indicators.html",
        {"community": community, "rows": rows, "start": start, "end": end},
    )


# --- Public pages: no login -----------------------------------------------------------------


def public_jobs(request: HttpRequest, code: str) -> HttpResponse:
    """The station's job board for residents' phones: open posts only (approved, not expired),
    the employer's name, wage and hours; no personal data of anyone."""
    division = Division.objects.filter(code=code, level__in=[Level.COMMUNITY, Level.TOWN]).first()
    if division is None:
        raise Http404
    posts = svc.open_vacancies(division, _today())
    response = render(
        request, "employment/public_jobs.html", {"division": division, "posts": posts}
    )
    response["Cache-Control"] = "max-age=60"
    return response


def public_poster(request: HttpRequest, code: str) -> HttpResponse:
    """An A4 poster for the station's wall: the QR code of the public job page."""
    import segno

    division = Division.objects.filter(code=code, level__in=[Level.COMMUNITY, Level.TOWN]).first()
    if division is None:
        raise Http404
    url = public_url(request, reverse("public_jobs", args=[division.code]))
    qr = segno.make(url, error="m").svg_data_uri(scale=8, border=2)
    return render(request, "employment/poster.html", {"division": division, "qr": qr, "url": url})


@login_required
def referral_slip(request: HttpRequest, public_id: Any) -> HttpResponse:
    """What the station sends the employer: an anonymous profile (age band, sex, what the person
    looks for) until the resident consents; with consent, the name and phone too."""
    referral = (
        Referral.objects.select_related("resident__household__community", "vacancy__employer")
        .filter(public_id=public_id)
        .first()
    )
    if referral is None or not authz.can_keep_ledger(
        request.user, referral.resident.household.community
    ):
        raise Http404
    resident = referral.resident
    age = rules.age_on(resident.birth_date, _today())
    return render(
        request,
        "employment/slip.html",
        {
            "referral": referral,
            "resident": resident,
            "age_band": f"{age // 5 * 5}–{age // 5 * 5 + 4}",
            "consent": svc.has_consent(resident),
        },
    )


@login_required
def fairs(request: HttpRequest, code: str) -> HttpResponse:
    community = _community(request, code)
    form = FairForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        try:
            if not form.is_valid():
                raise ApplicationError(_("Nothing was saved: correct the fields marked."))
            fair = svc.fair_create(actor=request.user, division=community, **form.cleaned_data)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            if not form.errors:
                form.add_error(None, exc.message)
        else:
            return redirect("employment_fair", public_id=fair.public_id)
    found = JobFair.objects.filter(division=community)
    return render(
        request,
        "employment/fairs.html",
        {
            "community": community,
            "fairs": [(f, svc.fair_figures(f)) for f in found],
            "form": form,
        },
    )


@login_required
def fair_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    fair = JobFair.objects.select_related("division").filter(public_id=public_id).first()
    if fair is None or not authz.can_keep_ledger(request.user, fair.division):
        raise Http404
    post = request.POST if request.method == "POST" else None
    action = ActionForm(post, actions=["employer", "check_in"], default="check_in").chosen()
    employers = svc.employers_near(fair.division)
    residents = residents_for_user(request.user).filter(
        household__community__path__startswith=fair.division.path
    )
    employer_form = FairEmployerForm(post if action == "employer" else None, employers=employers)
    check_in_form = CheckInForm(
        post if action == "check_in" else None, residents=residents, within=fair.division.code
    )
    if post is not None:
        form: Any = {"employer": employer_form, "check_in": check_in_form}.get(action or "")
        try:
            if form is None:
                raise ApplicationError(_("Unknown action."))
            if not form.is_valid():
                raise ApplicationError(str(NOT_SAVED))
            if action == "employer":
                svc.fair_add_employer(
                    actor=request.user,
                    fair=fair,
                    employer=form.chosen_employer(),
                    posts=form.cleaned_data["posts"],
                )
            else:
                svc.fair_check_in(actor=request.user, fair=fair, **form.cleaned_data)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            _refused(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("employment_fair", public_id=fair.public_id)
    return render(
        request,
        "employment/fair.html",
        {
            "fair": fair,
            "figures": svc.fair_figures(fair),
            "offers": fair.offers.select_related("employer"),
            "attendance": fair.attendance.select_related("resident"),
            "employer_form": employer_form,
            "check_in_form": check_in_form,
            "days": svc.FAIR_HIRE_DAYS,
        },
    )


@login_required
def reconciliation(request: HttpRequest, code: str) -> HttpResponse:
    from civicmark.core.errors import ImportRefused

    community = _community(request, code)
    errors: list[Any] = []
    if request.method == "POST":
        try:
            data, name = posted_file(
                request, _("Choose the export file of the official system."), max_bytes=5 * 2**20
            )
            run = svc.reconcile(
                actor=request.user, community=community, data=data, filename=name, on=_today()
            )
        except ImportRefused as exc:
            errors = exc.errors
            messages.error(request, _("Nothing was compared: correct the rows listed below."))
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("%(n)d differences found.") % {"n": run.mismatches})
            return redirect("employment_reconcile", code=code)
    labels = dict(Status.choices)
    runs = list(Reconciliation.objects.filter(community=community)[:10])
    for run in runs:  # statuses in the reader's language
        run.details = [
            {
                **d,
                "ledger": labels.get(d["ledger"], d["ledger"]),
                "official": labels.get(d["official"], d["official"]),
            }
            for d in run.details
        ]
    return render(
        request,
        "employment/reconcile.html",
        {"community": community, "runs": runs, "errors": errors},
    )


@login_required
def coverage_page(request: HttpRequest, code: str) -> HttpResponse:
    community = _community(request, code)
    year = _today().year
    with contextlib.suppress(ParseError):  # a year outside 1900-2100 shows this year's
        year = parse_year(request.GET.get("year", "")) or year
    rows = svc.coverage(community, year)
    return render(
        request,
        "employment/coverage.html",
        {
            "community": community,
            "year": year,
            "rows": rows,
            "short": sum(1 for r in rows if r["short"]),
        },
    )


@login_required
def ledger_export(request: HttpRequest, code: str) -> HttpResponse:
    """The ledger as a spreadsheet: ID numbers masked, no phone, no sensitive flags, always."""
    import io

    from civicmark.core.tabular import write_table

    community = _community(request, code)
    today = _today()
    rows = []
    for r in (
        Resident.objects.filter(household__community=community)
        .select_related("household")
        .prefetch_related("periods")
    ):
        period = svc.status_on(r, today)
        rows.append(
            [
                r.household.address,
                r.name,
                r.masked_id,
                r.get_sex_display(),
                r.birth_date,
                period.get_status_display() if period else "",
                "4050" if rules.is_4050(r.sex, r.birth_date, today) else "",
            ]
        )
    out = io.BytesIO()
    write_table(
        out,
        [
            _("household"),
            _("name"),
            _("ID number"),
            _("sex"),
            _("birth date"),
            _("status today"),
            _("groups"),
        ],
        rows,
        fmt="xlsx",
        sheet="ledger",
        notes=[(_("ID numbers are masked; the full number is never exported."), "")],
    )
    response = HttpResponse(
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = content_disposition(
        f"ledger-{community.code}-{today}", "xlsx"
    )
    return response


@login_required
def recognition_notice(request: HttpRequest, code: str) -> HttpResponse:
    """The public notice (公示) of recognitions: names and ID numbers masked by the page itself,
    whoever prints it; no address, no phone, no sensitive flag."""
    from civicmark.employment.models import Recognition

    community = _community(request, code)
    today = _today()
    since = today - dt.timedelta(days=30)
    people = [
        {
            "who": pii.mask_name(r.resident.name),
            "id": r.resident.masked_id,
            "what": r.group.name,
            "on": r.recognised_on,
        }
        for r in Recognition.objects.filter(
            resident__household__community=community, recognised_on__gte=since
        ).select_related("resident", "group")
    ]
    households = ZeroEmploymentCase.objects.filter(
        household__community=community, recognised_on__gte=since
    ).count()
    return render(
        request,
        "employment/notice.html",
        {
            "community": community,
            "people": people,
            "households": households,
            "since": since,
            "today": today,
        },
    )


@login_required
def sign_employment_figures(
    request: HttpRequest, slug: str, number: int, code: str
) -> HttpResponse:
    """The Labour assessor signs the figures shown beside his items on the scoring page
    (`employment_tags.employment_figures`); back to that page."""
    from civicmark.assessments import panels
    from civicmark.campaigns.selectors import rounds_for_user

    if request.method != "POST":
        raise Http404
    round_ = authz.get_visible_or_404(
        panels.with_choices(rounds_for_user(request.user)),
        request.user,
        campaign__slug=slug,
        number=number,
    )
    enrollment = authz.get_visible_or_404(
        round_.campaign.enrollments.select_related("community").filter(
            authz.within_scope(request.user, "community__path")
        ),
        request.user,
        community__code=code,
    )
    try:
        svc.figures_sign(
            actor=request.user, round_=round_, enrollment=enrollment, today=timezone.localdate()
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("The employment figures are signed and kept with the round's evidence.")
        )
    return redirect("score_community", slug=slug, number=number, code=code)
