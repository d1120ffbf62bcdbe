"""Sign-in fit for a government system: strong passwords, throttles that catch a password spray,
a second factor for the people who hold the city, and idle privileged sessions that end."""

from __future__ import annotations

import base64
import re
import time
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from civicmark.accounts.models import User
from civicmark.accounts.services import password_link
from civicmark.core.models import AuditEvent
from tests.factories import person

PASSWORD = "x-secret-password-1"  # the factories' password
OTP_ON = override_settings(CIVICMARK_OTP_REQUIRED=True)


@pytest.fixture
def en_client() -> Client:
    """A client that reads the pages in English (the messages are asserted in English)."""
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _sign_in(client: Client, username: str, password: str = PASSWORD, address: str = "10.1.1.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def _device(user: User, *, confirmed: bool = True) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=confirmed)


def _code(key_hex: str, *, offset: int = 0) -> str:
    totp = TOTP(bytes.fromhex(key_hex))
    totp.time = time.time() + offset * 30
    return f"{totp.token():06d}"


# --- Passwords ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    ["aaaaaaaaaaaa", " " * 12, "abababababab", "aaaaaaaaaaab", "1212121212121", "abcabcabcabc"],
)
def test_it_refuses_a_password_of_one_repeated_character_or_nearly(db, en_client, password):
    user = person("newclerk")
    user.set_unusable_password()
    user.save()
    link = password_link(user)
    page = en_client.get(link[link.index("/accounts/") :], follow=True)
    form_url = page.redirect_chain[-1][0]
    response = en_client.post(form_url, {"new_password1": password, "new_password2": password})
    assert response.status_code == 200
    assert "distinct characters" in response.content.decode() or "repeats" in (
        response.content.decode()
    )
    user.refresh_from_db()
    assert not user.has_usable_password()


@pytest.mark.parametrize(
    "password", ["Zhangwei-2026!!", "2026!zhangwei#", "ZHANGWEI.city.2026", "Wei-Zhang-2026"]
)
def test_it_refuses_a_password_like_the_username_or_name(db, password):
    user = User(username="zhangwei", full_name="Wei Zhang")
    with pytest.raises(ValidationError) as refused:
        validate_password(password, user)
    assert any(e.code == "password_like_user" for e in refused.value.error_list)


@pytest.mark.parametrize("password", ["short-1!", "password1234", "qwertyuiopasdf", "123456789012"])
def test_it_refuses_short_and_common_passwords(db, password):
    with pytest.raises(ValidationError):
        validate_password(password, User(username="clerk"))


@pytest.mark.parametrize(
    "password", ["Lotus-pond-2026!", "correct horse battery", "清源市社区建设2026年"]
)
def test_it_accepts_a_long_varied_password(db, password):
    validate_password(password, User(username="zhangwei", full_name="Wei Zhang"))


# --- Throttles ------------------------------------------------------------------------------


def test_it_locks_one_username_tried_from_many_addresses(db, en_client):
    User.objects.create_user("clerk", password="Correct-horse-2026")
    for n in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(en_client, "clerk", f"wrong-guess-{n}", address=f"10.0.0.{n + 1}")
    response = _sign_in(en_client, "clerk", "Correct-horse-2026", address="10.0.9.9")
    assert response.status_code == 429
    assert not _signed_in(en_client)
    assert "clerk" not in response.content.decode()


@override_settings(CIVICMARK_ADDRESS_FAILURE_LIMIT=8)
def test_it_locks_an_address_that_tries_many_usernames(db, en_client):
    User.objects.create_user("clerk", password="Correct-horse-2026")
    for n in range(8):
        person(f"target{n}")
        _sign_in(en_client, f"target{n}", f"guess-number-{n}", address="10.0.0.7")
    locked = _sign_in(en_client, "clerk", "Correct-horse-2026", address="10.0.0.7")
    assert locked.status_code == 429 and not _signed_in(en_client)
    elsewhere = _sign_in(en_client, "clerk", "Correct-horse-2026", address="10.0.0.8")
    assert elsewhere.status_code == 302 and _signed_in(en_client)


def test_an_address_is_not_locked_by_a_few_typos_of_different_people(db, en_client):
    """A government office signs in from one address: five typos by five people lock nobody."""
    for n in range(settings.AXES_FAILURE_LIMIT + 1):
        person(f"clerk{n}")
        _sign_in(en_client, f"clerk{n}", f"typo-{n}-password", address="10.0.0.7")
    ok = _sign_in(en_client, "clerk0", PASSWORD, address="10.0.0.7")
    assert ok.status_code == 302 and _signed_in(en_client)


@override_settings(CIVICMARK_SPRAY_LIMIT=5)
def test_it_stops_one_password_sprayed_across_many_usernames(db, en_client):
    # Given one password tried once each for five people, from five addresses
    sprayed = "Spring-2026-welcome"
    victim = User.objects.create_user("victim", password=sprayed)
    for n in range(5):
        person(f"staff{n}")
        _sign_in(en_client, f"staff{n}", sprayed, address=f"10.2.0.{n + 1}")
    # When it is tried for a sixth person, whose password it really is, from a fresh address
    response = _sign_in(en_client, "victim", sprayed, address="10.2.9.9")
    # Then the sign-in is refused with a message that says to wait and names nothing else
    assert not _signed_in(en_client)
    page = response.content.decode()
    assert "Too many failed sign-ins" in page and "wait" in page.lower()
    assert "password" not in _errors(page).lower() and "victim" not in _errors(page)
    # and another password still signs another person in
    person("honest")
    assert _sign_in(en_client, "honest", PASSWORD, address="10.2.9.9").status_code == 302
    assert _signed_in(en_client)
    assert victim.last_login is None


def _errors(page: str) -> str:
    match = re.search(r'<div class="alert alert-danger">(.*?)</div>', page, re.S)
    return match.group(1) if match else ""


@override_settings(CIVICMARK_SPRAY_LIMIT=3)
def test_the_same_person_mistyping_the_same_password_is_not_a_spray(db, en_client):
    person("clerk")
    for n in range(3):
        _sign_in(en_client, "clerk", "my-old-password-2025", address=f"10.3.0.{n}")
    person("other")
    response = _sign_in(en_client, "other", "my-old-password-2025", address="10.3.1.1")
    assert "Too many failed sign-ins" not in response.content.decode()


@override_settings(CIVICMARK_SPRAY_LIMIT=2)
def test_it_keeps_no_tried_password_in_the_cache(db, en_client):
    for n in range(3):
        person(f"staff{n}")
        _sign_in(en_client, f"staff{n}", "Sprayed-Secret-77", address=f"10.4.0.{n}")
    stored = repr(list(cache._cache.items())) + repr(list(cache._cache.keys()))  # type: ignore[attr-defined]
    assert "Sprayed-Secret-77" not in stored
    assert "staff1" not in stored


# --- The second factor ----------------------------------------------------------------------


@pytest.fixture
def privileged(world):
    """A superuser, a city administrator and a county officer."""
    admin = User.objects.create_superuser("root", password=PASSWORD)
    return {
        "superuser": admin,
        "city_admin": world.users["city_admin"],
        "county_officer": world.users["county_officer"],
    }


@OTP_ON
@pytest.mark.parametrize("who", ["superuser", "city_admin", "county_officer"])
def test_it_takes_a_privileged_person_without_a_device_to_enrol(privileged, en_client, who):
    user = privileged[who]
    # Given the password is right
    response = _sign_in(en_client, user.username)
    assert response.status_code == 302
    page = en_client.get(reverse("home"), follow=True)
    # Then he is taken to enrol: a QR code drawn inline and the secret as text
    assert page.redirect_chain[-1][0].startswith(reverse("otp_enrol"))
    html = page.content.decode()
    assert "<svg" in html
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', html).group(1)
    key_hex = base64.b32decode(secret.replace(" ", "")).hex()
    assert not TOTPDevice.objects.filter(user=user).exists()  # nothing stored before he confirms
    # When he types a wrong code, nothing is enrolled
    wrong = en_client.post(reverse("otp_enrol"), {"code": _wrong(_code(key_hex))})
    assert wrong.status_code == 200 and "wrong" in wrong.content.decode().lower()
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert en_client.get(reverse("home")).status_code == 302
    # When he confirms with the right code, the device is his and the pages open
    right = en_client.post(reverse("otp_enrol"), {"code": _code(key_hex)})
    assert right.status_code == 302
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed and device.key == key_hex
    assert AuditEvent.objects.filter(action="otp.enrolled", object_ref=user.username).exists()
    assert en_client.get(reverse("home")).status_code == 200


def _wrong(code: str) -> str:
    return f"{(int(code) + 500000) % 1000000:06d}"


@OTP_ON
def test_a_privileged_person_with_a_device_must_enter_a_right_code(privileged, en_client):
    user = privileged["county_officer"]
    device = _device(user)
    _sign_in(en_client, user.username)
    page = en_client.get(reverse("person_list"), follow=True)
    assert page.redirect_chain[-1][0].startswith(reverse("otp_verify"))
    # A wrong code is refused and the pages stay closed
    wrong = en_client.post(reverse("otp_verify"), {"code": _wrong(_code(device.key))})
    assert wrong.status_code == 200 and "wrong" in wrong.content.decode().lower()
    assert en_client.get(reverse("person_list")).status_code == 302
    # (django-otp makes him wait after a wrong code; the wait is over)
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)
    right = en_client.post(
        reverse("otp_verify") + "?next=" + reverse("person_list"), {"code": _code(device.key)}
    )
    assert right.status_code == 302 and right["Location"] == reverse("person_list")
    assert en_client.get(reverse("person_list")).status_code == 200


@OTP_ON
def test_a_code_is_not_accepted_twice(privileged, en_client):
    user = privileged["city_admin"]
    device = _device(user)
    code = _code(device.key)
    _sign_in(en_client, user.username)
    assert en_client.post(reverse("otp_verify"), {"code": code}).status_code == 302
    other = Client()
    _sign_in(other, user.username)
    assert other.post(reverse("otp_verify"), {"code": code}).status_code == 200
    assert other.get(reverse("home")).status_code == 302


URLS_TO_TRY = [
    ("home", {}),
    ("person_list", {}),
    ("person_create", {}),
    ("division_list", {}),
    ("campaign_list", {}),
    ("audit_list", {}),
    ("password_change", {}),
    ("employment_home", {}),
    ("division_detail", {"args": ["K1"]}),
    ("admin:index", {}),
    ("admin:accounts_user_changelist", {}),
]


@OTP_ON
@pytest.mark.parametrize("who", ["superuser", "city_admin", "county_officer"])
def test_an_unverified_privileged_person_reaches_only_the_code_pages_and_logout(privileged, who):
    client = Client()
    client.force_login(privileged[who])
    for name, kwargs in URLS_TO_TRY:
        url = reverse(name, **kwargs)
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("otp_enrol")), url
    people = User.objects.count()
    events = AuditEvent.objects.count()
    refused = client.post(
        reverse("person_create"),
        {"username": "sneaky", "full_name": "x", "role": "community_staff", "division": "C111"},
    )
    assert refused.status_code == 302
    assert User.objects.count() == people and AuditEvent.objects.count() == events
    assert client.get(reverse("otp_enrol")).status_code == 200
    out = client.post(reverse("logout"))
    assert out.status_code == 302 and not _signed_in(client)


@OTP_ON
@pytest.mark.parametrize("who", ["town_officer", "community_staff", "assessor", "viewer"])
def test_others_are_not_asked_for_a_code(world, en_client, who):
    _sign_in(en_client, who)
    assert en_client.get(reverse("home")).status_code == 200


@OTP_ON
def test_someone_who_chose_a_second_factor_is_asked_for_it(world, en_client):
    device = _device(world.users["town_officer"])
    _sign_in(en_client, "town_officer")
    assert en_client.get(reverse("home"))["Location"].startswith(reverse("otp_verify"))
    en_client.post(reverse("otp_verify"), {"code": _code(device.key)})
    assert en_client.get(reverse("home")).status_code == 200


@OTP_ON
def test_anyone_may_enrol_a_second_factor_from_his_account_page(world, en_client):
    _sign_in(en_client, "community_staff")
    page = en_client.get(reverse("otp_enrol"))
    assert page.status_code == 200 and "<svg" in page.content.decode()


def test_the_requirement_can_be_turned_off_for_development(privileged, en_client):
    assert settings.CIVICMARK_OTP_REQUIRED is False  # the test settings
    _sign_in(en_client, "city_admin")
    assert en_client.get(reverse("home")).status_code == 200


def test_the_requirement_is_on_by_default():
    from civicmark.config import settings as production

    assert production.CIVICMARK_OTP_REQUIRED is True


# --- Idle privileged sessions ---------------------------------------------------------------


def _idle(client: Client, minutes: int) -> None:
    session = client.session
    session["civicmark_last_seen"] = int(time.time()) - minutes * 60
    session.save()


@pytest.mark.parametrize("who", ["city_admin", "county_officer"])
def test_a_privileged_session_ends_after_30_idle_minutes(world, en_client, who):
    _sign_in(en_client, who)
    assert en_client.get(reverse("home")).status_code == 200
    _idle(en_client, 29)
    assert en_client.get(reverse("home")).status_code == 200  # activity starts the clock again
    _idle(en_client, 31)
    response = en_client.get(reverse("division_list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not _signed_in(en_client)
    page = en_client.get(response["Location"])
    assert "30 minutes" in page.content.decode()


def test_other_sessions_keep_the_usual_session_age(world, en_client):
    _sign_in(en_client, "town_officer")
    assert en_client.get(reverse("home")).status_code == 200
    _idle(en_client, 120)
    assert en_client.get(reverse("home")).status_code == 200 and _signed_in(en_client)


# --- The demo -------------------------------------------------------------------------------


@OTP_ON
def test_the_demo_gives_each_privileged_account_a_device_and_prints_its_secret(db, en_client):
    out = StringIO()
    call_command("demo", "--no-serve", stdout=out)
    printed = out.getvalue()
    for username in ("admin", "city", "county"):
        device = TOTPDevice.objects.get(user__username=username, confirmed=True)
        secret = base64.b32encode(device.bin_key).decode()
        assert re.search(rf"^\s*{username}\b.*{secret}", printed, re.M), username
    assert not TOTPDevice.objects.filter(user__username__in=["town", "community"]).exists()
    # The current code is one command away, and it opens the pages
    code = StringIO()
    call_command("totp", "city", stdout=code)
    assert re.fullmatch(r"\d{6}\n", code.getvalue())
    _sign_in(en_client, "city", "CivicMark-demo-2026")
    assert (
        en_client.post(reverse("otp_verify"), {"code": code.getvalue().strip()}).status_code == 302
    )
    assert en_client.get(reverse("home")).status_code == 200
    # Loading it again changes nothing
    before = list(TOTPDevice.objects.values_list("user__username", "key"))
    call_command("demo", "--no-serve", stdout=StringIO())
    assert list(TOTPDevice.objects.values_list("user__username", "key")) == before


def test_the_totp_command_prints_codes_of_demo_devices_only(world):
    _device(world.users["city_admin"])
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("totp", "city_admin", stdout=StringIO())


def test_an_operator_resets_a_lost_second_factor(world):
    user = world.users["county_officer"]
    _device(user)
    out = StringIO()
    call_command("totp", "county_officer", "--reset", stdout=out)
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert AuditEvent.objects.filter(action="otp.reset", object_ref="county_officer").exists()


def test_a_manager_outside_the_persons_area_cannot_reset_his_second_factor(world):
    from django.core.management.base import CommandError

    user = world.users["county_officer"]
    _device(user)
    events = AuditEvent.objects.count()
    with pytest.raises(CommandError):
        call_command(
            "totp", "county_officer", "--reset", "--user", "other_county_officer", stdout=StringIO()
        )
    assert TOTPDevice.objects.filter(user=user).exists()
    assert AuditEvent.objects.count() == events


@OTP_ON
def test_a_new_secret_replaces_the_old_device_only_once_confirmed(world, en_client):
    user = world.users["town_officer"]
    old = _device(user)
    _sign_in(en_client, "town_officer")
    en_client.post(reverse("otp_verify"), {"code": _code(old.key)})
    page = en_client.get(reverse("otp_enrol")).content.decode()
    assert "replaces" in page
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page).group(1)
    key_hex = base64.b32decode(secret.replace(" ", "")).hex()
    assert TOTPDevice.objects.get(user=user).key == old.key
    en_client.post(reverse("otp_enrol"), {"code": _code(key_hex)})
    assert list(TOTPDevice.objects.filter(user=user).values_list("key", flat=True)) == [key_hex]


@override_settings(CIVICMARK_SPRAY_LIMIT=3)
def test_the_admin_login_counts_a_spray_too(db, en_client):
    for n in range(3):
        person(f"staff{n}", is_staff=True)
        en_client.post(
            reverse("admin:login"),
            {"username": f"staff{n}", "password": "Sprayed-Secret-77"},
            REMOTE_ADDR=f"10.5.0.{n}",
        )
    User.objects.create_superuser("root", password="Sprayed-Secret-77")
    response = en_client.post(
        reverse("admin:login"), {"username": "root", "password": "Sprayed-Secret-77"}
    )
    assert "Too many failed sign-ins" in response.content.decode()
    assert not _signed_in(en_client)


@OTP_ON
def test_a_wrong_code_is_logged(privileged, en_client, caplog):
    device = _device(privileged["city_admin"])
    _sign_in(en_client, "city_admin")
    with caplog.at_level("WARNING", logger="civicmark.security"):
        en_client.post(reverse("otp_verify"), {"code": _wrong(_code(device.key))})
    assert "Wrong second-factor code for city_admin" in caplog.text


@OTP_ON
def test_the_code_pages_offer_no_menu_that_would_bounce_back(privileged, en_client):
    _sign_in(en_client, "county_officer")
    page = en_client.get(reverse("otp_enrol")).content.decode()
    assert reverse("person_list") not in page and reverse("logout") in page
