"""The sign-in pages: the password (throttled), then the second factor where it is owed."""

from __future__ import annotations

import logging
from typing import Any

import django_otp
from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_totp.models import TOTPDevice

from civicmark.accounts import throttle, twofactor
from civicmark.accounts.middleware import HAS_DEVICE
from civicmark.accounts.models import User

log = logging.getLogger("civicmark.security")

# The key offered on the enrolment page, kept in the (server-side) session until confirmed,
# so that nothing is stored for a person who never finishes.
PENDING_KEY = "civicmark_otp_pending_key"


class SignInForm(AuthenticationForm):
    """Django's form, with the password-spray limit before the password is even checked."""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        password = self.cleaned_data.get("password") or ""
        if password and throttle.spray_blocked(password):
            raise forms.ValidationError(
                _("Too many failed sign-ins. Please wait %(n)d minutes and try again.")
                % {"n": throttle.spray_wait_minutes()},
                code="throttled",
            )
        try:
            return super().clean()
        except forms.ValidationError as refused:
            if password and getattr(refused, "code", None) == "invalid_login":
                throttle.spray_record_failure(password=password, username=username)
            raise


class SignInView(auth_views.LoginView):
    form_class = SignInForm


class AdminSignInForm(SignInForm, AdminAuthenticationForm):
    """The admin site's login form, with the same spray limit (it is another door in)."""


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Six-digit code"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].replace(" ", "")
        if not (len(code) == 6 and code.isascii() and code.isdigit()):
            raise forms.ValidationError(_("Type the six digits your app shows."))
        return code


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("home")


def _admit(request: HttpRequest, device: TOTPDevice) -> HttpResponse:
    # A new session key once both factors are proven (no fixation across the step).
    request.session.cycle_key()
    django_otp.login(request, device)
    request.session[HAS_DEVICE] = True
    return HttpResponseRedirect(_next(request))


@login_required
def otp_verify(request: HttpRequest) -> HttpResponse:
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    if device is None:
        return HttpResponseRedirect(f"{reverse('otp_enrol')}?{request.GET.urlencode()}")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, _why = device.verify_is_allowed()
        if not allowed:
            form.add_error("code", _("Too many wrong codes. Please wait a moment and try again."))
        else:
            verified = django_otp.verify_token(
                request.user, device.persistent_id, form.cleaned_data["code"]
            )
            if verified is not None:
                return _admit(request, verified)
            # Logged, like axes' password failures: a run of these means a stolen password.
            log.warning("Wrong second-factor code for %s", request.user.get_username())
            form.add_error("code", _("The code is wrong or has expired."))
    # No menu: every page it leads to would send him back here.
    return render(
        request,
        "registration/otp_verify.html",
        {"form": form, "next": _next(request), "nav": []},
    )


@login_required
def otp_enrol(request: HttpRequest) -> HttpResponse:
    """Show a new key (QR code and text); store the device once a code from it is typed."""
    user = request.user
    assert isinstance(user, User)  # login_required
    if twofactor.has_device(user) and not user.is_verified():  # type: ignore[attr-defined]
        # Replacing a device takes the old one's code first (or an operator's reset).
        return HttpResponseRedirect(f"{reverse('otp_verify')}?{request.GET.urlencode()}")
    key = request.session.get(PENDING_KEY) or twofactor.new_secret()
    request.session[PENDING_KEY] = key
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        step = twofactor.matching_step(key, form.cleaned_data["code"])
        if step is not None:
            device = twofactor.totp_device_confirm(actor=user, user=user, key=key, step=step)
            del request.session[PENDING_KEY]
            return _admit(request, device)
        form.add_error("code", _("The code is wrong or has expired."))
    uri = twofactor.provisioning_uri(user, key)
    return render(
        request,
        "registration/otp_enrol.html",
        {
            "form": form,
            "qr": twofactor.qr_svg(uri),
            "secret": twofactor.secret_text(key),
            "required": twofactor.is_privileged(user) and twofactor.otp_required(),
            "replacing": twofactor.has_device(user),
            "next": _next(request),
            **({} if user.is_verified() else {"nav": []}),  # type: ignore[attr-defined]
        },
    )
