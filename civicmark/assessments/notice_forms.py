"""The public notice's forms (ADR 22): the city publishes a round's notice and decides an
objection; anyone objects to a community on an open notice. The services check the rules; the
forms read types and lengths, and show back what was typed beside the error."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from civicmark.assessments import notice
from civicmark.assessments.forms import RefusableForm
from civicmark.assessments.models import NoticeEntry, ObjectionDecision, PublicNotice
from civicmark.core.formfields import StrictIntegerField


class NoticePublishForm(RefusableForm):
    refusal_field = "working_days"
    working_days = StrictIntegerField(
        label=_("Working days the notice stays up"),
        min_value=notice.MIN_WORKING_DAYS,
        max_value=notice.MAX_WORKING_DAYS,
        initial=notice.DEFAULT_WORKING_DAYS,
        help_text=_(
            "Counted from today by the official calendar (holidays off, adjusted weekends on); "
            "commonly five to seven."
        ),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


class ObjectionForm(RefusableForm):
    """One community on the notice, what is objected to, and how the city may reach the sender
    (for the city alone: never shown on a public page)."""

    entry = forms.ChoiceField(
        label=_("Community"),
        error_messages={"invalid_choice": _("Choose a community on this notice.")},
    )
    statement = forms.CharField(
        label=_("What you object to, and why"),
        max_length=notice.STATEMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("At most 2000 characters."),
    )
    name = forms.CharField(label=_("Your name"), max_length=60)
    contact = forms.CharField(
        label=_("Telephone or email"),
        max_length=120,
        help_text=_("Only the municipal office sees your name and contact, to ask you more."),
    )

    def __init__(self, *args: Any, public_notice: PublicNotice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entries = {
            str(e.pk): e
            for e in notice.public_entries(public_notice).filter(withdrawn_at__isnull=True)
        }
        field = self.fields["entry"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Choose…"))] + [
            (pk, e.enrollment.community.name) for pk, e in self.entries.items()
        ]

    def chosen(self) -> NoticeEntry:
        return self.entries[self.cleaned_data["entry"]]


class DecisionForm(RefusableForm):
    """The city's decision on one objection of the notice, with its reason."""

    refusal_field = "reason"
    objection = forms.CharField(max_length=40, widget=forms.HiddenInput)
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (ObjectionDecision.DISMISSED, ObjectionDecision.DISMISSED.label),
            (ObjectionDecision.UPHELD, ObjectionDecision.UPHELD.label),
        ],
        # No default: the city chooses (an empty first choice, refused when left).
        error_messages={
            "invalid_choice": _("Choose whether the objection is dismissed or upheld."),
            "required": _("Choose whether the objection is dismissed or upheld."),
        },
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, objections: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.objections = objections

    def clean_objection(self) -> Any:
        found = self.objections.get(self.cleaned_data["objection"])
        if found is None:
            raise forms.ValidationError(_("Choose one of the objections listed."))
        return found
