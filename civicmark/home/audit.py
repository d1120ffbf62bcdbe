"""The audit log people can read (issue 16, item 9): each event in the reader's language, naming
the person and the object by name, filtered by person, kind, division and date, and exported as
CSV. It reads what every app wrote, so it lives in home, on top of them all (ADR 19); who may see
which events stays the scope primitive of accounts (`authz.audit_events_for_user`)."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicmark.accounts import authz
from civicmark.accounts.models import User
from civicmark.assessments.models import Rectification
from civicmark.campaigns.models import AcceptanceRound, Campaign, Meeting, Task
from civicmark.core.audit import ACTIONS, action_label
from civicmark.core.models import AuditEvent
from civicmark.divisions.models import Department, Division, WorkingGroup
from civicmark.home.audit_labels import changes, summary_text
from civicmark.scoring.models import Score
from civicmark.standards.models import Standard
from civicmark.surveys.models import Instrument, SurveyRound

PAGE = 50
CHUNK = 500  # events named together in the CSV: a few queries per chunk, however long the log


# -- the filters --------------------------------------------------------------------------------


class AuditFilterForm(forms.Form):
    person = forms.CharField(
        label=gettext_lazy("person"),
        required=False,
        max_length=150,
        help_text=gettext_lazy("Name or username."),
    )
    kind = forms.ChoiceField(label=gettext_lazy("kind of event"), required=False)
    division = forms.CharField(
        label=gettext_lazy("division"),
        required=False,
        max_length=100,
        help_text=gettext_lazy("Name or code; its subdivisions are included."),
    )
    date_from = forms.DateField(label=gettext_lazy("from"), required=False)
    date_to = forms.DateField(label=gettext_lazy("to"), required=False)

    def __init__(self, *args: Any, reader: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reader = reader
        kinds = sorted(((code, str(label)) for code, label in ACTIONS.items()), key=lambda c: c[1])
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = [("", _("every kind"))] + kinds
        for name in ("date_from", "date_to"):
            self.fields[name].widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

    def clean_division(self) -> Division | None:
        text = self.cleaned_data["division"].strip()
        if not text:
            return None
        # Only among the divisions the reader may see: naming one outside says "unknown".
        visible = authz.divisions_for_user(self.reader)
        found = list(visible.filter(Q(code=text) | Q(name=text))[:2])
        if not found:
            found = list(visible.filter(name__icontains=text).order_by("path")[:6])
        if not found:
            raise forms.ValidationError(
                _("No division named or coded “%(text)s” in your scope."), params={"text": text}
            )
        if len(found) > 1:
            raise forms.ValidationError(
                _("“%(text)s” names several divisions (%(names)s): type the full name or code."),
                params={"text": text, "names": "、".join(d.name for d in found[:5])},
            )
        return found[0]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return data


def audit_event_list_for_user(*, user: Any, filters: dict[str, Any]) -> QuerySet[AuditEvent]:
    """The events the person may see (his scope), narrowed by the filters: a filter only ever
    narrows, so no filter shows an event outside the scope."""
    qs = authz.audit_events_for_user(user)
    person = (filters.get("person") or "").strip()
    if person:
        qs = qs.filter(Q(actor__username__iexact=person) | Q(actor__full_name__icontains=person))
    if filters.get("kind"):
        qs = qs.filter(action=filters["kind"])
    division = filters.get("division")
    if division is not None:
        qs = qs.filter(scope_path__startswith=division.path)
    if filters.get("date_from"):
        qs = qs.filter(at__date__gte=filters["date_from"])
    if filters.get("date_to"):
        qs = qs.filter(at__date__lte=filters["date_to"])
    return qs


# -- naming the objects -------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    event: AuditEvent
    label: str
    person: str
    subject: str
    where: str
    changes: list[tuple[str, str, str]]
    summary: str = ""


def _uuids(refs: Iterable[str]) -> set[str]:
    found = set()
    for ref in refs:
        try:
            found.add(str(uuid.UUID(ref)))
        except ValueError:
            continue
    return found


def _names(events: list[AuditEvent]) -> tuple[dict[tuple[str, str], str], dict[str, str]]:
    """(object type, ref) -> a name, and scope path -> the division's name, for a batch of
    events: one query per kind of object, however many events."""
    refs: dict[str, set[str]] = {}
    for e in events:
        if e.object_ref:
            refs.setdefault(e.object_type, set()).add(e.object_ref)
    names: dict[tuple[str, str], str] = {}

    # Refs made of campaign slug / round number / community or county code.
    slugs: set[str] = set()
    codes: set[str] = set(refs.get("community", set()) | refs.get("division", set()))
    for kind in ("enrollment", "round", "campaign"):
        for ref in refs.get(kind, set()):
            bits = ref.split("/")
            slugs.add(bits[0])
            if kind != "campaign" and len(bits) > 1:
                codes.add(bits[-1])
    paths = {e.scope_path for e in events if e.scope_path}
    divisions = {}
    if codes or paths:
        for d in Division.objects.filter(Q(code__in=codes) | Q(path__in=paths)).only(
            "code", "name", "path"
        ):
            divisions[d.code] = d.name
            divisions[d.path] = d.name
    campaigns = dict(Campaign.objects.filter(slug__in=slugs).values_list("slug", "name"))
    rounds = {
        (slug, number): name
        for slug, number, name in AcceptanceRound.objects.filter(
            campaign__slug__in=slugs
        ).values_list("campaign__slug", "number", "name")
    }

    def _round(slug: str, number: str) -> str | None:
        return rounds.get((slug, int(number))) if number.isdigit() else None

    for ref in refs.get("campaign", set()):
        if ref in campaigns:
            names[("campaign", ref)] = campaigns[ref]
    for kind in ("community", "division"):
        for ref in refs.get(kind, set()):
            if ref in divisions:
                names[(kind, ref)] = divisions[ref]
    for ref in refs.get("round", set()):
        bits = ref.split("/")
        if bits[0] in campaigns and len(bits) > 1:
            parts = [campaigns[bits[0]], _round(bits[0], bits[1]) or bits[1]]
            if len(bits) > 2:
                parts.append(divisions.get(bits[2], bits[2]))
            names[("round", ref)] = " · ".join(parts)
    for ref in refs.get("enrollment", set()):
        bits = ref.split("/")
        if bits[0] in campaigns and len(bits) > 1:
            parts = [campaigns[bits[0]]]
            if len(bits) > 2:
                parts.append(_round(bits[0], bits[1]) or bits[1])
            parts.append(divisions.get(bits[-1], bits[-1]))
            names[("enrollment", ref)] = " · ".join(parts)

    # A rectification is logged under its enrollment with its own id.
    for public_id, community, code in Rectification.objects.filter(
        public_id__in=_uuids(refs.get("enrollment", set()))
    ).values_list("public_id", "enrollment__community__name", "item__code"):
        names[("enrollment", str(public_id))] = f"{community} · {code}"
    for public_id, community, code, assessor in Score.objects.filter(
        public_id__in=_uuids(refs.get("score", set()))
    ).values_list("public_id", "enrollment__community__name", "item__code", "assessor__full_name"):
        names[("score", str(public_id))] = " · ".join(x for x in (community, code, assessor) if x)
    for kind, model, field in (
        ("task", Task, "title"),
        ("meeting", Meeting, "title"),
        ("working_group", WorkingGroup, "name"),
    ):
        for public_id, name in model.objects.filter(  # type: ignore[attr-defined]
            public_id__in=_uuids(refs.get(kind, set()))
        ).values_list("public_id", field):
            names[(kind, str(public_id))] = name
    for public_id, instrument, round_name in SurveyRound.objects.filter(
        public_id__in=_uuids(refs.get("survey", set()))
    ).values_list("public_id", "instrument__name", "round__name"):
        names[("survey", str(public_id))] = f"{instrument} · {round_name}"
    for public_id, name, version in Instrument.objects.filter(
        public_id__in=_uuids(refs.get("instrument", set()))
    ).values_list("public_id", "name", "version"):
        names[("instrument", str(public_id))] = _("%(name)s, version %(version)s") % {
            "name": name,
            "version": version,
        }
    if refs.get("user"):
        for username, full_name in User.objects.filter(username__in=refs["user"]).values_list(
            "username", "full_name"
        ):
            names[("user", username)] = full_name or username
    if refs.get("department"):
        for code, name in Department.objects.filter(code__in=refs["department"]).values_list(
            "code", "name"
        ):
            names[("department", code)] = name
    wanted = [r.split("@") for r in refs.get("standard", set()) if "@" in r]
    if wanted:
        q = Q(pk__in=[])
        for slug, number in wanted:
            if number.isdigit():
                q |= Q(slug=slug, version=int(number))
        for slug, version, name in Standard.objects.filter(q).values_list(
            "slug", "version", "name"
        ):
            names[("standard", f"{slug}@{version}")] = _("%(name)s, version %(version)s") % {
                "name": name,
                "version": version,
            }
    return names, divisions


def rows(events: list[AuditEvent]) -> list[Row]:
    names, divisions = _names(events)
    return [
        Row(
            event=e,
            label=action_label(e.action),
            person=(e.actor.full_name or e.actor.username) if e.actor else _("system"),
            subject=names.get((e.object_type, e.object_ref), e.object_ref),
            where=divisions.get(e.scope_path, ""),
            changes=changes(e),
            summary=summary_text(e),
        )
        for e in events
    ]


# -- the pages ----------------------------------------------------------------------------------


def _filtered(request: HttpRequest) -> tuple[AuditFilterForm, QuerySet[AuditEvent]]:
    if not authz.can_view_audit(request.user):
        raise Http404
    form = AuditFilterForm(request.GET or None, reader=request.user)
    if form.is_bound and not form.is_valid():
        # A refused filter shows nothing rather than everything: the reader asked for less.
        return form, AuditEvent.objects.none()
    filters = form.cleaned_data if form.is_bound else {}
    return form, audit_event_list_for_user(user=request.user, filters=filters)


@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    form, events = _filtered(request)
    page = Paginator(events, PAGE).get_page(request.GET.get("page"))
    query = urlencode([(k, str(v)) for k, v in request.GET.items() if k != "page" and v])
    return render(
        request,
        "home/audit_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows(list(page.object_list)),
            "pager_query": query,
            "export_query": query,
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: str) -> str:
    # A cell Excel would take for a formula is kept as text.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _csv_lines(events: QuerySet[AuditEvent], language: str) -> Iterator[str]:
    # The response is read after the view has returned and the request's language is gone.
    with translation.override(language):
        yield from _csv_written(events)


def _csv_written(events: QuerySet[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # so that Excel reads the file as UTF-8 and shows the Chinese
    yield writer.writerow(
        [
            _("time"),
            _("person"),
            _("event"),
            _("event code"),
            _("object"),
            _("division"),
            _("channel"),
            _("summary"),
            _("changes"),
            _("changes as stored"),
        ]
    )
    batch: list[AuditEvent] = []
    for event in events.iterator(chunk_size=CHUNK):
        batch.append(event)
        if len(batch) == CHUNK:
            yield from _csv_rows(batch, writer)
            batch = []
    yield from _csv_rows(batch, writer)


def _csv_rows(batch: list[AuditEvent], writer: Any) -> Iterator[str]:
    for row in rows(batch):
        e = row.event
        yield writer.writerow(
            [
                _cell(v)
                for v in (
                    timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M:%S"),
                    row.person,
                    row.label,
                    e.action,
                    row.subject,
                    row.where,
                    e.via,
                    row.summary,
                    "; ".join(f"{f}: {was} → {now}" for f, was, now in row.changes),
                    # The codes, beside the event code: for whoever filters the file.
                    "; ".join(f"{f}: {was} → {now}" for f, was, now in e.changes()),
                )
            ]
        )


@login_required
def audit_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    form, events = _filtered(request)
    if form.is_bound and form.errors:
        return audit_list(request)
    response = StreamingHttpResponse(
        _csv_lines(events, translation.get_language()), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response
