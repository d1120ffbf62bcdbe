from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from civicmark.notifications.models import MOBILE_RE, Frequency


class PreferenceForm(forms.Form):
    email = forms.ChoiceField(
        label=_("Email"),
        choices=Frequency.choices,
        widget=forms.RadioSelect,
    )
    webhook = forms.ChoiceField(
        label=_("SMS / WeChat Work"),
        choices=Frequency.choices,
        widget=forms.RadioSelect,
    )
    mobile = forms.CharField(
        label=_("mobile number"),
        required=False,
        max_length=20,
        help_text=_("For SMS and WeChat Work: 11 digits, as 13800138000."),
    )
    language = forms.ChoiceField(label=_("language of messages"), choices=settings.LANGUAGES)

    def __init__(self, *args: Any, has_email: bool, has_gateway: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not has_email:
            self.fields["email"].help_text = _(
                "Your account has no email address: ask whoever manages your account to add one."
            )
        if not has_gateway:
            self.fields["webhook"].help_text = _(
                "No SMS or WeChat Work gateway is set up on this server yet: nothing is sent "
                "this way until the operator sets one up."
            )

    def clean_mobile(self) -> str:
        # People write "+86 138-0013-8000" as often as "13800138000".
        raw = self.cleaned_data["mobile"].strip()
        digits = re.sub(r"[\s\-()]", "", raw)
        if digits.startswith("+86"):
            digits = digits[3:]
        elif digits.startswith("0086"):
            digits = digits[4:]
        if digits and not re.fullmatch(MOBILE_RE, digits):
            raise forms.ValidationError(
                _("“%(value)s” is not a mobile number: write 11 digits, as 13800138000."),
                params={"value": raw},
            )
        return digits
