"""What an official's walk of issue 17 found in the rules of titles and notices (walkfixb):
a withdrawn title moves the community's workflow (ADR 20), a rectification's deadline is after
the day it is entered and a withdrawal needs a failed follow-up, the community is told of an
objection upheld against its naming, and the city is told of standard units waiting for a
public notice (ADR 22)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone, translation

from civicmark.accounts.models import User
from civicmark.assessments.models import Transition
from civicmark.assessments.workflow import State, TransitionRefused, transition_apply
from civicmark.campaigns.models import Enrollment
from civicmark.core.models import AuditEvent
from civicmark.results import titles
from civicmark.results.models import Certificate, TitleRecheck

WITHDRAWN, PENDING = "990121100003", "990121100001"  # 文昌社区 (the demo's), 解放路社区 (proposed)


@pytest.fixture(autouse=True)
def _english():  # noqa: ANN202
    with translation.override("en"):
        yield


@pytest.fixture
def client_for(client_for):  # noqa: ANN001, ANN201
    def login(user):  # noqa: ANN001, ANN202
        signed_in = client_for(user)
        signed_in.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
        return signed_in

    return login


def _user(name: str) -> User:
    return User.objects.get(username=name)


def _enrollment(code: str) -> Enrollment:
    return Enrollment.objects.select_related("community", "campaign").get(community__code=code)


def _recheck(code: str) -> TitleRecheck:
    return TitleRecheck.objects.select_related("certificate", "rectification").get(
        certificate__enrollment__community__code=code
    )


def _withdraw(code: str) -> TitleRecheck:
    """The city re-checks a title, fails it with a deadline (entered back then), fails the
    follow-up after the deadline and withdraws it."""
    city, today = _user("city"), timezone.localdate()
    recheck = titles.recheck_record(
        actor=city,
        recheck=_recheck(code),
        passed=False,
        checked_on=today - timedelta(days=30),
        finding="台账缺失",
        due_on=today - timedelta(days=10),
        entered_on=today - timedelta(days=30),
    )
    titles.recheck_follow_up(
        actor=city,
        recheck=recheck,
        passed=False,
        checked_on=today - timedelta(days=2),
        finding="仍未整改",
    )
    return titles.title_withdraw(actor=city, recheck=recheck, reason="逾期未整改，撤销称号")


def _state() -> tuple:
    return (
        sorted(Enrollment.objects.values_list("pk", "status")),
        Transition.objects.count(),
        sorted(Certificate.objects.values_list("pk", "revoked_at", "withdrawn")),
        AuditEvent.objects.count(),
    )


# --- 1. a withdrawn title moves the workflow (ADR 20) -----------------------------------------


def test_the_demos_withdrawn_title_stands_as_title_withdrawn_in_the_workflow(demo):
    enrollment = _enrollment(WITHDRAWN)
    assert enrollment.status == State.TITLE_WITHDRAWN
    step = Transition.objects.filter(enrollment=enrollment).latest("at", "id")
    assert (step.from_status, step.to_status) == (State.STANDARD_UNIT, State.TITLE_WITHDRAWN)
    assert "撤销" in step.comment
    assert AuditEvent.objects.filter(
        action="workflow.transition", after__status=State.TITLE_WITHDRAWN
    ).exists()


def test_a_withdrawn_proposed_title_is_neither_commended_nor_listed_for_it(demo, client_for):
    city = _user("city")
    _withdraw(PENDING)
    enrollment = _enrollment(PENDING)
    assert enrollment.status == State.TITLE_WITHDRAWN
    before = _state()
    with pytest.raises(TransitionRefused, match="cannot go from"):
        transition_apply(
            actor=city, campaign=demo, enrollments=[enrollment], to=State.COMMENDED, comment=""
        )
    assert _state() == before
    page = client_for(city).get(reverse("commendation", args=[demo.slug])).content.decode()
    assert "解放路社区" not in page
    # The ranking says where it stands now beside the round's "standard unit".
    ranking = client_for(city).get(reverse("ranking", args=[demo.slug, 2])).content.decode()
    assert "now: Title withdrawn" in ranking


def test_only_the_withdrawal_service_takes_the_step_to_title_withdrawn(demo, client_for):
    city = _user("city")
    enrollment = _enrollment(PENDING)
    before = _state()
    with pytest.raises(TransitionRefused, match="titles page"):
        transition_apply(
            actor=city,
            campaign=demo,
            enrollments=[enrollment],
            to=State.TITLE_WITHDRAWN,
            comment="撤销",
        )
    # Nor through the communities page, which does not offer it.
    page = client_for(city).get(reverse("communities", args=[demo.slug])).content.decode()
    menu = page.split('name="to"', 1)[1].split("</select>", 1)[0]
    assert "Commended" in menu and State.TITLE_WITHDRAWN.value not in menu
    client_for(city).post(
        reverse("communities", args=[demo.slug]),
        {
            "action": "move",
            "to": State.TITLE_WITHDRAWN.value,
            "enrollment": [enrollment.pk],
            "comment": "撤销",
        },
    )
    assert _state() == before


# --- 3. the community is told of an objection upheld against its naming (ADR 22) ------------

DONGGUAN, XINHUA, ZHANQIAN = "990121001001", "990121100004", "990121001002"


def _uphold(code: str, reason: str = "群众反映台账不实，经核实属实"):  # noqa: ANN202
    """A resident's objection to the community on July's notice, upheld by the city."""
    from civicmark.assessments.models import NoticeEntry, Objection
    from civicmark.assessments.notice_services import objection_decide

    entry = NoticeEntry.objects.filter(enrollment__community__code=code).latest(
        "notice__opens_on", "id"
    )
    # Received in the window (the window is long closed in the demo, so it is set down here).
    objection = Objection.objects.create(
        entry=entry, statement="台账不实", name="居民", contact="13900000000"
    )
    return objection_decide(
        actor=_user("city"), objection=objection, decision="upheld", reason=reason
    )


def test_the_community_is_told_of_an_objection_upheld_against_its_naming(demo, client_for):
    from civicmark.assessments.notice_todo import todos_for

    objection = _uphold(DONGGUAN)
    assert _enrollment(DONGGUAN).status == State.RECTIFYING
    today = timezone.localdate()
    todos = {t.key: t for t in todos_for(user=_user("dongguan"), campaign=demo, today=today)}
    told = todos["notice_upheld"]
    assert told.count == 1 and "经核实属实" in told.lines[0].note
    assert "assess it again" in told.detail
    # Nobody else's home says so: not another community's staff.
    assert "notice_upheld" not in {
        t.key for t in todos_for(user=_user("community"), campaign=demo, today=today)
    }
    staff = client_for(_user("dongguan"))
    assert "An objection to your naming was upheld" in staff.get("/").content.decode()
    # The result page says so, where it stands now, and no longer "may be proposed".
    number = objection.entry.notice.round.number
    page = staff.get(told.url).content.decode()
    assert told.url == reverse("community_result", args=[demo.slug, number, DONGGUAN])
    assert "was upheld" in page and "经核实属实" in page and "now: Rectifying" in page
    assert "may be proposed for commendation" not in page
    # The ranking and the round page show its current state too.
    city = client_for(_user("city"))
    ranking = city.get(reverse("ranking", args=[demo.slug, number])).content.decode()
    assert "now: Rectifying" in ranking


# --- 4. the city is told of communities awaiting a public notice (ADR 22) --------------------


def test_the_city_is_told_of_standard_units_on_no_notice_yet(demo, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from civicmark.assessments.notice_todo import todos_for

    city, today = _user("city"), timezone.localdate()

    def keys(user):  # noqa: ANN001, ANN202
        return {t.key: t for t in todos_for(user=user, campaign=demo, today=today)}

    assert "notice_awaiting" not in keys(city)  # the demo's names all stand on July's notice
    # As after an appeal raised it to the standard once the notice was out (d-city-30:
    # `appeal_follow` moves a not-reached community to standard unit).
    Enrollment.objects.filter(community__code=XINHUA).update(status=State.STANDARD_UNIT)
    with CaptureQueriesContext(connection) as one:
        waiting = keys(city)["notice_awaiting"]
    assert waiting.count == 1 and waiting.lines[0].text == "新华社区"
    round_ = demo.rounds.filter(level="city", finalised_at__isnull=False).latest("number")
    assert waiting.url == reverse("round_notices", args=[demo.slug, round_.number])
    # Cheap: a second community waiting asks no more queries.
    Enrollment.objects.filter(community__code=ZHANQIAN).update(status=State.STANDARD_UNIT)
    with CaptureQueriesContext(connection) as two:
        assert keys(city)["notice_awaiting"].count == 2
    assert len(two) == len(one)
    # The county and the community are not the ones to publish.
    assert "notice_awaiting" not in keys(_user("county"))
    assert "notice_awaiting" not in keys(_user("xinhua"))
    home = client_for(city).get("/").content.decode()
    assert "Communities awaiting a public notice" in home
