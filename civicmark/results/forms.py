"""The forms of the result pages (issue 16 item 3): read and refused here, shown back as typed."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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
