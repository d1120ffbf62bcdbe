"""What a signed-in person must do before any page: a code from his second factor, and, for the
privileged, activity at least every 30 minutes (MLPS level 3: session timeout for administrators).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _

from civicmark.accounts import twofactor

LAST_SEEN = "civicmark_last_seen"
# Whether a non-privileged person has a device of his own: asked once per session.
HAS_DEVICE = "civicmark_has_device"
# Pages open to a person who still owes his code: the code pages, signing out, the language.
OPEN_TO_UNVERIFIED = {"otp_verify", "otp_enrol", "logout", "set_language"}
# The last-seen time is written at most this often (each write is a session save).
SEEN_GRANULARITY = 60


class SignInPolicyMiddleware:
    """After AuthenticationMiddleware, OTPMiddleware and MessageMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and twofactor.is_privileged(user) and self._idle_too_long(request):
            logout(request)
            messages.info(
                request,
                _("You were signed out after %(n)d minutes without activity.")
                % {"n": settings.CIVICMARK_PRIVILEGED_IDLE_MINUTES},
            )
            return HttpResponseRedirect(
                f"{reverse('login')}?{urlencode({'next': request.get_full_path()})}"
            )
        if user.is_authenticated and not self._open(request) and self._owes_code(request):
            target = "otp_verify" if twofactor.has_device(user) else "otp_enrol"
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse(target)}?{query}")
        return self.get_response(request)

    @staticmethod
    def _idle_too_long(request: HttpRequest) -> bool:
        now = int(time.time())
        last = request.session.get(LAST_SEEN)
        if isinstance(last, int) and now - last > settings.CIVICMARK_PRIVILEGED_IDLE_MINUTES * 60:
            return True
        if not isinstance(last, int) or now - last >= SEEN_GRANULARITY:
            request.session[LAST_SEEN] = now
        return False

    @staticmethod
    def _open(request: HttpRequest) -> bool:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return False
        return match.url_name in OPEN_TO_UNVERIFIED and not match.namespace

    @staticmethod
    def _owes_code(request: HttpRequest) -> bool:
        if not twofactor.otp_required() or request.user.is_verified():  # type: ignore[union-attr]
            return False
        if twofactor.is_privileged(request.user):
            return True
        if request.session.get(HAS_DEVICE) is False:
            return False
        has = twofactor.has_device(request.user)
        request.session[HAS_DEVICE] = has
        return has
