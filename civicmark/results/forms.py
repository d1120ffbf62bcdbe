"""The forms of the result pages (issue 16 item 3): read and refused here, shown back as typed."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicmark.core.errors import ApplicationError
from civicmark.core.formfields import StrictDateField, StrictIntegerField
from civicmark.results import titles, upward
from civicmark.results.models import RecheckSizeKind

REASON_MAX = 2000


class CertificateForm(forms.Form):
    """Issue a round's certificates, or revoke one with a reason."""

    action = forms.ChoiceField(
        choices=[("issue", gettext_lazy("issue")), ("revoke", gettext_lazy("revoke"))],
        widget=forms.HiddenInput,
    )
    id = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    reason = forms.CharField(label=gettext_lazy("reason"), required=False, max_length=REASON_MAX)

    def __init__(self, *args: Any, certificates: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].error_messages["invalid_choice"] = _(
            "“%(value)s” is no action of this page: issue or revoke."
        )
        self.certificates = certificates

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") != "revoke":
            return data
        try:
            public_id = uuid.UUID(data.get("id") or "")
        except ValueError:
            cert = None  # a malformed id names no certificate
        else:
            cert = self.certificates.filter(public_id=public_id).first()
        if cert is None:
            self.add_error(None, _("Choose a certificate of this round to revoke."))
        elif not (data.get("reason") or "").strip():
            self.add_error("reason", _("Say why the certificate is revoked."))
        data["certificate"] = cert
        return data


class RoundExportForm(forms.Form):
    """Which long export of a round to start."""

    kind = forms.ChoiceField(
        choices=[
            ("summary-xlsx", gettext_lazy("Summary table of the round (.xlsx)")),
            ("summary-pdf", gettext_lazy("Summary report (PDF)")),
        ]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].error_messages["invalid_choice"] = _(
            "“%(value)s” is no export of a round: the summary table (.xlsx) or report (PDF)."
        )


# --- dynamic management of titles (titles.py) ----------------------------------------------


def _styled(form: forms.Form) -> None:
    """Bootstrap's classes on every widget, so one small template draws any of these forms."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        elif not isinstance(widget, forms.HiddenInput):
            widget.attrs.setdefault("class", "form-control")


class RecheckDrawForm(forms.Form):
    """The year's draw: its sizes (a share or a count per county, for each kind of title) and a
    seed to repeat a draw, or none for a fresh random one (recorded either way). The rule on the
    sizes is the service's (`titles.sizes_refusal`), shown beside the field it names."""

    year = StrictIntegerField(label=gettext_lazy("year"), min_value=2000, max_value=2100)
    kind = forms.ChoiceField(label=gettext_lazy("sample size as"), choices=[])
    standard_size = StrictIntegerField(
        label=gettext_lazy("standard units"), min_value=0, max_value=10000
    )
    commended_size = StrictIntegerField(
        label=gettext_lazy("commended units"), min_value=0, max_value=10000
    )
    seed = StrictIntegerField(
        label=gettext_lazy("seed"),
        required=False,
        min_value=0,
        max_value=2**63 - 1,
        help_text=gettext_lazy(
            "Leave empty for a random seed; the seed is recorded with the draw."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = RecheckSizeKind.choices
        _styled(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        refused = titles.sizes_refusal(data["kind"], data["standard_size"], data["commended_size"])
        if refused is not None:
            self.add_error(*refused)
        return data


RESULTS = [("passed", gettext_lazy("passed")), ("failed", gettext_lazy("failed"))]


class _RecheckStepForm(forms.Form):
    """What a re-check (or its follow-up) found, on which day, and a document if there is one."""

    result = forms.ChoiceField(
        label=gettext_lazy("result"), choices=RESULTS, widget=forms.RadioSelect
    )
    checked_on = StrictDateField(label=gettext_lazy("re-checked on"))
    finding = forms.CharField(
        label=gettext_lazy("finding"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    file = forms.FileField(label=gettext_lazy("document (optional)"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["result"].error_messages["invalid_choice"] = _(
            "“%(value)s” is no result of a re-check: passed or failed."
        )
        self.fields["result"].error_messages["required"] = _("Choose passed or failed.")
        self.fields["finding"].error_messages["required"] = _("Say what the re-check found.")
        _styled(self)
        self.fields["result"].widget.attrs.pop("class", None)


class RecheckForm(_RecheckStepForm):
    """A drawn title's re-check: a failure needs the deadline of its rectification."""

    due_on = StrictDateField(label=gettext_lazy("rectification due on"), required=False)
    field_order = ["result", "checked_on", "finding", "due_on", "file"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["due_on"].help_text = _("Needed when the re-check failed.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("result") == "failed" and "due_on" in data and data["due_on"] is None:
            self.add_error("due_on", _("Set the deadline for the rectification."))
        return data


class FollowUpForm(_RecheckStepForm):
    """The follow-up of a failed re-check."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["checked_on"].label = _("followed up on")
        self.fields["finding"].error_messages["required"] = _("Say what the follow-up found.")


class WithdrawForm(forms.Form):
    """The withdrawal of a title: why, and a document if there is one."""

    reason = forms.CharField(
        label=gettext_lazy("reason for the withdrawal"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": gettext_lazy("Say why the title is withdrawn.")},
    )
    file = forms.FileField(label=gettext_lazy("document (optional)"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _styled(self)


# --- the report upward (upward.py, ADR 25) ------------------------------------------------------


class UpwardReportForm(forms.Form):
    """A county's report to the city: the county (one of the person's), the communities ticked
    among its pre-accepted ones, and the county's statement, whose rule is the service's
    (`upward.clean_statement`: required, its length, printable), shown beside the box."""

    county = forms.CharField(max_length=32, widget=forms.HiddenInput)
    communities = forms.MultipleChoiceField(
        label=gettext_lazy("communities to report"),
        choices=[],
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        error_messages={"required": gettext_lazy("Tick the communities to report.")},
    )
    statement = forms.CharField(
        label=gettext_lazy("the county's statement"),
        required=False,
        strip=False,
        # Twice the rule's length, so that a statement over it is still shown back, with the
        # service's sentence saying by how much.
        max_length=2 * upward.STATEMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 6, "class": "form-control"}),
        help_text=gettext_lazy(
            "Printed in the report above the list, as typed (at most 2000 characters)."
        ),
    )

    def __init__(self, *args: Any, county: Any, waiting: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial["county"] = county.code
        # Not `self.county`: a template reads form.county as the field.
        self.division = county
        self.waiting = {e.community.code: e for e in waiting}
        communities = self.fields["communities"]
        assert isinstance(communities, forms.MultipleChoiceField)
        communities.choices = [(code, e.community.name) for code, e in self.waiting.items()]
        communities.error_messages["invalid_choice"] = _(
            "“%(value)s” is not a community of this county waiting to be reported: tick them again."
        )
        if not self.is_bound:
            self.initial["communities"] = list(self.waiting)  # all of them, unless unticked

    def clean_county(self) -> str:
        if self.cleaned_data["county"] != self.division.code:
            raise forms.ValidationError(_("Report for the county of this form."))
        return str(self.cleaned_data["county"])

    def clean_statement(self) -> str:
        try:
            return upward.clean_statement(self.cleaned_data["statement"])
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message) from None

    def chosen(self) -> list[Any]:
        return [self.waiting[code] for code in self.cleaned_data["communities"]]
