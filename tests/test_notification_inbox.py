"""The inbox, the unread count on every page, marking read and the choice of channels (issue 18
item 3, ADR 28): a person sees and changes only his own."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from civicmark.core.models import AuditEvent
from civicmark.notifications.models import Event, Notification, Preference
from civicmark.notifications.services import notify
from civicmark.notifications.views import PAGE

from .test_authz_matrix import PERSONAS
from .test_tokens import assert_error_read_with_its_box


def tell(user, key, link=""):  # noqa: ANN001, ANN201
    return notify([user], event=Event.TASK_DUE, key=key, title=f"Task {key}", link=link)[0]


def unread_badge(page: str) -> str | None:
    found = re.search(r'data-testid="unread-count">(\d+)<', page)
    return found.group(1) if found else None


def test_the_unread_count_is_on_every_page_and_goes_down_when_read(world, client_for):
    staff = world.users["community_staff"]
    first, _second = tell(staff, "a"), tell(staff, "b")
    client = client_for(staff)
    for name in ("home", "division_list", "inbox"):
        assert unread_badge(client.get(reverse(name)).content.decode()) == "2", name
    client.post(reverse("notification_read", args=[first.public_id]))
    assert unread_badge(client.get(reverse("home")).content.decode()) == "1"
    client.post(reverse("notifications_read_all"))
    page = client.get(reverse("home")).content.decode()
    assert unread_badge(page) is None and 'data-testid="inbox-link"' in page


def test_the_unread_count_costs_one_indexed_query(world, client_for):
    staff = world.users["community_staff"]
    tell(staff, "a")
    client = client_for(staff)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("division_list"))
    counts = [q["sql"] for q in queries if "notifications_notification" in q["sql"]]
    assert len(counts) == 1 and "COUNT(" in counts[0].upper()


def test_someone_told_nothing_sees_no_count(world, client_for):
    page = client_for(world.users["viewer"]).get(reverse("home")).content.decode()
    assert unread_badge(page) is None


def test_the_inbox_lists_his_own_newest_first_and_pages(world, client_for):
    staff, other = world.users["community_staff"], world.users["other_staff"]
    for n in range(PAGE + 3):
        tell(staff, f"k{n:02d}", link="/campaigns/")
    tell(other, "not-his")
    client = client_for(staff)
    page = client.get(reverse("inbox")).content.decode()
    titles = re.findall(
        r'data-testid="notification".*?<strong>(?:<(?:a|button) [^>]*>)?([^<]+)<', page, re.S
    )
    assert titles[0] == f"Task k{PAGE + 2:02d}" and len(titles) == PAGE
    assert "not-his" not in page and 'name="open" value="1"' in page
    rest = client.get(reverse("inbox") + "?page=2").content.decode()
    assert rest.count('data-testid="notification"') == 3 and "Task k00" in rest
    assert page.count('data-unread="1"') == PAGE


def test_another_persons_notification_is_not_found_and_stays_unread(world, client_for):
    theirs = tell(world.users["other_staff"], "theirs")
    events = AuditEvent.objects.count()
    response = client_for(world.users["community_staff"]).post(
        reverse("notification_read", args=[theirs.public_id])
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None and AuditEvent.objects.count() == events


def test_mark_read_is_a_post_with_its_audit_event(world, client_for):
    staff = world.users["community_staff"]
    mine = tell(staff, "mine", link="/campaigns/")
    client = client_for(staff)
    assert client.get(reverse("notification_read", args=[mine.public_id])).status_code == 405
    response = client.post(reverse("notification_read", args=[mine.public_id]), {"open": "1"})
    assert response.status_code == 302 and response["Location"] == "/campaigns/"
    mine.refresh_from_db()
    assert mine.read_at is not None
    event = AuditEvent.objects.get(action="notification.read")
    assert (event.actor, event.object_ref) == (staff, str(mine.public_id))
    # Marking it again changes nothing and writes nothing
    client.post(reverse("notification_read", args=[mine.public_id]))
    assert AuditEvent.objects.filter(action="notification.read").count() == 1


def test_an_unread_ones_title_opens_it_through_the_post_that_marks_it_read(world, client_for):
    """Following the title is what people do: a plain link left the notification unread and
    the count in the header up (found walking the inbox on a phone)."""
    staff = world.users["community_staff"]
    linked, plain = tell(staff, "linked", link="/campaigns/"), tell(staff, "plain")
    client = client_for(staff)
    page = client.get(reverse("inbox")).content.decode()
    title = re.search(
        r'<button form="n-([0-9a-f-]+)" name="open" value="1"[^>]*>Task linked<', page
    )
    assert title and title.group(1) == str(linked.public_id)
    assert (
        f'<form method="post" action="{reverse("notification_read", args=[linked.public_id])}" id="n-{linked.public_id}"'
        in page
    )
    assert '<a href="/campaigns/"' not in page.split('data-testid="inbox"')[1]
    assert "<strong>Task plain</strong>" in page  # no link, nothing to open
    client.post(reverse("notification_read", args=[linked.public_id]), {"open": "1"})
    page = client.get(reverse("inbox")).content.decode()
    # Once read, the title is a plain link again: nothing is left to mark
    assert '<a href="/campaigns/" data-testid="notification-title">Task linked</a>' in page
    assert plain.public_id and unread_badge(page) == "1"


def test_the_inbox_in_chinese_says_new_and_open_not_a_recommendation_or_not_started(
    world, client_for
):
    """ "New" and "Open" were the employment pages' 新推荐 (a new recommendation) and the task
    status 未开始 (not started): the inbox's own words have their own context."""
    staff = world.users["community_staff"]
    tell(staff, "a", link="/campaigns/")
    client = client_for(staff)
    client.cookies["django_language"] = "zh-hans"
    page = client.get(reverse("inbox")).content.decode()
    assert 'data-testid="open"' in page and 'data-testid="mark-read"' in page
    assert "新推荐" not in page and "未开始" not in page


def test_an_outside_link_is_never_followed(world, client_for):
    staff = world.users["community_staff"]
    odd = tell(staff, "odd", link="https://evil.example/")
    response = client_for(staff).post(
        reverse("notification_read", args=[odd.public_id]), {"open": "1"}
    )
    assert response["Location"] == reverse("inbox")


def test_mark_all_read_touches_only_his_own(world, client_for):
    staff, other = world.users["community_staff"], world.users["other_staff"]
    tell(staff, "a"), tell(staff, "b"), tell(other, "c")
    client_for(staff).post(reverse("notifications_read_all"))
    assert not Notification.objects.filter(recipient=staff, read_at=None).exists()
    assert Notification.objects.filter(recipient=other, read_at=None).count() == 1
    assert AuditEvent.objects.get(action="notifications.read_all").after == {"count": 2}


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_signed_in_person_opens_his_inbox_and_preferences(world, client_for, persona):
    client = client_for(world.users[persona])
    assert client.get(reverse("inbox")).status_code == 200
    assert client.get(reverse("notification_preferences")).status_code == 200


@pytest.mark.parametrize("name", ["inbox", "notification_preferences"])
def test_anonymous_visitors_are_sent_to_sign_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_anonymous_visitors_mark_nothing_read(world, client):
    mine = tell(world.users["community_staff"], "a")
    client.post(reverse("notification_read", args=[mine.public_id]))
    client.post(reverse("notifications_read_all"))
    mine.refresh_from_db()
    assert mine.read_at is None


# -- preferences ------------------------------------------------------------------------------------


def test_preferences_are_saved_with_the_number_normalised_and_audited(world, client_for):
    staff = world.users["community_staff"]
    response = client_for(staff).post(
        reverse("notification_preferences"),
        {"email": "off", "webhook": "immediate", "mobile": "+86 138-0013-8000", "language": "en"},
    )
    assert response.status_code == 302
    saved = Preference.objects.get(user=staff)
    assert (saved.email, saved.webhook, saved.mobile, saved.language) == (
        "off",
        "immediate",
        "13800138000",
        "en",
    )
    event = AuditEvent.objects.get(action="notifications.preferences_set")
    assert event.after["mobile"] == "yes" and "13800138000" not in str(event.after)


@pytest.mark.parametrize(
    ("field", "value"),
    [("mobile", "12345"), ("mobile", "23800138000"), ("email", "hourly"), ("language", "fr")],
)
def test_bad_preferences_are_refused_with_what_was_typed_shown_back(
    world, client_for, field, value
):
    staff = world.users["community_staff"]
    data = {"email": "digest", "webhook": "digest", "mobile": "13800138000", "language": "en"}
    data[field] = value
    response = client_for(staff).post(reverse("notification_preferences"), data)
    assert response.status_code == 422
    page = response.content.decode()
    assert f'data-testid="error-{field}"' in page
    if field == "mobile":
        assert f'value="{value}"' in page
        assert_error_read_with_its_box(page, field)
    assert not Preference.objects.filter(user=staff).exists()
    assert not AuditEvent.objects.filter(action="notifications.preferences_set").exists()


def test_the_preference_page_counts_his_deliveries(world, client_for):
    from civicmark.notifications.models import Channel, Delivery

    staff = world.users["community_staff"]
    note = tell(staff, "a")
    for status in ("sent", "sent", "failed"):
        delivery = Delivery.objects.create(
            recipient=staff,
            channel=Channel.WEBHOOK,
            key=f"k{Delivery.objects.count()}",
            subject="s",
            text="t",
            status=status,
        )
        delivery.notifications.add(note)
    Delivery.objects.create(
        recipient=world.users["other_staff"], channel="webhook", key="x", subject="s", text="t"
    )
    client = client_for(staff)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("notification_preferences")).content.decode()
    assert "2 sent, 0 waiting, 1 given up" in page
    assert page.count('data-testid="delivery"') == 3


# -- the mobile number, over many cases --------------------------------------------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from civicmark.notifications.forms import PreferenceForm  # noqa: E402


def _form(mobile: str) -> PreferenceForm:
    return PreferenceForm(
        {"email": "off", "webhook": "digest", "mobile": mobile, "language": "zh-hans"},
        has_email=False,
        has_gateway=False,
    )


@given(
    second=st.sampled_from("3456789"),
    rest=st.text("0123456789", min_size=9, max_size=9),
    prefix=st.sampled_from(["", "+86", "+86 ", "0086"]),
    dash=st.booleans(),
)
def test_a_mobile_number_is_read_however_it_is_written(second, rest, prefix, dash):
    number = "1" + second + rest
    written = prefix + (f"{number[:3]}-{number[3:7]}-{number[7:]}" if dash else number)
    form = _form(written)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["mobile"] == number


@given(st.text("0123456789+-() ", max_size=18))
def test_anything_but_a_mobile_number_is_refused(text):
    # The reference: separators dropped, then +86 or 0086, then 1[3-9] and nine digits (or nothing).
    digits = re.sub(r"[ \-()]", "", text)
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
            break
    expected = digits == "" or re.fullmatch(r"1[3-9][0-9]{9}", digits) is not None
    assert _form(text).is_valid() == expected
