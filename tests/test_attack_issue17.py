"""An anonymous visitor's and an insider's attack on the public notice before naming (issue 17
item 5, ADR 22) and on issue 16's leftovers (the county standing in for a town without an
officer, the read-only viewer, tick boxes).

Each test tries what an attacker would: objections outside the window or to a community of
another notice, hostile text, a spoofed address, a guessed reference, a CSRF-less post; an
officer who does not lead the round, or is tied to the community, publishing or deciding; a
naming made final past an undecided objection or an open notice, through every path (service,
page, command line). A refused request changes nothing at all (`fingerprint`, the write
matrix's hash of every table); what holds is kept as a test too, briefly.
"""

# ruff: noqa: F811  (the `named` fixture imported from its module, then named as arguments)
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from civicmark.assessments.models import NoticeEntry, Objection, PublicNotice
from civicmark.assessments.notice import naming_refusal
from civicmark.assessments.notice_services import notice_publish
from civicmark.assessments.workflow import State, TransitionRefused, transition_apply
from civicmark.results.models import Certificate
from civicmark.results.services import certificates_issue
from tests.test_public_notice import (  # noqa: F401 - `named` is a fixture
    CONTACT,
    NAME,
    STATEMENT,
    entry,
    named,
    object_to,
    publish,
    status,
)
from tests.test_write_matrix import fingerprint

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
YESTERDAY = TODAY - dt.timedelta(days=1)


def client_of(user: Any, *, csrf: bool = False, **defaults: Any) -> Client:
    """A fresh client reading English (the wording asserted is the English one)."""
    client = Client(enforce_csrf_checks=csrf, **defaults)
    client.cookies["django_language"] = "en"
    if user is not None:
        client.force_login(user)
    return client


@contextmanager
def nothing_changes() -> Iterator[None]:
    before = fingerprint()
    yield
    assert fingerprint() == before, "a refused request changed the database"


@pytest.fixture
def no_last_login():  # noqa: ANN201
    """Signing in before each request must not count as a write (users.last_login)."""
    from django.contrib.auth.models import update_last_login
    from django.contrib.auth.signals import user_logged_in

    user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
    yield
    user_logged_in.connect(update_last_login, dispatch_uid="update_last_login")


def close(notice: PublicNotice) -> None:
    PublicNotice.objects.filter(pk=notice.pk).update(closes_on=YESTERDAY)
    notice.closes_on = YESTERDAY


def move(s: dict[str, Any], code: str, to: str, comment: str = "") -> int:
    return transition_apply(
        actor=s["city"],
        campaign=s["campaign"],
        enrollments=[s["enrollments"][code]],
        to=to,
        comment=comment,
    )


# --- a naming made final past its first notice ----------------------------------------------


def _proposed_after_an_objection(s: dict[str, Any]) -> tuple[PublicNotice, Objection]:
    """C111 stands on July's first notice as a standard unit and a resident objects to its
    naming; the city proposes it for commendation before deciding, and publishes the round's
    second notice, which lists C111 again, now for commendation."""
    first = publish(s, today=TODAY - dt.timedelta(days=3))
    objection = object_to(first, "C111", today=TODAY - dt.timedelta(days=3))
    move(s, "C111", State.PROPOSED)
    second = publish(s, today=TODAY - dt.timedelta(days=2))
    assert entry(second, "C111").proposed_for == "commendation"
    return second, objection


def test_an_undecided_objection_on_an_earlier_notice_holds_the_commendation_and_certificate(
    named,
):
    """The hole: the predicate read the community's latest notice alone. An objection to its
    naming still undecided on the first notice was forgotten once a second notice listed it for
    commendation: the city could commend it and issue its certificate, and upholding the
    objection afterwards took nothing back (a commended community is not "named", so no step)."""
    s = named
    second, objection = _proposed_after_an_objection(s)
    close(second)
    PublicNotice.objects.exclude(pk=second.pk).update(closes_on=YESTERDAY)
    enrollment = s["enrollments"]["C111"]
    with translation.override("en"):
        assert "await the city's decision" in (naming_refusal(enrollment, commendation=True) or "")
        assert "await the city's decision" in (naming_refusal(enrollment) or "")
        with pytest.raises(TransitionRefused):
            move(s, "C111", State.COMMENDED)
    certificates_issue(actor=s["city"], round_=s["round"])  # C112's: its notice is clear
    assert not Certificate.objects.filter(enrollment=enrollment).exists()
    assert status(s, "C111") == State.PROPOSED


def test_an_earlier_notice_still_open_holds_the_commendation(named):
    """The same hole through a longer window: the first notice stays up thirty working days,
    the second five; once the second closed, the community was commended while the public could
    still object to its naming on the first."""
    s = named
    second, objection = _proposed_after_an_objection(s)
    from civicmark.assessments.notice_services import objection_decide

    objection_decide(actor=s["city"], objection=objection, decision="dismissed", reason="不实")
    close(second)
    first = PublicNotice.objects.exclude(pk=second.pk).get()
    assert first.closes_on >= TODAY
    with translation.override("en"), pytest.raises(TransitionRefused) as refused:
        move(s, "C111", State.COMMENDED)
    assert f"open until {first.closes_on}" in str(refused.value)
    assert status(s, "C111") == State.PROPOSED


def test_no_path_commends_or_certifies_past_an_undecided_objection(named, no_last_login):
    """The same community through every door the city has: the commendation page, the
    certificates page and the command line; each refuses and writes nothing."""
    from io import StringIO

    from django.core.management import CommandError, call_command

    s = named
    second, _objection = _proposed_after_an_objection(s)
    PublicNotice.objects.update(closes_on=YESTERDAY)
    c111 = s["enrollments"]["C111"]
    Certificate.objects.all().delete()
    city = client_of(s["city"])
    slug = s["campaign"].slug
    with nothing_changes():
        city.post(
            reverse("commendation", args=[slug]), {"action": "confirm", "enrollment": [c111.pk]}
        )
        with pytest.raises(CommandError):
            call_command(
                "workflow",
                slug,
                "--to=commended",
                "--communities=C111",
                "--user=city_admin",
                stdout=StringIO(),
                stderr=StringIO(),
            )
    city.post(reverse("certificates", args=[slug, s["round"].number]), {"action": "issue"})
    assert not Certificate.objects.filter(enrollment=c111).exists()
    assert status(s, "C111") == State.PROPOSED


# --- an upheld objection, later bypassed ----------------------------------------------------


def test_the_round_whose_notice_took_a_naming_back_gives_it_no_certificate_later(named):
    """The hole: an objection upheld on July's notice took C111's naming back; November's round
    found it a standard unit again and its own notice closed clear. The predicate then read
    November's notice alone, and the city could issue C111 a certificate from July's round,
    dated July with July's total: the very finding the public's objection overturned."""
    from civicmark.assessments.notice_services import objection_decide
    from tests.test_workflow import pass_round

    s, city = named, named["city"]
    july = publish(s, today=TODAY - dt.timedelta(days=20))
    objection = object_to(july, "C111", today=TODAY - dt.timedelta(days=20))
    objection_decide(actor=city, objection=objection, decision="upheld", reason="核实属实")
    close(july)
    november = s["campaign"].rounds.get(number=3)
    november.covers.set([s["enrollments"]["C111"]])
    pass_round(s, 3, "C111")
    november.finalised_at = timezone.now()
    november.save(update_fields=["finalised_at"])
    move(s, "C111", State.STANDARD_UNIT)
    close(notice_publish(actor=city, round_=november, today=TODAY - dt.timedelta(days=10)))
    c111 = s["enrollments"]["C111"]
    assert naming_refusal(c111) is None  # final now, by November's finding
    with translation.override("en"):
        certificates_issue(actor=city, round_=s["round"])  # July's: C112 alone
    assert not Certificate.objects.filter(enrollment=c111).exists()
    assert certificates_issue(actor=city, round_=november) == 1
    assert Certificate.objects.get(enrollment=c111).round == november


# --- the anonymous visitor ------------------------------------------------------------------


def _objection(notice: PublicNotice, code: str = "C111", **fields: Any) -> dict[str, Any]:
    return {
        "entry": entry(notice, code).pk,
        "statement": STATEMENT,
        "name": NAME,
        "contact": CONTACT,
        **fields,
    }


def _public_url(notice: PublicNotice) -> str:
    return reverse("notice_public", args=[notice.public_id])


def _other_notice(s: dict[str, Any], code: str, *, closes_on: dt.date) -> PublicNotice:
    """Another notice of the round listing `code` (set up directly: the service lists each
    community once per purpose)."""
    other = PublicNotice.objects.create(
        round=s["round"], working_days=5, opens_on=TODAY - dt.timedelta(days=9), closes_on=closes_on
    )
    NoticeEntry.objects.create(
        notice=other, enrollment=s["enrollments"][code], proposed_for="standard", total=90
    )
    return other


def test_no_objection_is_taken_by_a_closed_notice_nor_for_another_notices_entry(named):
    """Held: a closed notice takes nothing; an entry of another notice, or one taken off the
    list, posted to this notice's address is refused beside the box; nothing is written."""
    from civicmark.assessments.notice_services import objection_decide

    s = named
    notice = publish(s)
    objection_decide(
        actor=s["city"], objection=object_to(notice, "C111"), decision="upheld", reason="属实"
    )
    closed = _other_notice(s, "C121", closes_on=YESTERDAY)
    still_open = _other_notice(s, "C211", closes_on=TODAY)
    anyone = client_of(None)
    attempts = [
        (notice, _objection(notice, "C111")),  # taken off the list
        (notice, {**_objection(notice, "C112"), "entry": entry(still_open, "C211").pk}),
        (closed, _objection(closed, "C121")),
    ]
    for target, data in attempts:
        with nothing_changes():
            reply = anyone.post(_public_url(target), data)
        assert reply.status_code == 422, data
    assert 'data-testid="closed"' in anyone.get(_public_url(closed)).content.decode()
    listed = anyone.get(reverse("notice_list")).content.decode()
    assert str(closed.public_id) not in listed and str(still_open.public_id) in listed


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "赵" * 61},
        {"contact": "1" * 121},
        {"contact": f"{'a' * 110}@example.com"},
        {"statement": "长" * 2001},
        {"statement": "<script>alert(1)</script>" * 100},  # over 2000, and markup
        {"entry": "-1"},
        {"entry": "1 OR 1=1"},
    ],
)
def test_oversized_or_hostile_objections_write_nothing(named, fields):
    """Held: a field past its column, markup past the limit, a doubled or injected entry: 422
    with the error beside its box, nothing written."""
    notice = publish(named)
    with nothing_changes():
        reply = client_of(None).post(_public_url(notice), _objection(notice, **fields))
    assert reply.status_code == 422
    assert "<script>alert" not in reply.content.decode()


def test_markup_in_a_statement_is_text_on_the_citys_page(named, client_for):
    """Held: what a resident types is escaped where the city reads it."""
    notice = publish(named)
    reply = client_of(None).post(
        _public_url(notice), _objection(notice, statement="<img src=x onerror=alert(1)>占道")
    )
    assert reply.status_code == 302
    page = client_for(named["city"]).get(
        reverse("notice_detail", args=[named["campaign"].slug, notice.public_id])
    )
    text = page.content.decode()
    assert "<img src=x" not in text and "&lt;img src=x onerror=alert(1)&gt;占道" in text


def test_a_forged_forwarding_header_does_not_reset_the_throttle(named, settings):
    """Held: the address is the connection's (REMOTE_ADDR; no proxy header is trusted), so a
    script that makes up X-Forwarded-For or X-Real-IP on each post is still one sender."""
    settings.NOTICE_OBJECTIONS = 1
    notice = publish(named)
    here = {"REMOTE_ADDR": "203.0.113.7"}
    assert client_of(None, **here).post(_public_url(notice), _objection(notice)).status_code == 302
    for n, header in enumerate(("HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_FORWARDED")):
        forged = client_of(None, **here, **{header: f"198.51.100.{n}"})
        with nothing_changes():
            reply = forged.post(_public_url(notice), _objection(notice))
        assert reply.status_code == 429, header
    assert Objection.objects.count() == 1


def test_the_throttle_is_per_notice_and_another_notices_address_does_not_lend_it_tries(named):
    """Held: a sender who has used up one notice cannot post its entries through another
    notice's address (the entry must be of the notice posted to)."""
    from django.conf import settings

    notice = publish(named)
    other = _other_notice(named, "C211", closes_on=TODAY)
    anyone = client_of(None, REMOTE_ADDR="203.0.113.8")
    for _n in range(settings.NOTICE_OBJECTIONS):
        anyone.post(_public_url(notice), _objection(notice, statement=f"{STATEMENT}{_n}"))
    assert anyone.post(_public_url(notice), _objection(notice)).status_code == 429
    with nothing_changes():
        reply = anyone.post(
            _public_url(other), {**_objection(notice), "entry": entry(notice, "C111").pk}
        )
    assert reply.status_code == 422


def test_the_received_page_names_nobody_and_answers_only_its_own_notice(named):
    """Held: the reference is 10 random characters (50 bits); its page says the community and
    whether it is decided, never the name, contact, statement or the city's reason; another
    notice's address, a wrong reference, or one padded with characters answers 404."""
    from civicmark.assessments.notice_services import objection_decide

    s = named
    notice = publish(s)
    objection = object_to(notice, "C111")
    objection_decide(
        actor=s["city"], objection=objection, decision="dismissed", reason="经核实不实"
    )
    other = _other_notice(s, "C211", closes_on=TODAY)
    anyone = client_of(None)
    ref = objection.reference
    page = anyone.get(reverse("notice_received", args=[notice.public_id, ref.lower()]))
    text = page.content.decode()
    assert page.status_code == 200 and "Community 111" in text and "Dismissed" in text
    for secret in (NAME, CONTACT, STATEMENT, "经核实不实"):
        assert secret not in text
    for public_id, reference in (
        (other.public_id, ref),
        (notice.public_id, ref[:-1] + ("0" if ref[-1] != "0" else "1")),
        (notice.public_id, ref + "X" * 6),
        (notice.public_id, "%"),
    ):
        reply = anyone.get(reverse("notice_received", args=[public_id, reference]))
        assert reply.status_code == 404, reference
    assert len(ref) == 10 and set(ref) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")


def test_an_objection_needs_its_csrf_token(named):
    """Held: a page elsewhere cannot post objections in a visitor's name (nor spend his
    address's tries)."""
    notice = publish(named)
    with nothing_changes():
        reply = client_of(None, csrf=True).post(_public_url(notice), _objection(notice))
    assert reply.status_code == 403


def test_the_public_list_shows_only_open_notices_and_nothing_personal(named):
    """Held: the list of every city's open notices is public by design (公示); it names the
    campaign, the round and the window, and none of the objections."""
    notice = publish(named)
    object_to(notice, "C111")
    text = client_of(None).get(reverse("notice_list")).content.decode()
    assert str(notice.public_id) in text
    for secret in (NAME, CONTACT, STATEMENT):
        assert secret not in text


# --- insiders: publishing and deciding ------------------------------------------------------


@pytest.fixture
def other_city_admin(world):  # noqa: ANN001, ANN201
    from tests.factories import division, person

    return person("other_city_admin", "city_admin", division("D", "Other City", "city"))


OUTSIDERS = (
    "other_city_admin",
    "county_officer",
    "other_county_officer",
    "town_officer",
    "assessor",
    "viewer",
    "community_staff",
    "nobody",
)


def _people(world: Any, other_city_admin: Any) -> dict[str, Any]:
    return {**world.users, "other_city_admin": other_city_admin}


@pytest.mark.parametrize("who", OUTSIDERS)
def test_nobody_but_the_rounds_lead_publishes_or_decides(
    named, world, other_city_admin, no_last_login, who
):
    """Held: another city's administrator, a county or town officer, an assessor, a
    leading-group member, community staff: the pages answer 404 and the services refuse."""
    from civicmark.assessments.notice_services import objection_decide
    from civicmark.core.errors import NotAllowed

    s = named
    user = _people(world, other_city_admin)[who]
    notice = publish(s)
    objection = object_to(notice, "C111")
    slug = s["campaign"].slug
    client = client_of(user)
    with nothing_changes():
        published = client.post(
            reverse("round_notices", args=[slug, s["round"].number]), {"working_days": "5"}
        )
        decided = client.post(
            reverse("notice_detail", args=[slug, notice.public_id]),
            {"objection": objection.public_id, "decision": "dismissed", "reason": "不实"},
        )
        with pytest.raises(NotAllowed):
            notice_publish(actor=user, round_=s["round"], today=TODAY)
        with pytest.raises(NotAllowed):
            objection_decide(actor=user, objection=objection, decision="dismissed", reason="x")
    assert (published.status_code, decided.status_code) == (404, 404)


@pytest.mark.parametrize("tie", ["home", "staff_role", "town_role"])
def test_a_city_administrator_tied_to_a_listed_community_neither_publishes_nor_decides(
    named, world, no_last_login, tie
):
    """Held (conflict of interest): a second city administrator who lives in Community 111, or
    holds a role in it or its town, may not publish the round's notice nor dismiss an objection
    to his own community; the page answers 404."""
    from civicmark.accounts.models import RoleAssignment
    from civicmark.assessments.notice_services import objection_decide
    from civicmark.core.errors import NotAllowed
    from tests.factories import person

    s = named
    extra = {"home_division": world.d["C111"]} if tie == "home" else {}
    tied = person("tied_admin", "city_admin", world.d["C"], **extra)
    if tie != "home":
        role, at = ("community_staff", "C111") if tie == "staff_role" else ("town_officer", "T11")
        RoleAssignment.objects.create(user=tied, role=role, division=world.d[at])
    notice = publish(s)
    objection = object_to(notice, "C111")
    client = client_of(tied)
    with nothing_changes():
        reply = client.post(
            reverse("notice_detail", args=[s["campaign"].slug, notice.public_id]),
            {"objection": objection.public_id, "decision": "dismissed", "reason": "不实"},
        )
        with pytest.raises(NotAllowed):
            objection_decide(actor=tied, objection=objection, decision="dismissed", reason="x")
        with pytest.raises(NotAllowed):
            notice_publish(actor=tied, round_=s["round"], today=TODAY)
    assert reply.status_code == 404


def test_the_lead_decides_each_objection_once_and_only_on_its_own_notice(named, no_last_login):
    """Held: a decided objection cannot be decided again (nor turned from dismissed to upheld);
    an objection of another notice posted to this notice's page is refused; publishing again
    with nobody new to list is refused."""
    s = named
    notice = publish(s)
    objection = object_to(notice, "C111")
    other = _other_notice(s, "C211", closes_on=TODAY)
    elsewhere = object_to(other, "C211")
    city = client_of(s["city"])
    url = reverse("notice_detail", args=[s["campaign"].slug, notice.public_id])
    decide = {"decision": "dismissed", "reason": "不实"}
    assert city.post(url, {"objection": objection.public_id, **decide}).status_code == 302
    with nothing_changes():
        again = city.post(url, {"objection": objection.public_id, **decide, "decision": "upheld"})
        crossed = city.post(url, {"objection": elsewhere.public_id, **decide})
        twice = city.post(
            reverse("round_notices", args=[s["campaign"].slug, s["round"].number]),
            {"working_days": "5"},
        )
    assert (again.status_code, crossed.status_code, twice.status_code) == (422, 422, 422)
    assert status(s, "C111") == State.STANDARD_UNIT


# --- the stand-in: a county reviewing for a town without an officer -------------------------


def _submitted(s: dict[str, Any]) -> None:
    from civicmark.campaigns.models import Enrollment

    Enrollment.objects.filter(campaign=s["campaign"]).update(status=State.SUBMITTED)


def _review(client: Client, s: dict[str, Any], *codes: str, every: str = "") -> Any:
    data: dict[str, Any] = {
        "action": "move",
        "to": State.TOWN_REVIEWED,
        "enrollment": [s["enrollments"][c].pk for c in codes],
    }
    if every:
        data["every"] = every
    return client.post(reverse("communities", args=[s["campaign"].slug]), data)


def test_the_county_stands_in_only_for_its_own_town_without_an_officer(scoring, world):
    """Held: K1's officer for Town 21 (another county's), or for Town 11 (which has its
    officer), or for every community his filter finds with the box ticked by "0"... nothing
    moves; K2's officer for Town 21 (no officer) does, audited on the town's behalf."""
    from civicmark.core.models import AuditEvent

    s = scoring
    _submitted(s)
    k1 = client_of(world.users["county_officer"])
    with nothing_changes():
        _review(k1, s, "C211")
        _review(k1, s, "C111")
        _review(k1, s, every="0")  # "0" is no tick: nothing chosen
    assert status(s, "C211") == status(s, "C111") == State.SUBMITTED
    _review(client_of(world.users["other_county_officer"]), s, "C211")
    assert status(s, "C211") == State.TOWN_REVIEWED
    event = AuditEvent.objects.get(action="workflow.transition")
    assert event.after["on_behalf_of"] == "Town 21"


@pytest.mark.parametrize("tie", ["home", "staff_role"])
def test_a_county_officer_tied_to_the_community_does_not_stand_in_for_its_town(
    scoring, world, no_last_login, tie
):
    """Held (conflict of interest): standing in for Town 21, K2's officer judges from his county
    seat; living in Community 211, or holding a role in it, is a tie below that seat and he may
    not review it. (A town role in Town 21 would make him its officer, reviewing from that seat
    as his own job: no stand-in is asked.)"""
    from civicmark.accounts.models import RoleAssignment, User

    s = scoring
    _submitted(s)
    officer = world.users["other_county_officer"]
    if tie == "home":
        User.objects.filter(pk=officer.pk).update(home_division=world.d["C211"])
    else:
        RoleAssignment.objects.create(
            user=officer, role="community_staff", division=world.d["C211"]
        )
    officer = User.objects.get(pk=officer.pk)
    with nothing_changes():
        reply = _review(client_of(officer), s, "C211")
    assert reply.status_code == 422
    assert "someone else decides" in reply.content.decode()
    assert status(s, "C211") == State.SUBMITTED


def test_a_town_officer_made_inactive_mid_way_posts_nothing_and_the_county_takes_over(
    scoring, world, no_last_login
):
    """Held: Town 21 gets an officer, who signs in; while his page is open the office makes
    him inactive. His next post is refused (his session is no longer anyone's) and writes
    nothing; the county, which could not stand in while he was active, now can."""
    from tests.factories import person

    s = scoring
    _submitted(s)
    officer = person("t21_officer", "town_officer", world.d["T21"])
    his_page = client_of(officer)
    county = client_of(world.users["other_county_officer"])
    with nothing_changes():
        _review(county, s, "C211")  # the town has an active officer: its step is his
    assert status(s, "C211") == State.SUBMITTED
    type(officer).objects.filter(pk=officer.pk).update(is_active=False)
    with nothing_changes():
        reply = _review(his_page, s, "C211")
    assert reply.status_code == 302 and "login" in reply["Location"]
    _review(county, s, "C211")
    assert status(s, "C211") == State.TOWN_REVIEWED


def test_a_later_round_that_only_carries_the_scores_does_not_name_again_what_an_objection_took_back(
    named,
):
    """The hole: an objection upheld on July's notice took C111's naming back to rectification,
    "to be assessed again". November's round re-scores only lost items, so covering C111 there
    and finalising, without one score of its own, carried July's finding whole, and the city
    could name it a standard unit again from the very scores the objection overturned."""
    from civicmark.assessments.notice_services import objection_decide
    from tests.test_workflow import pass_round

    s, city = named, named["city"]
    july = publish(s, today=TODAY - dt.timedelta(days=20))
    objection = object_to(july, "C111", today=TODAY - dt.timedelta(days=20))
    objection_decide(actor=city, objection=objection, decision="upheld", reason="核实属实")
    november = s["campaign"].rounds.get(number=3)
    november.covers.set([s["enrollments"]["C111"]])
    november.finalised_at = timezone.now()
    november.save(update_fields=["finalised_at"])
    with translation.override("en"), pytest.raises(TransitionRefused) as refused:
        move(s, "C111", State.STANDARD_UNIT)
    assert "assess it again" in str(refused.value)
    assert status(s, "C111") == State.RECTIFYING
    # November assesses it afresh: then it may be named again (and goes on November's notice).
    type(november).objects.filter(pk=november.pk).update(finalised_at=None)
    pass_round(s, 3, "C111")
    type(november).objects.filter(pk=november.pk).update(finalised_at=timezone.now())
    move(s, "C111", State.STANDARD_UNIT)
    assert status(s, "C111") == State.STANDARD_UNIT


# --- the audit trail ------------------------------------------------------------------------


def test_every_write_of_the_notice_has_its_event_and_no_event_holds_the_objector(
    named, world, no_last_login
):
    """Held: publishing, an objection received and one decided (upheld: with its workflow step)
    each leave their event; the objector's name and contact are in none of them, nor in the
    audit log's page or CSV for the city or the county."""
    from civicmark.core.models import AuditEvent

    s = named
    slug = s["campaign"].slug
    city = client_of(s["city"])
    start = AuditEvent.objects.order_by("pk").last().pk
    city.post(reverse("round_notices", args=[slug, s["round"].number]), {"working_days": "5"})
    notice = PublicNotice.objects.get()
    client_of(None).post(_public_url(notice), _objection(notice))
    objection = Objection.objects.get()
    city.post(
        reverse("notice_detail", args=[slug, notice.public_id]),
        {"objection": objection.public_id, "decision": "upheld", "reason": "核实属实"},
    )
    events = AuditEvent.objects.filter(pk__gt=start).order_by("pk")
    actions = list(events.values_list("action", flat=True))
    assert [a for a in actions if a != "task.followed_work"] == [
        "notice.published",
        "notice.objection_received",
        "workflow.transition",  # the upheld objection's step back, in the same transaction
        "notice.objection_decided",
    ]
    for event in events:
        text = f"{event.summary} {event.before} {event.after}"
        assert NAME not in text and CONTACT not in text, event.action
    for reader in (s["city"], world.users["county_officer"]):
        client = client_of(reader)
        csv = b"".join(client.get(reverse("audit_export")).streaming_content).decode("utf-8-sig")
        page = client.get(reverse("audit_list")).content.decode()
        for text in (csv, page):
            assert NAME not in text and CONTACT not in text
    assert "Community 111" in csv  # the county reads the step its community took


# --- the demo city's own accounts -----------------------------------------------------------


def test_the_demo_citys_july_notice_with_its_own_accounts(demo, no_last_login):
    """Held, on the demo: July's notice is closed, so an anonymous objection writes nothing;
    the county, town, assessor and leading-group member get 404 on the city's page of it (the
    objector's contact is there), the city reads it; the demo objection's received page names
    nobody."""
    from civicmark.accounts.models import User

    notice = PublicNotice.objects.get(round__campaign=demo, round__number=2)
    objection = Objection.objects.get(entry__notice=notice)
    some_entry = notice.entries.filter(withdrawn_at__isnull=True).first()
    with nothing_changes():
        reply = client_of(None).post(
            _public_url(notice),
            {"entry": some_entry.pk, "statement": STATEMENT, "name": NAME, "contact": CONTACT},
        )
    assert reply.status_code == 422
    detail = reverse("notice_detail", args=[demo.slug, notice.public_id])
    for username in ("county", "town", "community", "assessor", "viewer"):
        client = client_of(User.objects.get(username=username))
        assert client.get(detail).status_code == 404, username
    city_page = client_of(User.objects.get(username="city")).get(detail).content.decode()
    assert objection.contact in city_page
    received = (
        client_of(None)
        .get(reverse("notice_received", args=[notice.public_id, objection.reference]))
        .content.decode()
    )
    assert objection.name not in received and objection.contact not in received


# --- the lead review's three follow-ups --------------------------------------------------------


def test_a_county_officer_named_lead_of_the_municipal_round_neither_publishes_nor_decides(
    named, world, no_last_login
):
    """Found: the city may name a county officer the lead of a municipal round; he then
    published its notice and dismissed the objections to his own county's communities, which
    no conflict rule (a community or town tie) caught. The notice is the municipal office's."""
    from civicmark.assessments.notice_services import objection_decide
    from civicmark.core.errors import NotAllowed

    s = named
    notice = publish(s)
    objection = object_to(notice, "C111")
    officer = world.users["county_officer"]
    s["round"].lead = officer
    s["round"].save(update_fields=["lead"])
    client = client_of(officer)
    with nothing_changes():
        reply = client.post(
            reverse("notice_detail", args=[s["campaign"].slug, notice.public_id]),
            {"objection": objection.public_id, "decision": "dismissed", "reason": "不实"},
        )
        with pytest.raises(NotAllowed):
            objection_decide(actor=officer, objection=objection, decision="dismissed", reason="x")
        with pytest.raises(NotAllowed):
            notice_publish(actor=officer, round_=s["round"], today=TODAY)
    assert reply.status_code == 404


@pytest.mark.parametrize("loss", ["deactivated", "role_revoked"])
def test_a_named_lead_who_lost_his_role_or_account_leads_no_more(named, world, loss):
    """Found: a round's named lead kept leading through his id alone once his account was
    closed or his role taken away; only the pages refused him, the services let him through."""
    from civicmark.accounts import authz
    from civicmark.accounts.models import RoleAssignment
    from tests.factories import person

    s = named
    lead = person("named_lead", "city_admin", world.d["C"])
    s["round"].lead = lead
    s["round"].save(update_fields=["lead"])
    assert authz.can_lead_round(lead, s["round"])
    if loss == "deactivated":
        lead.is_active = False
        lead.save(update_fields=["is_active"])
    else:
        RoleAssignment.objects.filter(user=lead).delete()
    authz.forget_grants(lead)
    assert not authz.can_lead_round(lead, s["round"])
