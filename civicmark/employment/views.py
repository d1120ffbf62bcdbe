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

from civicmark.accounts import authz
from civicmark.core.errors import ApplicationError
from civicmark.core.http import posted_uuid, public_url
from civicmark.core.names import content_disposition
from civicmark.core.parsing import (
    ParseError,
    parse_date,
    parse_id,
    parse_int,
    parse_year,
)
from civicmark.core.uploads import posted_file
from civicmark.divisions.models import Division, Level
from civicmark.employment import indicators, pii, rules
from civicmark.employment import services as svc
from civicmark.employment.forms import EmployerForm, FairForm, VacancyForm
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
from civicmark.employment.selectors import residents_for_user


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


@login_required
def ledger(request: HttpRequest, code: str) -> HttpResponse:
    community = _community(request, code)
    today = _today()
    import_errors: list[Any] = []
    if request.method == "POST" and request.POST.get("action") == "import":
        from civicmark.core.errors import ImportRefused

        try:
            data, name = posted_file(request, _("Choose the ledger file."))
            n = svc.ledger_import(
                actor=request.user, community=community, data=data, filename=name, today=today
            )
        except ImportRefused as exc:
            messages.error(request, _("Nothing was imported: correct the rows listed below."))
            import_errors = exc.errors
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("%(n)d residents added.") % {"n": n})
            return redirect("employment_ledger", code=code)
    elif request.method == "POST":
        try:
            if request.POST.get("action") == "household":
                svc.household_add(
                    actor=request.user, community=community, address=request.POST.get("address", "")
                )
            else:
                household = (
                    Household.objects.filter(community=community)
                    .filter(public_id=posted_uuid(request.POST.get("household")))
                    .first()
                )
                if household is None:
                    raise ApplicationError(_("Choose the household."))
                svc.resident_add(
                    actor=request.user,
                    household=household,
                    name=request.POST.get("name", ""),
                    id_number=request.POST.get("id_number", ""),
                    phone=request.POST.get("phone", ""),
                    able_to_work=request.POST.get("able_to_work") == "on",
                    disability=request.POST.get("disability") == "on",
                    subsistence=request.POST.get("subsistence") == "on",
                )
        except ApplicationError as exc:
            messages.error(request, exc.message)
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
            "sensitive": authz.can_see_sensitive(request.user),
            "import_errors": import_errors,
        },
    )


@login_required
def resident_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    resident = authz.get_visible_or_404(
        residents_for_user(request.user), request.user, public_id=public_id
    )
    community = resident.household.community
    today = _today()
    revealed = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        post = request.POST
        try:
            if action == "reveal":
                revealed = svc.id_reveal(
                    actor=request.user, resident=resident, reason=post.get("reason", "")
                )
            elif action == "status":
                svc.status_set(
                    actor=request.user,
                    resident=resident,
                    status=post.get("status", ""),
                    start=_date(post.get("start", ""), _("from")),
                    end=_date(post["end"], _("to")) if post.get("end") else None,
                    registration_no=post.get("registration_no", ""),
                    registration_date=_date(post["registration_date"], _("registered on"))
                    if post.get("registration_date")
                    else None,
                    employer=post.get("employer", ""),
                )
            elif action == "refer":
                vacancy = Vacancy.objects.filter(public_id=posted_uuid(post.get("vacancy"))).first()
                if vacancy is None:
                    raise ApplicationError(_("Choose a post."))
                svc.referral_create(
                    actor=request.user, resident=resident, vacancy=vacancy, today=today
                )
            elif action == "move":
                referral = resident.referrals.filter(
                    public_id=posted_uuid(post.get("referral"))
                ).first()
                if referral is None:
                    raise ApplicationError(_("That referral is not this person's."))
                svc.referral_move(
                    actor=request.user,
                    referral=referral,
                    to=post.get("to", ""),
                    day=_date(post.get("day", "") or today.isoformat(), _("date")),
                    reason=post.get("reason", ""),
                )
            elif action == "consent":
                svc.consent_record(
                    actor=request.user,
                    resident=resident,
                    purpose=svc.SHARE_PROFILE,
                    given=post.get("given") == "yes",
                )
            elif action == "follow_up":
                from civicmark.employment.models import FollowUp

                follow_up = FollowUp.objects.filter(
                    referral__resident=resident,
                    pk=parse_id(post.get("follow_up")) or 0,
                ).first()
                if follow_up is None:
                    raise ApplicationError(_("That follow-up is not this person's."))
                svc.follow_up_record(
                    actor=request.user,
                    follow_up=follow_up,
                    day=_date(post.get("day", "") or today.isoformat(), _("date")),
                    still_employed=post.get("still_employed") == "yes",
                )
            elif action == "service":
                svc.service_record(
                    actor=request.user,
                    resident=resident,
                    kind=post.get("kind", ""),
                    on=_date(post.get("on", "") or today.isoformat(), _("date")),
                    note=post.get("note", ""),
                )
            else:
                raise ApplicationError(_("Unknown action."))
        except ApplicationError as exc:
            messages.error(request, exc.message)
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
    action = request.POST.get("action", "") if post is not None else ""
    employer_form = EmployerForm(post if action == "employer" else None)
    vacancy_form = VacancyForm(post if action == "file" else None, employers=employers)
    if post is not None:
        try:
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
            elif action in ("approve", "reject", "extend"):
                vacancy = (
                    Vacancy.objects.filter(community=community)
                    .filter(public_id=posted_uuid(post.get("vacancy")))
                    .first()
                )
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
                        note=post.get("note", ""),
                    )
            else:
                raise ApplicationError(_("Unknown action."))
        except ApplicationError as exc:
            messages.error(request, exc.message)
            form = {"employer": employer_form, "file": vacancy_form}.get(action)
            if form is not None and not form.errors:
                form.add_error(None, exc.message)
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
    if request.method == "POST":
        post = request.POST
        try:
            if post.get("action") == "employer":
                employer = (
                    svc.employers_near(fair.division)
                    .filter(public_id=posted_uuid(post.get("employer")))
                    .first()
                )
                if employer is None:
                    raise ApplicationError(_("Choose a verified employer."))
                try:
                    posts = parse_int(post.get("posts", ""), min_value=1, max_value=32_767)
                    if posts is None:
                        raise ParseError(_("Posts offered is a whole number."))
                except ParseError:
                    raise ApplicationError(_("Posts offered is a whole number.")) from None
                svc.fair_add_employer(actor=request.user, fair=fair, employer=employer, posts=posts)
            else:
                resident = (
                    residents_for_user(request.user)
                    .filter(public_id=posted_uuid(post.get("resident")))
                    .first()
                )
                if resident is None:
                    raise ApplicationError(_("Choose a resident of the ledger."))
                svc.fair_check_in(actor=request.user, fair=fair, resident=resident)
        except ApplicationError as exc:
            messages.error(request, exc.message)
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
            "employers": svc.employers_near(fair.division),
            "residents": residents_for_user(request.user).filter(
                household__community__path__startswith=fair.division.path
            ),
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
