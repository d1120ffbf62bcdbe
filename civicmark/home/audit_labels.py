"""An audit event's changes in the reader's language (issue 16, item 9): each field by its model
field's verbose name, each value by its choice label, a field whose before and after read the
same left out. Events store codes ("status": "returned"), so that the log reads in whoever's
language opens it; this is the one place that turns them into words, for the page and the CSV.

Which models an event's fields belong to follows its action's family ("task.updated" -> Task),
the same grouping as `core.audit.ACTIONS`; keys that are no model's field are named in `KEYS`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from civicmark.assessments.workflow import State
from civicmark.core.models import AuditEvent, _as_text

# The action (or, failing that, its family: the part of the code before the dot) -> the models
# its before/after describe; the first that has a field names it, so two models sharing a field
# name (a vacancy's and a referral's "state") are listed under the actions apart.
ACTION_MODELS: dict[str, tuple[str, ...]] = {
    "campaign": ("campaigns.Campaign",),
    "phase": ("campaigns.Phase", "campaigns.Task"),
    "task": ("campaigns.Task",),
    "meeting": ("campaigns.Meeting", "campaigns.Attendance"),
    "round": ("campaigns.AcceptanceRound",),
    "round.part_configured": ("campaigns.RoundPart",),
    "round.part_finalised": ("campaigns.RoundPart",),
    "round.part_reopened": ("campaigns.RoundPart",),
    "self_score": ("assessments.SelfScore",),
    "evidence": ("assessments.Evidence",),
    "workflow": ("campaigns.Enrollment",),
    "rectification": ("assessments.Rectification",),
    "score": ("scoring.Score", "scoring.Settlement"),
    "calibration": ("quality.CalibrationExercise", "quality.CalibrationScore"),
    "notice": ("assessments.PublicNotice", "assessments.NoticeEntry"),
    "notice.objection_received": ("assessments.Objection", "assessments.NoticeEntry"),
    "notice.objection_decided": ("assessments.Objection", "assessments.NoticeEntry"),
    "veto": ("scoring.VetoFinding",),
    "appeal": ("quality.Appeal", "quality.AppealEvidence"),
    "report": ("results.ExportJob",),
    "certificates": ("results.Certificate",),
    "certificate": ("results.Certificate",),
    "recheck": ("results.TitleRecheck", "results.RecheckDraw"),
    "recheck.recorded": ("results.TitleRecheck", "assessments.Rectification"),
    "recheck.drawn": ("results.RecheckDraw",),
    "title": ("results.TitleRecheck", "results.Certificate"),
    "upward": ("results.UpwardReport",),
    "standard": ("standards.Standard", "standards.Item", "standards.VetoItem"),
    "person": ("accounts.User", "accounts.RoleAssignment"),
    "role": ("accounts.RoleAssignment", "accounts.User"),
    "otp": ("accounts.User",),
    "profile": ("divisions.CommunityProfile", "divisions.Division"),
    "division": ("divisions.Division", "divisions.CommunityProfile"),
    "divisions": ("divisions.Division", "divisions.CommunityProfile"),
    "department": ("divisions.Department",),
    "departments": ("divisions.Department",),
    "level_label": ("divisions.LevelLabel",),
    "working_group": ("divisions.WorkingGroup", "divisions.WorkingGroupMember"),
    "survey": ("surveys.SurveyRound", "surveys.Response"),
    "survey.instrument_created": ("surveys.Instrument", "surveys.Question"),
    "survey.instrument_published": ("surveys.Instrument", "surveys.Question"),
    "survey.question_edited": ("surveys.Question", "surveys.Instrument"),
    "survey.rule_set": ("surveys.ItemRule",),
    "survey.frame_imported": ("surveys.FrameHousehold", "surveys.SurveyRound"),
    "survey.drawn": ("surveys.Draw", "surveys.Drawn", "surveys.SurveyRound"),
    "survey.substituted": ("surveys.Drawn", "surveys.Draw"),
    "survey.answered": ("surveys.Response",),
    "survey.paper_keyed": ("surveys.PaperEntry", "surveys.Response"),
    "employment": (
        "employment.Resident",
        "employment.StatusPeriod",
        "employment.ZeroEmploymentCase",
        "employment.Vacancy",
        "employment.ServiceRecord",
    ),
    "employment.status_set": ("employment.StatusPeriod", "employment.Resident"),
    "employment.referral_created": ("employment.Referral", "employment.ReferralStep"),
    "employment.referral_moved": ("employment.Referral", "employment.ReferralStep"),
    "employment.service_recorded": ("employment.ServiceRecord", "employment.Resident"),
}

# Keys that are no model field's name (or whose field has no choices but whose values do): their
# label and, where the value is a code, the choices that name it.
KEYS: dict[str, tuple[Promise, Sequence[tuple[str, Any]] | None]] = {
    "because": (_("because"), State.choices),
    "comment": (_("comment"), None),
    "reason": (_("reason"), None),
    "roles": (_("roles"), None),
    "stands": (_("stands"), None),
    "expected": (_("expected"), None),
    "tasks_moved": (_("tasks moved"), None),
    "explanation": (_("explanation"), None),
    "devices": (_("devices"), None),
    "parts": (_("county parts"), None),
    "appeal": (_("appeal"), None),
    "findings": (_("findings"), None),
    "on_behalf_of": (_("on behalf of"), None),
    "communities": (_("communities"), None),
    "pdf_sha256": (_("SHA-256 of the PDF"), None),
    "xlsx_sha256": (_("SHA-256 of the list"), None),
}
# A field whose model keeps its codes elsewhere: the enrollment's status is the workflow's state.
FIELD_CHOICES: dict[tuple[str, str], Sequence[tuple[str, Any]]] = {
    ("campaigns.Enrollment", "status"): State.choices,
}


def _model(label: str) -> type[models.Model] | None:
    try:
        return apps.get_model(label)
    except LookupError:
        return None


@cache
def models_for(action: str) -> tuple[type[models.Model], ...]:
    """The models whose fields an action's before and after name."""
    labels = ACTION_MODELS.get(action) or ACTION_MODELS.get(action.split(".")[0], ())
    return tuple(m for m in (_model(label) for label in labels) if m is not None)


def field_of(action: str, key: str) -> tuple[models.Field[Any, Any] | None, str]:
    for model in models_for(action):
        try:
            found = model._meta.get_field(key)
        except FieldDoesNotExist:
            continue
        if isinstance(found, models.Field):
            return found, model._meta.label
    return None, ""


def field_label(action: str, key: str) -> str:
    if key in KEYS:
        return str(KEYS[key][0])
    found, _label = field_of(action, key)
    if found is not None:
        return str(found.verbose_name)
    # Neither a model field with a name nor a key above: its words, without the underscores.
    return key.replace("_", " ")


def _choices(action: str, key: str) -> dict[str, str]:
    if key in KEYS:
        table = KEYS[key][1]
    else:
        found, model_label = field_of(action, key)
        table = FIELD_CHOICES.get((model_label, key))
        if table is None and found is not None and found.choices:
            table = list(found.flatchoices)
    return {str(code): str(label) for code, label in table or ()}


def value_text(action: str, key: str, value: Any) -> str:
    """A stored value in words: a choice by its label (a list of choices, each), else as text."""
    names = _choices(action, key)
    if names:
        if isinstance(value, str) and value in names:
            return names[value]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return "、".join(names.get(v) or v for v in value)
    return _as_text(value)


_BLANK = {"", "—", "[]", "{}"}


def changes(event: AuditEvent) -> list[tuple[str, str, str]]:
    """(field, before, after) in the reader's language, for each field the event changed: a
    field whose before and after read the same, or are both empty, is not listed; one the event
    did not have before (or no longer has after) reads "—" on that side."""
    before, after = event.before or {}, event.after or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    out = []
    for key in sorted(before.keys() | after.keys()):
        was = value_text(event.action, key, before.get(key))
        now = value_text(event.action, key, after.get(key))
        if was == now or (was in _BLANK and now in _BLANK):  # nothing to read
            continue
        out.append((field_label(event.action, key), was, now))
    return out


@cache
def _codes(action: str) -> dict[str, str]:
    """Every choice code of the models an action describes -> its label (the first model's, as
    `field_of` picks), read in the reader's language when the summary is shown."""
    out: dict[str, str] = {}
    for model in models_for(action):
        label = model._meta.label
        for _m, name in choice_fields([label]):
            field = model._meta.get_field(name)
            table = FIELD_CHOICES.get((label, name)) or getattr(field, "flatchoices", ())
            for code, words in table or ():
                if code:
                    out.setdefault(str(code), words)
    return out


# How summaries written before the labels (issue 16, item 9) joined their codes: a transition's
# "submitted → town_reviewed", a survey answer's "door_card resident".
_SEPARATOR = re.compile(r"(\s*(?:→|->)\s*|\s+)")


def summary_text(event: AuditEvent) -> str:
    """The event's summary in the reader's language where it can be derived: an old summary made
    only of the codes of its action's choices (and arrows or spaces between them) reads by
    their labels; any other summary (a file's name, a reason typed) is shown as written."""
    text = event.summary or ""
    parts = _SEPARATOR.split(text.strip())
    words = parts[::2]
    codes = _codes(event.action)
    if not text.strip() or not all(w in codes for w in words):
        return text
    return "".join(
        str(codes[p]) if n % 2 == 0 else (" → " if p.strip() else " ") for n, p in enumerate(parts)
    )


def choice_fields(labels: Iterable[str]) -> list[tuple[str, str]]:
    """(model label, field name) of each choice field of the models named."""
    found = []
    for label in labels:
        model = _model(label)
        if model is None:
            continue
        for f in model._meta.concrete_fields:
            if f.choices or (label, f.name) in FIELD_CHOICES:
                found.append((label, f.name))
    return found
