"""The inbox and the choice of channels: a person's own, nobody else's (ADR 28)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicmark.accounts.models import User
from civicmark.notifications import selectors, services
from civicmark.notifications.forms import PreferenceForm
from civicmark.notifications.models import Channel, Preference

PAGE = 20


def _me(request: HttpRequest) -> User:
    """The signed-in person (every view here is behind login_required)."""
    assert isinstance(request.user, User)
    return request.user


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.notifications_for_user(user=request.user), PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "notifications/inbox.html", {"page": page})


@require_POST
@login_required
def notification_read(request: HttpRequest, public_id: str) -> HttpResponse:
    """Marks one read; with `open`, goes on to what it links to (a path inside the site)."""
    notification = selectors.notification_for_user_or_404(user=request.user, public_id=public_id)
    services.notification_mark_read(
        actor=_me(request), notification=notification, now=timezone.now()
    )
    target = notification.link if request.POST.get("open") else ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        return redirect(target)
    return redirect(_back(request))


@require_POST
@login_required
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    count = services.notifications_mark_all_read(actor=_me(request), now=timezone.now())
    if count:
        messages.success(request, _("All notifications marked as read."))
    return redirect(_back(request))


def _back(request: HttpRequest) -> str:
    """Back to the page of the inbox the button was on."""
    page = request.POST.get("page", "")
    return reverse("inbox") + (f"?page={page}" if page.isdigit() else "")


@login_required
def notification_preferences(request: HttpRequest) -> HttpResponse:
    user = _me(request)
    current = Preference.objects.filter(user=user).first() or Preference.defaults(user)
    form = PreferenceForm(
        request.POST or None,
        has_email=bool(user.email),
        has_gateway=bool(settings.CIVICMARK_WEBHOOK_URL),
        initial={
            "email": current.email,
            "webhook": current.webhook,
            "mobile": current.mobile,
            "language": current.language,
        },
    )
    if request.method == "POST" and form.is_valid():
        services.preference_set(actor=user, **form.cleaned_data)
        messages.success(request, _("Saved."))
        return redirect("notification_preferences")
    counts = selectors.delivery_counts_for_user(user=user)
    return render(
        request,
        "notifications/preferences.html",
        {
            "form": form,
            "channels": [(label, counts.get(value, {})) for value, label in Channel.choices],
            "deliveries": selectors.deliveries_for_user(user=user),
        },
        status=422 if form.errors else 200,
    )
