"""Route inventory: every URL is either public on purpose or sends a stranger to sign in."""

from __future__ import annotations

import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

PUBLIC = {
    "login",
    "health",
    "set_password",
    "set_password_done",
    "set_language",
    "logout",
    "verify",  # the public certificate check: shows a name, a title and whether it stands
    "public_jobs",  # the station's job board: approved, unexpired posts, no personal data
    "public_poster",  # the QR poster of that board
    "survey_answer_start",  # the resident types the code from his door card
    "survey_answer",  # the door card's link: one answer per code
    # The public notice before naming (ADR 22): the list, a notice and its objection form, and
    # the reference an objector is given; names, towns, totals and dates, nothing personal.
    "notice_list",
    "notice_public",
    "notice_received",
    # The API's own description (ADR 24): its OpenAPI document and the page that renders it,
    # operations and shapes, no data; every operation answers 401 without a token (below).
    "openapi-json",
    "openapi-view",
    "api-root",  # ninja's catch-all under /api/: a 404 for any path it does not know
}


def _patterns(resolver: URLResolver, prefix: str = "") -> list[tuple[str, URLPattern]]:
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if getattr(entry, "app_name", None) == "admin":
                continue  # Django's admin has its own login
            found += _patterns(entry, prefix + str(entry.pattern))
        else:
            found.append((prefix + str(entry.pattern), entry))
    return found


def _example(route: str) -> str:
    """Fill a route's converters with plausible values."""
    out = route
    for token, value in (
        ("<uuid:public_id>", str(uuid.uuid4())),
        ("<uuid:member_id>", str(uuid.uuid4())),
        ("<uuid:role_id>", str(uuid.uuid4())),
        ("<uuid:file_id>", str(uuid.uuid4())),
        ("<slug:slug>", "x"),
        ("<slug:key>", "x"),
        ("<int:number>", "2"),
        ("<str:code>", "x"),
        ("<str:fmt>", "csv"),
        ("<uidb64>", "MQ"),
        ("<token>", "x"),
    ):
        out = out.replace(token, value)
    return "/" + out


@pytest.mark.django_db
def test_every_route_is_public_on_purpose_or_asks_for_sign_in(client):
    routes = _patterns(get_resolver())
    assert len(routes) > 30
    for route, pattern in routes:
        if pattern.name in PUBLIC:
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(_example(route))
            if route.startswith("api/"):
                # A program, not a person: no sign-in page to send it to, a 401 in JSON.
                assert response.status_code in (401, 405), (route, method, response.status_code)
                continue
            assert response.status_code in (302, 405), (route, method, response.status_code)
            if response.status_code == 302:
                assert response["Location"].startswith("/accounts/login/"), route


def test_no_view_is_exempt_from_csrf():
    """Except the API's: they take a bearer token and never a session cookie (ADR 24), so a page
    on another site cannot borrow a signed-in person's session there."""
    for route, pattern in _patterns(get_resolver()):
        if route.startswith("api/"):
            continue
        assert not getattr(pattern.callback, "csrf_exempt", False), pattern.name


@pytest.mark.django_db
def test_the_api_ignores_a_signed_in_session(client, django_user_model):
    person = django_user_model.objects.create_user("session-only", password="x")  # noqa: S106
    client.force_login(person)
    assert client.get("/api/divisions").status_code == 401
