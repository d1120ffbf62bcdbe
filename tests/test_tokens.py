"""Personal access tokens (ADR 24): made by a person for himself on his account page, shown
once, stored hashed, expiring, revocable, audited; the token acts with the person's grants as
they stand."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from civicmark.accounts import tokens
from civicmark.accounts.models import AccessToken
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.core.models import AuditEvent
from tests.factories import person

NOW = timezone.now()


def make(user, *, scope="write", days=30, now=NOW, verified=False):  # noqa: ANN001, ANN201
    return tokens.token_create(
        actor=user,
        name="tablet",
        expires_at=now + timedelta(days=days),
        scope=scope,
        now=now,
        verified=verified,
    )


def test_it_stores_only_a_digest_and_shows_the_secret_once(world, client_for):
    client = client_for(world.users["community_staff"])
    day = (timezone.localdate() + timedelta(days=30)).isoformat()
    posted = client.post(
        reverse("token_list"), {"name": "外勤平板", "scope": "write", "expires_on": day}
    )
    # Made, then redirected: reloading the page that shows the secret posts nothing again.
    assert posted.status_code == 302 and posted["Location"] == reverse("token_list")
    response = client.get(reverse("token_list"))
    assert response["Cache-Control"] == "no-store"
    secret = response.context["secret"]
    assert secret.startswith("cmk_") and len(secret) > 50
    token = AccessToken.objects.get(user=world.users["community_staff"])
    assert token.digest == tokens.digest_of(secret) and secret not in token.digest
    assert token.name == "外勤平板" and token.scope == "write"
    assert timezone.localtime(token.expires_at).date() == timezone.localdate() + timedelta(31)
    made = response.content.decode()
    # One tap selects the whole secret to copy, and it wraps on a phone's screen
    pre = re.search(r'<pre class="([^"]*)" data-testid="token-secret">', made)
    assert pre and {"user-select-all", "text-break"} <= set(pre.group(1).split())
    # The form below starts again from the usual expiry
    assert response.context["form"]["expires_on"].value() is not None
    # The list shows it afterwards (reloaded: still one token), never its secret again,
    # expiring on the day that was chosen
    page = client.get(reverse("token_list")).content.decode()
    assert AccessToken.objects.filter(user=world.users["community_staff"]).count() == 1
    assert "外勤平板" in page and secret not in page and token.prefix in page
    row = page.split(token.prefix)[1].split("</tr>")[0]
    assert f"<td>{day}</td>" in row
    event = AuditEvent.objects.get(action="token.created")
    assert event.actor == world.users["community_staff"] and secret not in str(event.after)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "scope": "read", "expires_on": "2099-01-01"}, "name"),
        ({"name": "x", "scope": "admin", "expires_on": "2099-01-01"}, "scope"),
        ({"name": "x", "scope": "read", "expires_on": "yesterday"}, "expires_on"),
        ({"name": "x", "scope": "read", "expires_on": "2000-01-01"}, "expires_on"),
        ({"name": "x", "scope": "read", "expires_on": "2099-01-01"}, "expires_on"),
    ],
)
def test_it_refuses_a_bad_form_beside_its_field_and_keeps_what_was_typed(
    world, client_for, data, field
):
    client = client_for(world.users["community_staff"])
    response = client.post(reverse("token_list"), data)
    assert response.status_code == 422
    form = response.context["form"]
    assert form.errors.get(field), form.errors
    assert form.data["name"] == data["name"]
    assert_error_read_with_its_box(response.content.decode(), field)
    assert not AccessToken.objects.exists()
    assert not AuditEvent.objects.filter(action="token.created").exists()


@given(days=st.integers(min_value=-400, max_value=800))
def test_the_expiry_is_in_the_future_and_at_most_the_maximum(days):  # noqa: ANN001
    """The rule over many expiries (no database reached: refusals come before the write)."""
    user = type("U", (), {"is_active": True, "pk": None})()
    try:
        tokens.token_create(
            actor=user,  # type: ignore[arg-type]
            name="x",
            expires_at=NOW + timedelta(days=days),
            scope="read",
            now=NOW,
            verified=True,
        )
    except tokens.TokenInvalid as exc:
        assert exc.field == "expires_on"
        assert days <= 0 or days > tokens.max_days() + 1
    except NotAllowed:  # past the dates: the fake person holds no role
        assert 0 < days <= tokens.max_days() + 1


def test_a_viewer_makes_read_tokens_only(world, client_for):
    viewer = world.users["viewer"]
    with pytest.raises(tokens.TokenInvalid):
        make(viewer, scope="write")
    token, _secret = make(viewer, scope="read")
    assert token.scope == "read"
    page = client_for(viewer).get(reverse("token_list"))
    assert [v for v, _l in page.context["form"].fields["scope"].choices] == ["read"]


def test_a_person_without_a_role_makes_no_token(world):
    with pytest.raises(NotAllowed):
        make(world.users["nobody"])
    assert not AccessToken.objects.exists()


@override_settings(CIVICMARK_OTP_REQUIRED=True)
def test_a_privileged_person_makes_a_token_only_after_his_second_factor(world):
    county = world.users["county_officer"]
    with pytest.raises(NotAllowed):
        make(county, verified=False)
    assert not AccessToken.objects.exists()
    token, _secret = make(county, verified=True)
    # Others need no second factor for it: a town officer is not privileged.
    make(world.users["town_officer"], verified=False)
    assert AccessToken.objects.count() == 2 and token.user == county


def test_it_counts_at_most_ten_live_tokens(world):
    user = world.users["town_officer"]
    for _n in range(tokens.MAX_LIVE):
        make(user)
    with pytest.raises(NotAllowed):
        make(user)
    assert AccessToken.objects.filter(user=user).count() == tokens.MAX_LIVE


def test_authentication_follows_revocation_expiry_and_the_account(world):
    user = world.users["community_staff"]
    token, secret = make(user, days=10)
    assert tokens.token_authenticate(raw=secret, now=NOW) == token
    assert tokens.token_authenticate(raw=secret + "x", now=NOW).reason == "wrong"
    assert tokens.token_authenticate(raw="Basic abc", now=NOW).reason == "malformed"
    assert tokens.token_authenticate(raw="cmk_000000000000_x", now=NOW).reason == "unknown"
    assert tokens.token_authenticate(raw=secret, now=NOW + timedelta(days=11)).reason == "expired"
    user.is_active = False
    user.save()
    assert tokens.token_authenticate(raw=secret, now=NOW).reason == "inactive"
    user.is_active = True
    user.save()
    tokens.token_revoke(actor=user, token=token, now=NOW)
    assert tokens.token_authenticate(raw=secret, now=NOW).reason == "revoked"
    refused = AuditEvent.objects.filter(action="token.refused").values_list("after", flat=True)
    assert {e["reason"] for e in refused} == {"wrong", "expired", "inactive", "revoked"}


def test_last_use_is_written_at_most_once_a_minute(world):
    token, secret = make(world.users["community_staff"])
    tokens.token_authenticate(raw=secret, now=NOW)
    tokens.token_authenticate(raw=secret, now=NOW + timedelta(seconds=30))
    token.refresh_from_db()
    assert token.last_used_at == NOW
    tokens.token_authenticate(raw=secret, now=NOW + timedelta(minutes=2))
    token.refresh_from_db()
    assert token.last_used_at == NOW + timedelta(minutes=2)


def test_a_person_revokes_his_own_token_only(world, client_for):
    token, _secret = make(world.users["community_staff"])
    other = client_for(world.users["town_officer"])
    assert other.post(reverse("token_revoke", args=[token.public_id])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert not AuditEvent.objects.filter(action="token.revoked").exists()
    own = client_for(world.users["community_staff"])
    assert own.post(reverse("token_revoke", args=[token.public_id])).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(action="token.revoked").count() == 1
    with pytest.raises(ApplicationError):
        tokens.token_revoke(actor=world.users["community_staff"], token=token, now=NOW)


def test_a_write_token_of_someone_who_became_a_viewer_writes_no_more(world):
    user = person("later_viewer", "community_staff", world.d["C111"])
    token, _secret = make(user)
    assert tokens.scope_refusal(token) is None
    user.roles.update(role="viewer")
    token = AccessToken.objects.select_related("user").get(pk=token.pk)
    refusal = tokens.scope_refusal(token)
    assert refusal is not None and refusal.reason == "scope"


@pytest.mark.parametrize("persona", ["city_admin", "town_officer", "assessor", "viewer", "nobody"])
def test_the_token_page_answers_every_signed_in_person_with_his_own_tokens(
    world, client_for, persona
):
    make(world.users["community_staff"])
    response = client_for(world.users[persona]).get(reverse("token_list"))
    assert response.status_code == 200
    assert list(response.context["tokens"]) == []


def test_the_token_page_asks_a_stranger_to_sign_in(client, db):
    assert client.get(reverse("token_list")).status_code == 302


def assert_error_read_with_its_box(page: str, field: str) -> None:
    """The box is marked invalid, and every id its aria-describedby names is on the page with
    the error among them (Django 5.2 names `id_x_helptext` and `id_x_error`; the shared form
    template rendered neither, so a screen reader read the box without its message)."""
    tag = re.search(rf'<(?:input|select|textarea)\b[^>]*\bid="id_{field}"[^>]*>', page)
    assert tag, field
    assert 'aria-invalid="true"' in tag.group(0) and "is-invalid" in tag.group(0)
    described = re.search(r'aria-describedby="([^"]+)"', tag.group(0))
    assert described and f"id_{field}_error" in described.group(1).split()
    for target in described.group(1).split():
        assert f'id="{target}"' in page, target
