"""The public notice before naming (公示, issue 17 item 5, ADR 22): the window in working days,
objections only while it is open, throttled and with nothing personal on the public pages, the
city's decisions, and the naming final only once the notice has closed and every objection to
the community is decided."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civicmark.assessments.models import NoticeEntry, Objection, PublicNotice
from civicmark.assessments.notice import naming_refusal, window_closes
from civicmark.assessments.notice_services import (
    ObjectionRefused,
    notice_publish,
    objection_decide,
    objection_submit,
)
from civicmark.assessments.workflow import State, TransitionRefused, transition_apply
from civicmark.campaigns.models import Enrollment
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.core.models import AuditEvent
from civicmark.core.workdays import is_working_day, last_of_working_days
from civicmark.employment.models import Holiday
from civicmark.results.models import Certificate
from civicmark.results.services import certificates_issue
from tests.test_workflow import pass_round

TODAY = timezone.localdate()
STATEMENT = "三号楼前仍有占道经营，晚上影响通行。"
NAME, CONTACT = "赵建国", "13800138000"


@pytest.fixture
def named(scoring, world):  # noqa: ANN001, ANN201
    """July's municipal round finalised: C111 a standard unit, C112 proposed for commendation."""
    s = scoring
    for code, state in (("C111", State.STANDARD_UNIT), ("C112", State.PROPOSED)):
        pass_round(s, 2, code)
        Enrollment.objects.filter(pk=s["enrollments"][code].pk).update(status=state)
    round_ = s["round"]
    round_.finalised_at = timezone.now()
    round_.save(update_fields=["finalised_at"])
    s["city"] = world.users["city_admin"]
    return s


def publish(s, today=TODAY, days=5):  # noqa: ANN001, ANN201
    return notice_publish(actor=s["city"], round_=s["round"], working_days=days, today=today)


def entry(notice, code):  # noqa: ANN001, ANN201
    return notice.entries.get(enrollment__community__code=code)


def object_to(notice, code, today=TODAY):  # noqa: ANN001, ANN201
    return objection_submit(
        notice=notice,
        entry=entry(notice, code),
        statement=STATEMENT,
        name=NAME,
        contact=CONTACT,
        today=today,
    )


def status(s, code):  # noqa: ANN001, ANN201
    return Enrollment.objects.get(pk=s["enrollments"][code].pk).status


# --- the window -----------------------------------------------------------------------------


def test_it_counts_the_window_in_working_days_from_publication():
    monday = dt.date(2026, 11, 30)
    assert last_of_working_days(monday, 5, {}) == dt.date(2026, 12, 4)
    assert last_of_working_days(dt.date(2026, 12, 5), 5, {}) == dt.date(2026, 12, 11)  # Saturday
    # National Day week off, the Saturday after it a working day (调休).
    calendar = {dt.date(2026, 10, d): False for d in range(1, 8)} | {dt.date(2026, 10, 10): True}
    assert last_of_working_days(dt.date(2026, 9, 30), 5, calendar) == dt.date(2026, 10, 12)


@given(
    start=st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2028, 12, 31)),
    days=st.integers(min_value=1, max_value=30),
    holidays=st.sets(st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2029, 3, 31))),
)
def test_the_window_holds_exactly_its_working_days_and_ends_on_one(start, days, holidays):
    calendar = {d: False for d in holidays}
    end = last_of_working_days(start, days, calendar)
    span = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    assert sum(is_working_day(d, calendar) for d in span) == days
    assert is_working_day(end, calendar)


def test_it_reads_the_official_calendar(db):
    Holiday.objects.create(day=dt.date(2026, 12, 2), is_working_day=False, name="假")
    assert window_closes(dt.date(2026, 11, 30), 5) == dt.date(2026, 12, 7)


# --- publishing -----------------------------------------------------------------------------


def test_the_city_publishes_the_rounds_list_with_its_window(named):
    monday = dt.date(2026, 11, 30)
    notice = publish(named, today=monday)
    assert (notice.opens_on, notice.closes_on) == (monday, dt.date(2026, 12, 4))
    listed = dict(notice.entries.values_list("enrollment__community__code", "proposed_for"))
    assert listed == {"C111": "standard", "C112": "commendation"}
    event = AuditEvent.objects.get(action="notice.published")
    assert event.after["communities"] == listed
    # Everyone is on it: a second notice would list nobody.
    with pytest.raises(ApplicationError):
        publish(named)


def test_only_the_round_lead_publishes(named, world):
    for who in ("county_officer", "town_officer", "assessor", "nobody"):
        with pytest.raises(NotAllowed):
            notice_publish(actor=world.users[who], round_=named["round"], today=TODAY)
    assert not PublicNotice.objects.exists()
    assert not AuditEvent.objects.filter(action="notice.published").exists()


def test_it_publishes_a_finalised_municipal_round_only(named):
    named["round"].finalised_at = None
    named["round"].save(update_fields=["finalised_at"])
    with pytest.raises(ApplicationError):
        publish(named)
    assert not PublicNotice.objects.exists()


# --- objections -----------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [-1, 5])
def test_it_refuses_an_objection_outside_the_window(named, offset):
    monday = dt.date(2026, 11, 30)
    notice = publish(named, today=monday)  # open until Friday 4 December
    events = AuditEvent.objects.count()
    with pytest.raises(ObjectionRefused) as refused:
        object_to(notice, "C111", today=monday + dt.timedelta(days=offset))
    assert "" in refused.value.errors
    assert not Objection.objects.exists()
    assert AuditEvent.objects.count() == events
    object_to(notice, "C111", today=dt.date(2026, 12, 4))  # the last day counts
    assert Objection.objects.count() == 1


def test_an_objection_is_audited_without_who_sent_it(named):
    objection = object_to(publish(named), "C111")
    event = AuditEvent.objects.get(action="notice.objection_received")
    assert event.object_ref == objection.reference
    text = f"{event.summary} {event.after} {event.before}"
    assert NAME not in text and CONTACT not in text
    assert event.actor is None


def _post(client, notice, **fields):  # noqa: ANN001, ANN201
    data = {
        "entry": entry(notice, "C111").pk,
        "statement": STATEMENT,
        "name": NAME,
        "contact": CONTACT,
        **fields,
    }
    return client.post(reverse("notice_public", args=[notice.public_id]), data)


def test_a_resident_objects_on_the_public_page_and_gets_a_reference(named):
    notice = publish(named)
    client = Client()
    response = _post(client, notice)
    objection = Objection.objects.get()
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200 and objection.reference in page.content.decode()
    assert page["X-Robots-Tag"] == "noindex"


def test_the_public_pages_show_nothing_personal(named):
    notice = publish(named)
    client = Client()
    response = _post(client, notice)
    pages = [
        client.get(reverse("notice_public", args=[notice.public_id])),
        client.get(reverse("notice_list")),
        client.get(response["Location"]),
    ]
    for page in pages:
        text = page.content.decode()
        assert page.status_code == 200 and page["X-Robots-Tag"] == "noindex"
        assert NAME not in text and CONTACT not in text and STATEMENT not in text
    listing = pages[0].content.decode()
    assert "Community 111" in listing and "Town 11" in listing and "County One" in listing


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("statement", "占道经营\u202e反了"),
        ("statement", "a\x00b"),
        ("statement", "长" * 2001),
        ("statement", "   "),
        ("name", "赵\x07建国"),
        ("name", ""),
        ("contact", "not a contact"),
        ("contact", "1380\u200f0138000"),
        ("contact", ""),
        ("entry", "999999"),
    ],
)
def test_it_refuses_hidden_characters_and_bad_values_and_shows_them_back(named, field, value):
    notice = publish(named)
    events = AuditEvent.objects.count()
    with translation.override("en"):
        response = _post(Client(), notice, **{field: value})
    assert response.status_code == 422
    assert not Objection.objects.exists() and AuditEvent.objects.count() == events
    text = response.content.decode()
    assert 'class="text-danger small' in text
    if field != "statement":
        assert STATEMENT in text  # what was typed comes back


def test_it_throttles_objections_by_address_and_notice(named, settings):
    settings.NOTICE_OBJECTIONS = 2
    notice = publish(named)
    here = Client(REMOTE_ADDR="10.0.0.1")
    assert _post(here, notice).status_code == 302
    assert _post(here, notice).status_code == 302
    refused = _post(here, notice)
    assert refused.status_code == 429
    assert Objection.objects.count() == 2
    assert STATEMENT in refused.content.decode()  # kept for a later try
    assert _post(Client(REMOTE_ADDR="10.0.0.2"), notice).status_code == 302


# --- the naming is final only after the notice ----------------------------------------------


def test_commendation_waits_for_a_closed_notice_with_every_objection_decided(named):
    s, city = named, named["city"]

    def commend() -> None:
        transition_apply(
            actor=city,
            campaign=s["campaign"],
            enrollments=[s["enrollments"]["C112"]],
            to=State.COMMENDED,
        )

    with translation.override("en"), pytest.raises(TransitionRefused) as refused:
        commend()
    assert "not been on a public notice" in str(refused.value)
    opened = TODAY - dt.timedelta(days=3)
    notice = publish(s, today=opened)
    objection = object_to(notice, "C112", today=opened)
    with translation.override("en"), pytest.raises(TransitionRefused) as refused:
        commend()
    assert f"open until {notice.closes_on}" in str(refused.value)
    PublicNotice.objects.filter(pk=notice.pk).update(closes_on=TODAY - dt.timedelta(days=1))
    with translation.override("en"), pytest.raises(TransitionRefused) as refused:
        commend()
    assert "1 objection(s) to it on the public notice await" in str(refused.value)
    assert status(s, "C112") == State.PROPOSED
    objection_decide(actor=city, objection=objection, decision="dismissed", reason="核查不实")
    commend()
    assert status(s, "C112") == State.COMMENDED


def test_certificates_wait_for_the_notice(named):
    s = named
    events = AuditEvent.objects.count()
    with translation.override("en"), pytest.raises(ApplicationError) as refused:
        certificates_issue(actor=s["city"], round_=s["round"])
    assert "Community 111" in str(refused.value) and "not been on a public notice" in str(
        refused.value
    )
    notice = publish(s)
    with translation.override("en"), pytest.raises(ApplicationError) as refused:
        certificates_issue(actor=s["city"], round_=s["round"])
    assert f"open until {notice.closes_on}" in str(refused.value)
    assert not Certificate.objects.exists()
    assert AuditEvent.objects.count() == events + 1  # the publication alone
    PublicNotice.objects.filter(pk=notice.pk).update(closes_on=TODAY - dt.timedelta(days=1))
    assert naming_refusal(s["enrollments"]["C111"]) is None
    assert certificates_issue(actor=s["city"], round_=s["round"]) == 2


def test_an_upheld_objection_takes_the_community_off_the_list(named):
    s, city = named, named["city"]
    notice = publish(s)
    objection = object_to(notice, "C111")
    objection_decide(actor=city, objection=objection, decision="upheld", reason="核实属实")
    assert status(s, "C111") == State.RECTIFYING
    assert entry(notice, "C111").withdrawn_at is not None
    page = Client().get(reverse("notice_public", args=[notice.public_id])).content.decode()
    assert 'data-testid="withdrawn"' in page
    PublicNotice.objects.filter(pk=notice.pk).update(closes_on=TODAY - dt.timedelta(days=1))
    certificates_issue(actor=city, round_=s["round"])
    assert not Certificate.objects.filter(enrollment__community__code="C111").exists()
    # July's finding names it no more: only a later municipal round can.
    with translation.override("en"), pytest.raises(TransitionRefused) as refused:
        transition_apply(
            actor=city,
            campaign=s["campaign"],
            enrollments=[s["enrollments"]["C111"]],
            to=State.STANDARD_UNIT,
        )
    assert "objection upheld" in str(refused.value)


def test_an_upheld_objection_to_a_commendation_declines_it(named):
    s, city = named, named["city"]
    notice = publish(s)
    objection = object_to(notice, "C112")
    objection_decide(actor=city, objection=objection, decision="upheld", reason="群众反映属实")
    assert status(s, "C112") == State.STANDARD_UNIT
    # Its naming goes back on the round's next notice, as a standard unit only.
    again = publish(s)
    assert list(again.entries.values_list("proposed_for", flat=True)) == ["standard"]


def test_the_city_alone_decides_with_a_reason(named, world, client_for):
    s = named
    notice = publish(s)
    objection = object_to(notice, "C111")
    url = reverse("notice_detail", args=[s["campaign"].slug, notice.public_id])
    for who in ("county_officer", "town_officer", "assessor", "viewer"):
        client = client_for(world.users[who])
        assert client.get(url).status_code == 404
        data = {"objection": objection.public_id, "decision": "upheld", "reason": "x"}
        assert client.post(url, data).status_code == 404
    client = client_for(s["city"])
    page = client.get(url).content.decode()
    assert NAME in page and CONTACT in page  # the city sees who to ask
    events = AuditEvent.objects.count()
    with translation.override("en"):
        refused = client.post(url, {"objection": objection.public_id, "decision": "upheld"})
    assert refused.status_code == 422
    objection.refresh_from_db()
    assert objection.decision == "" and AuditEvent.objects.count() == events
    response = client.post(
        url, {"objection": objection.public_id, "decision": "dismissed", "reason": "不实"}
    )
    assert response.status_code == 302
    objection.refresh_from_db()
    assert (objection.decision, objection.reason, objection.decided_by) == (
        "dismissed",
        "不实",
        s["city"],
    )
    event = AuditEvent.objects.get(action="notice.objection_decided")
    assert CONTACT not in f"{event.summary} {event.after}"


def test_the_city_finds_the_objections_on_its_to_do(named, client_for):
    s = named
    object_to(publish(s), "C111")
    page = client_for(s["city"]).get(reverse("home")).content.decode()
    assert (
        reverse(
            "notice_detail",
            args=[
                s["campaign"].slug,
                NoticeEntry.objects.get(enrollment__community__code="C111").notice.public_id,
            ],
        )
        in page
    )


def test_the_demo_publishes_julys_notice_with_one_objection_decided(demo):
    notice = PublicNotice.objects.get(round__campaign=demo, round__number=2)
    assert (notice.opens_on, notice.closes_on) == (dt.date(2026, 7, 20), dt.date(2026, 7, 24))
    objection = Objection.objects.get(entry__notice=notice)
    assert objection.decision == "dismissed" and objection.reason
    jiefang = demo.enrollments.get(community__code="990121100001")
    assert entry(notice, "990121100001").proposed_for == "commendation"
    assert naming_refusal(jiefang, commendation=True) is None
    page = Client().get(reverse("notice_public", args=[notice.public_id])).content.decode()
    assert "和平里社区" in page and objection.name not in page and objection.contact not in page


def test_the_certificates_page_names_who_waits_for_the_notice(named, client_for):
    notice = publish(named)
    url = reverse("certificates", args=[named["campaign"].slug, 2])
    with translation.override("en"):
        page = client_for(named["city"]).get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="certificates-waiting"' in page
    assert "Community 111" in page and str(notice.closes_on) in page


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_the_objection_form_takes_hostile_values_without_a_server_error(named, data):
    """Each field given a hostile value (the form fuzz's own): below 500, and a refusal writes
    nothing."""
    from tests.test_fuzz_inputs import hostile_text

    notice = PublicNotice.objects.first() or publish(named)
    field = data.draw(st.sampled_from(["entry", "statement", "name", "contact"]))
    value = data.draw(hostile_text)
    objections, events = Objection.objects.count(), AuditEvent.objects.count()
    cache.clear()  # each try its own: the throttle has its test
    response = _post(Client(), notice, **{field: value})
    assert response.status_code < 500
    if response.status_code != 302:
        assert Objection.objects.count() == objections
        assert AuditEvent.objects.count() == events
