"""Campaign pages: overview, tasks, a community's checklist, meetings and attendance."""

from __future__ import annotations

from datetime import date
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from civicmark.accounts import authz
from civicmark.campaigns import progress, selectors, services
from civicmark.campaigns.forms import AttendanceForm, TaskFileForm, TaskForm, TaskOwnerForm
from civicmark.campaigns.models import (
    MAX_APPEAL_DAYS,
    Campaign,
    MeetingKind,
    MissingEvidence,
    Task,
    TaskStatus,
)
from civicmark.core.errors import ApplicationError
from civicmark.core.files import download
from civicmark.core.formfields import StrictDateField, StrictIntegerField
from civicmark.core.lookup import NamedChoiceField, NamedMultipleField
from civicmark.core.uploads import limit_choices
from civicmark.divisions.models import Division, Level
from civicmark.notifications import escalation
from civicmark.standards.models import Standard
from civicmark.standards.models import Status as StandardStatus
from civicmark.standards.selectors import standards_for_user


def _today() -> date:
    return timezone.localdate()


def _campaign_or_404(request: HttpRequest, slug: str) -> Campaign:
    return authz.get_visible_or_404(
        selectors.campaigns_for_user(request.user), request.user, slug=slug
    )


class CampaignForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("name"), max_length=200)
    year = StrictIntegerField(label=gettext_lazy("year"), min_value=2000, max_value=2100)
    division = NamedChoiceField(kind="division", label=gettext_lazy("run by"))
    standard = forms.ModelChoiceField(
        label=gettext_lazy("standard"), queryset=Standard.objects.none(), to_field_name="public_id"
    )
    # Typed, not a list to pick from: a province would print ten thousand options.
    pilots = NamedMultipleField(
        kind="division",
        level="community",
        label=gettext_lazy("pilot communities"),
        required=False,
        help_text=gettext_lazy("Community names or codes, one a line or separated by commas."),
    )
    # Made from the name when left empty (see campaigns.services.campaign_slug); typed, kept.
    slug = forms.SlugField(
        label=gettext_lazy("identifier"),
        max_length=80,
        required=False,
        help_text=gettext_lazy(
            "Used in addresses and file names. Leave it empty to have one made from the name "
            "and year; letters, digits and hyphens, e.g. anping-2026."
        ),
    )
    missing_evidence = forms.ChoiceField(
        label=gettext_lazy("A self-assessment submitted with items lacking evidence"),
        choices=MissingEvidence.choices,
        initial=MissingEvidence.WARN,
        required=False,  # left out (an older form, the command line): it warns
    )
    appeal_days = StrictIntegerField(
        label=gettext_lazy("Days after a round's results to appeal a score"),
        min_value=0,
        max_value=MAX_APPEAL_DAYS,
        required=False,  # left out: a week
        initial=7,
        help_text=gettext_lazy("0: the campaign takes no appeals."),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        runners = [
            d
            for d in authz.divisions_for_user(user).filter(level__in=[Level.CITY, Level.COUNTY])
            if authz.can_manage_campaigns(user, d)
        ]
        self.runners = Division.objects.filter(pk__in=[d.pk for d in runners])
        self.communities = authz.divisions_for_user(user).filter(level=Level.COMMUNITY)
        cast(NamedMultipleField, self.fields["pilots"]).queryset = self.communities
        limit_choices(
            self,
            division=self.runners,
            standard=standards_for_user(user).filter(status=StandardStatus.PUBLISHED),
        )

    def clean_missing_evidence(self) -> str:
        return self.cleaned_data["missing_evidence"] or MissingEvidence.WARN

    def clean_appeal_days(self) -> int:
        days = self.cleaned_data["appeal_days"]
        return 7 if days is None else days

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        if slug and Campaign.objects.filter(slug=slug).exists():
            raise forms.ValidationError(
                _("A campaign already uses the identifier %s: choose another.") % slug
            )
        return slug


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    """The campaigns in reach; the offices that run campaigns start a new one here."""
    form = CampaignForm(request.POST or None, user=request.user)
    can_create = form.runners.exists()
    if request.method == "POST":
        if not can_create:
            raise Http404
        if form.is_valid():
            data = form.cleaned_data
            try:
                campaign = services.campaign_create(
                    actor=request.user,
                    slug=data["slug"]
                    or services.campaign_slug(data["name"], data["year"], data["division"]),
                    name=data["name"],
                    year=data["year"],
                    division=data["division"],
                    standard=data["standard"],
                    pilots=[d.code for d in data["pilots"]],
                    missing_evidence=data["missing_evidence"],
                    appeal_days=data["appeal_days"],
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                return redirect("campaign_overview", slug=campaign.slug)
    return render(
        request,
        "campaigns/list.html",
        {
            "campaigns": selectors.campaigns_for_user(request.user),
            "form": form if can_create else None,
        },
    )


@login_required
def campaign_overview(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = _campaign_or_404(request, slug)
    today = _today()
    phases = list(campaign.phases.all())
    first, last = min(p.starts_on for p in phases), max(p.due_on for p in phases)
    span = max((last - first).days, 1)
    timeline = [
        {
            "phase": p,
            "left": 100 * (p.starts_on - first).days / span,
            "width": max(100 * (p.due_on - p.starts_on).days / span, 1.5),
        }
        for p in phases
    ]
    # A campaign-wide viewer reads the figures taken off-request (ADR 30); a narrower one counts
    # his own part now.
    figures, as_of, refreshing = progress.for_page(
        request.user, campaign, today, timezone.now(), phases
    )
    return render(
        request,
        "campaigns/overview.html",
        {
            "campaign": campaign,
            "today": today,
            "timeline": timeline,
            "today_left": min(max(100 * (today - first).days / span, 0), 100),
            "first": first,
            "last": last,
            **figures,
            "as_of": as_of,
            "refreshing": refreshing,
            "shown": progress.SHOWN,
            "rounds": campaign.rounds.all(),
            "is_assessor": bool(authz.assessor_departments(request.user)),
            "groups": campaign.working_groups.filter(
                pk__in=authz.working_groups_for_user(request.user)
            ).select_related("division"),
            "can_manage": authz.can_manage_campaigns(request.user, campaign.division),
        },
    )


STATUS_FILTERS = {"overdue", "open", "done", "all"}
TASKS_PAGE = 100
ENROLLED_LISTED = 60  # community codes printed as a hint on the meeting form


@login_required
def task_list(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = _campaign_or_404(request, slug)
    today = _today()
    show = request.GET.get("show", "open")
    show = show if show in STATUS_FILTERS else "open"
    tasks = selectors.visible_tasks(request.user, campaign)
    if show == "overdue":
        tasks = tasks.filter(selectors.overdue_q(today))
    elif show == "open":
        tasks = tasks.exclude(status=TaskStatus.DONE)
    elif show == "done":
        tasks = tasks.filter(status=TaskStatus.DONE)
    division = request.GET.get("division", "")
    if division:
        tasks = tasks.filter(division__path__contains=f"/{division}/")
    # A page at a time (a province's campaign holds 60,000 tasks), never silently cut short.
    page = Paginator(tasks.order_by("due_on", "division__path", "pk"), TASKS_PAGE).get_page(
        request.GET.get("page")
    )
    rows = [
        {
            "task": t,
            "overdue": t.is_overdue(today),
            "can_update": authz.can_update_task(request.user, t),
        }
        for t in page
    ]
    return render(
        request,
        "campaigns/tasks.html",
        {
            "campaign": campaign,
            "rows": rows,
            "page": page,
            "pager_query": urlencode({"show": show, "division": division}),
            "show": show,
            "division": division,
            "statuses": TaskStatus.choices,
            "overdue_count": selectors.visible_tasks(request.user, campaign)
            .filter(selectors.overdue_q(today))
            .count(),
        },
    )


def _task_or_404(request: HttpRequest, campaign: Campaign, public_id: Any) -> Task:
    return authz.get_visible_or_404(
        selectors.visible_tasks(request.user, campaign), request.user, public_id=public_id
    )


def _task_page(
    request: HttpRequest,
    campaign: Campaign,
    task: Task,
    *,
    form: TaskForm | None = None,
    owner_form: TaskOwnerForm | None = None,
    file_form: TaskFileForm | None = None,
) -> HttpResponse:
    """The task with its files, owner and forms; after a refusal, the refused form as typed
    (a refused file answers 422: nothing was attached)."""
    people = authz.users_for_user(request.user)
    return render(
        request,
        "campaigns/task.html",
        {
            "campaign": campaign,
            "task": task,
            "overdue": task.is_overdue(_today()),
            "escalations": escalation.steps_for("task", [task.public_id]).get(task.public_id, []),
            "attachments": task.attachments.all(),
            "can_update": authz.can_update_task(request.user, task),
            "form": form or TaskForm(task=task),
            "owner_form": owner_form or TaskOwnerForm(initial={"owner": task.owner}, people=people),
            "file_form": file_form or TaskFileForm(),
        },
        status=422 if file_form is not None else 200,
    )


@login_required
def task_update(request: HttpRequest, slug: str, public_id: Any) -> HttpResponse:
    """GET: the task with its files and owner; POST: its status and note (from the task's page
    or its row in the list, which it returns to)."""
    campaign = _campaign_or_404(request, slug)
    task = _task_or_404(request, campaign, public_id)
    if request.method != "POST":
        return _task_page(request, campaign, task)
    form = TaskForm(request.POST, task=task)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.task_update(
                actor=request.user, task=task, status=data["status"], note=data["note"]
            )
        except ApplicationError as exc:
            form.add_error(None if task.follows else "status", exc.message)
        else:
            messages.success(request, _("Task “%s” updated.") % task.title)
            return redirect(data["back"] or f"/campaigns/{campaign.slug}/tasks/")
    return _task_page(request, campaign, task, form=form)


@require_POST
@login_required
def task_attach(request: HttpRequest, slug: str, public_id: Any) -> HttpResponse:
    """A document for the task; a refusal shows the task again with the error beside the box."""
    campaign = _campaign_or_404(request, slug)
    task = _task_or_404(request, campaign, public_id)
    form = TaskFileForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.task_attach(actor=request.user, task=task, upload=form.cleaned_data["file"])
        except ApplicationError as exc:
            form.add_error("file", exc.message)
        else:
            messages.success(request, _("File attached."))
            return redirect("task_update", slug=campaign.slug, public_id=task.public_id)
    return _task_page(request, campaign, task, file_form=form)


@login_required
def task_file(request: HttpRequest, slug: str, public_id: Any, file_id: Any) -> FileResponse:
    campaign = _campaign_or_404(request, slug)
    task = _task_or_404(request, campaign, public_id)
    attachment = authz.get_visible_or_404(task.attachments.all(), request.user, public_id=file_id)
    return download(attachment.path, attachment.name, attachment.content_type)


@require_POST
@login_required
def task_assign(request: HttpRequest, slug: str, public_id: Any) -> HttpResponse:
    campaign = _campaign_or_404(request, slug)
    task = _task_or_404(request, campaign, public_id)
    form = TaskOwnerForm(request.POST, people=authz.users_for_user(request.user))
    if form.is_valid():
        try:
            services.task_assign(actor=request.user, task=task, owner=form.cleaned_data["owner"])
        except ApplicationError as exc:
            form.add_error("owner", exc.message)
        else:
            messages.success(request, _("Owner saved."))
            return redirect("task_update", slug=campaign.slug, public_id=task.public_id)
    return _task_page(request, campaign, task, owner_form=form)


@login_required
def community_checklist(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    campaign = _campaign_or_404(request, slug)
    enrollment = authz.get_visible_or_404(
        campaign.enrollments.select_related("community").filter(
            community__in=authz.divisions_for_user(request.user)
        ),
        request.user,
        community__code=code,
    )
    today = _today()
    tasks = selectors.visible_tasks(request.user, campaign).filter(division=enrollment.community)
    items = campaign.standard.items.select_related("category", "department").order_by("order")
    return render(
        request,
        "campaigns/checklist.html",
        {
            "campaign": campaign,
            "enrollment": enrollment,
            "community": enrollment.community,
            "tasks": [{"task": t, "overdue": t.is_overdue(today)} for t in tasks],
            "items": items,
            "vetoes": campaign.standard.vetoes.select_related("department"),
        },
    )


class PhaseDateForm(forms.Form):
    starts_on = StrictDateField(label=gettext_lazy("starts"))
    due_on = StrictDateField(label=gettext_lazy("due"))


@login_required
def phase_edit(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    campaign = _campaign_or_404(request, slug)
    if not authz.can_manage_campaigns(request.user, campaign.division):
        raise Http404
    phase = authz.get_visible_or_404(campaign.phases.all(), request.user, key=key)
    form = PhaseDateForm(
        request.POST or None, initial={"starts_on": phase.starts_on, "due_on": phase.due_on}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.phase_set_due(actor=request.user, phase=phase, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, _("The dates of “%s” are saved; its tasks follow them.") % phase.name
            )
            return redirect("campaign_overview", slug=campaign.slug)
    return render(
        request, "campaigns/phase_form.html", {"campaign": campaign, "phase": phase, "form": form}
    )


class MeetingForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("kind"), choices=MeetingKind.choices)
    title = forms.CharField(label=gettext_lazy("title"), max_length=200)
    held_on = StrictDateField(label=gettext_lazy("date"))
    host = NamedChoiceField(kind="division", label=gettext_lazy("host"))
    place = forms.CharField(label=gettext_lazy("place"), max_length=200, required=False)
    agenda = forms.CharField(
        label=gettext_lazy("agenda"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    expected = forms.CharField(
        label=gettext_lazy("Expected attendees"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy(
            "One per line: the community's name or code, a space, the person's name or post."
        ),
    )

    def __init__(self, *args: Any, hosts: Any, communities: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_choices(self, host=hosts)
        self.communities = communities

    def clean_expected(self) -> list[tuple[Division, str]]:
        from civicmark.core.lookup import resolve

        lines = [
            line.strip() for line in self.cleaned_data["expected"].splitlines() if line.strip()
        ]
        result, problems = [], []
        for number, line in enumerate(lines, start=1):
            # "东关社区 张三", "C111 Zhang San", "Community 111 Zhang San": the longest run of
            # leading words that names one community, the rest is the person.
            words = line.split()
            refused: dict[int, forms.ValidationError] = {}
            for cut in range(len(words) - 1, 0, -1):
                try:
                    community = resolve(self.communities, " ".join(words[:cut]))
                except forms.ValidationError as exc:
                    refused[cut] = exc
                    continue
                result.append((community, " ".join(words[cut:])))
                break
            else:
                if len(words) < 2:
                    problems.append(_("Line %(n)s needs a community and a person.") % {"n": number})
                    continue
                ambiguous = [e for e in refused.values() if e.code == "ambiguous"]
                error = (ambiguous or [refused[1]])[0]
                problems.append(
                    _("Line %(n)s: %(error)s") % {"n": number, "error": error.messages[0]}
                )
        if problems:
            raise forms.ValidationError(problems)
        return result


def _meeting_hosts(user: Any, campaign: Campaign) -> Any:
    """The city, county and town governments under the campaign that the person manages
    (`authz.can_manage_groups`, asked of the database rather than of every division)."""
    return (
        authz.divisions_for_user(user)
        .filter(
            authz.manage_scope(user, "path"),
            path__startswith=campaign.division.path,
            level__in=(Level.CITY, Level.COUNTY, Level.TOWN),
        )
        .order_by("path")
    )


@login_required
def meeting_list(request: HttpRequest, slug: str) -> HttpResponse:
    """The campaign's meetings; hosts also record a new one here."""
    campaign = _campaign_or_404(request, slug)
    meetings = (
        selectors.meetings_for_user(request.user)
        .filter(campaign=campaign)
        .prefetch_related("attendance")
    )
    hosts = _meeting_hosts(request.user, campaign)
    form = MeetingForm(
        request.POST or None,
        hosts=hosts,
        communities=authz.divisions_for_user(request.user).filter(level=Level.COMMUNITY),
    )
    if request.method == "POST":
        if not hosts.exists():
            raise Http404
        if form.is_valid() and (meeting := _create_meeting(request, campaign, form)):
            return redirect("meeting_detail", slug=campaign.slug, public_id=meeting.public_id)
    enrolled = campaign.enrollments.select_related("community").filter(
        authz.within_scope(request.user, "community__path")
    )
    return render(
        request,
        "campaigns/meetings.html",
        {
            "campaign": campaign,
            "meetings": meetings,
            # The codes to type, listed when there are few; a province's are found on the
            # acceptance page's search.
            "enrolled": enrolled[:ENROLLED_LISTED],
            "enrolled_more": enrolled.count() > ENROLLED_LISTED,
            "form": form if hosts.exists() else None,
        },
    )


def _create_meeting(request: HttpRequest, campaign: Campaign, form: MeetingForm) -> Any:
    data = form.cleaned_data
    try:
        return services.meeting_create(
            actor=request.user,
            campaign=campaign,
            kind=data["kind"],
            title=data["title"],
            held_on=data["held_on"],
            host=data["host"],
            place=data["place"],
            agenda=data["agenda"],
            expected=data["expected"],
        )
    except ApplicationError as exc:
        form.add_error(None, exc.message)
        return None


@login_required
def meeting_detail(request: HttpRequest, slug: str, public_id: Any) -> HttpResponse:
    campaign = _campaign_or_404(request, slug)
    meeting = authz.get_visible_or_404(
        selectors.meetings_for_user(request.user).filter(campaign=campaign),
        request.user,
        public_id=public_id,
    )
    can_record = authz.can_manage_groups(request.user, meeting.host)
    form = AttendanceForm(request.POST if request.method == "POST" else None, meeting=meeting)
    if request.method == "POST":
        if not can_record:
            raise Http404
        if form.is_valid():
            try:
                services.attendance_record(
                    actor=request.user,
                    meeting=meeting,
                    present=set(form.cleaned_data["present"]),
                    minutes=form.cleaned_data["minutes"],
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Attendance saved."))
                return redirect("meeting_detail", slug=campaign.slug, public_id=meeting.public_id)
    rows = list(meeting.attendance.select_related("community"))
    came = sum(r.attended for r in rows)
    ticked = form.ticked() if form.is_bound else {str(r.pk) for r in rows if r.attended}
    return render(
        request,
        "campaigns/meeting.html",
        {
            "campaign": campaign,
            "meeting": meeting,
            "rows": rows,
            "can_record": can_record,
            "form": form,
            "ticked": ticked,
            "came": came,
            "percent": round(100 * came / len(rows)) if rows else 0,
        },
    )
