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

