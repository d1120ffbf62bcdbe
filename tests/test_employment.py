"""The employment station's rules: ledger, privacy, target groups, deadlines, job bank, referrals
and indicators."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
from django.contrib.auth.models import Permission
from hypothesis import given
from hypothesis import strategies as st

from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.core.models import AuditEvent
from civicmark.employment import indicators, pii, rules
from civicmark.employment import services as svc
from civicmark.employment.models import (
    ExitReason,
    Holiday,
    Referral,
    ReferralState,
    Resident,
    Status,
    StatusPeriod,
    VacancyState,
)
from civicmark.employment.selectors import residents_for_user

D = dt.date
ID18 = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9X](?![0-9])")


def make_id(birth: str, seq: str = "123") -> str:
    first17 = "110101" + birth + seq
    return first17 + pii.check_character(first17)


def make_uscc(body: str = "91110108MA01ABCD1") -> str:
    return body + rules.uscc_check(body)


def grant(user, *codenames):  # noqa: ANN001
    for code in codenames:
        user.user_permissions.add(Permission.objects.get(codename=code))
    return type(user).objects.get(pk=user.pk)  # a fresh object: permissions are cached


# --- Pure rules -----------------------------------------------------------------------------


def test_id_numbers_are_checked_and_carry_birth_date_and_sex():
    number = make_id("19800215", "123")  # 17th digit 3: a man
    assert pii.normalise(number.lower()) == number
    assert pii.birth_date(number) == D(1980, 2, 15) and pii.sex(number) == "M"
    assert pii.sex(make_id("19800215", "124")) == "F"
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(ApplicationError, match="check|校验"):
        pii.normalise(wrong)
    with pytest.raises(ApplicationError):
        pii.normalise("12345")
    with pytest.raises(ApplicationError):
        pii.normalise(make_id("19801332"))  # no 32nd of the 13th month
    assert pii.mask(number) == number[:6] + "********" + number[-4:]
    assert pii.mask_name("欧阳华") == "欧*华" and pii.mask_name("张三") == "张*"


def test_encryption_round_trip_and_a_keyed_hash_that_needs_the_key(settings):
    number = make_id("19750101")
    token = pii.encrypt(number)
    assert number not in token and pii.decrypt(token) == number
    first = pii.keyed_hash(number)
    assert first == pii.keyed_hash(number) and number not in first
    settings.PII_KEY = "another key entirely, as another installation would have"
    assert pii.keyed_hash(number) != first
    with pytest.raises(ApplicationError):
        pii.decrypt(token)


@pytest.mark.parametrize(
    ("sex", "birth", "day", "expected"),
    [
        ("F", D(1986, 6, 1), D(2026, 6, 1), True),  # 40 today
        ("F", D(1986, 6, 2), D(2026, 6, 1), False),  # 40 tomorrow
        ("F", D(1976, 6, 2), D(2026, 6, 1), True),  # 49
        ("F", D(1976, 6, 1), D(2026, 6, 1), True),  # 50, but retires at 50 and 9 months
        ("F", D(1975, 6, 1), D(2026, 6, 1), False),  # retired on 1 September 2025 (50 and 3)
        ("M", D(1976, 6, 1), D(2026, 6, 1), True),  # 50
        ("M", D(1981, 6, 1), D(2026, 6, 1), False),  # 45
        ("M", D(1966, 6, 1), D(2026, 6, 1), True),  # 60, but retires at 60 and 5 months
        ("M", D(1966, 1, 1), D(2026, 6, 1), False),  # retired on 1 May 2026 (60 and 4 months)
        ("M", D(1964, 12, 31), D(2025, 1, 1), False),  # born before 1965: 60, no delay
    ],
)
def test_4050_from_birth_date_and_sex(sex, birth, day, expected):  # noqa: ANN001
    assert rules.is_4050(sex, birth, day) is expected


@pytest.mark.parametrize(
    ("sex", "birth", "retires"),
    [
        ("M", D(1964, 12, 15), D(2024, 12, 15)),  # before the increase: 60
        ("M", D(1965, 1, 10), D(2025, 2, 10)),  # the first cohort: one month
        ("M", D(1965, 4, 30), D(2025, 5, 30)),  # January-April 1965: one month
        ("M", D(1965, 5, 1), D(2025, 7, 1)),  # May-August 1965: two months
        ("M", D(1976, 8, 31), D(2039, 7, 31)),  # 35 months (62 and 11), day clamped to July
        ("M", D(1976, 9, 1), D(2039, 9, 1)),  # September 1976 and later: 63
        ("M", D(1990, 3, 3), D(2053, 3, 3)),
        ("F", D(1974, 12, 1), D(2024, 12, 1)),  # before the increase: 50
        ("F", D(1975, 2, 28), D(2025, 3, 28)),  # January-February 1975: one month
        ("F", D(1975, 3, 31), D(2025, 5, 31)),  # March-April 1975: two months
        ("F", D(1984, 10, 31), D(2039, 9, 30)),  # 59 months, day clamped to 30 September
        ("F", D(1984, 11, 5), D(2039, 11, 5)),  # November 1984 and later: 55
    ],
)
def test_retirement_follows_the_2025_gradual_increase(sex, birth, retires):  # noqa: ANN001
    assert rules.retirement_date(sex, birth) == retires
    assert rules.working_age(sex, birth, retires - dt.timedelta(days=1))
    assert not rules.working_age(sex, birth, retires)


@given(
    st.sampled_from(["M", "F"]),
    st.dates(min_value=D(1940, 1, 1), max_value=D(2010, 12, 31)),
    st.dates(min_value=D(2020, 1, 1), max_value=D(2045, 12, 31)),
)
def test_the_database_cut_off_says_what_the_retirement_rule_says(sex, birth, day):  # noqa: ANN001
    """The indicators filter on a birth date; it must leave out exactly the people the rule
    calls retired."""
    retired = rules.retirement_date(sex, birth) <= day
    assert retired == (birth <= rules.latest_retired_birth(sex, day))


def test_deadlines_in_working_days_days_months_and_to_the_period_end():
    ten = rules.DeadlineRule.parse("10 working_days")
    # Recognised on Friday 2026-09-25; the National Day holiday runs 1-8 October 2026 and
    # Saturday 10 October is a working day (调休).
    cal = {D(2026, 10, d): False for d in range(1, 9)} | {D(2026, 10, 10): True}
    # Working days: 28, 29, 30 Sept (3), 9 Oct (4), 10 Oct Sat (5), 12-16 Oct (10).
    assert rules.deadline(D(2026, 9, 25), ten, cal) == D(2026, 10, 16)
    assert rules.deadline(D(2026, 9, 25), ten, {}) == D(2026, 10, 9)  # without the calendar
    assert rules.deadline(D(2026, 1, 31), rules.DeadlineRule.parse("1 months"), {}) == D(
        2026, 2, 28
    )
    assert rules.deadline(D(2026, 5, 3), rules.DeadlineRule.parse("30 days"), {}) == D(2026, 6, 2)
    assert rules.deadline(D(2026, 5, 3), rules.DeadlineRule.parse("period_end"), {}) == D(
        2026, 6, 30
    )
    for bad in ("ten days", "0 days", "3 weeks", ""):
        with pytest.raises(ApplicationError):
            rules.DeadlineRule.parse(bad)


@given(st.dates(D(2020, 1, 1), D(2030, 12, 31)), st.integers(1, 40))
def test_a_working_day_deadline_is_a_working_day_with_exactly_n_between(start, n):  # noqa: ANN001
    end = rules.deadline(start, rules.DeadlineRule(n, "working_days"), {})
    assert end.weekday() < 5
    days = [start + dt.timedelta(days=i) for i in range(1, (end - start).days + 1)]
    assert sum(d.weekday() < 5 for d in days) == n


def test_credit_codes_are_checked():
    code = make_uscc()
    assert rules.normalise_uscc(code.lower()) == code
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    with pytest.raises(ApplicationError):
        rules.normalise_uscc(wrong)
    with pytest.raises(ApplicationError):
        rules.normalise_uscc("91110108MA01ABCDIO")  # I and O are not in the alphabet


def test_the_referral_state_machine():
    R = ReferralState
    rules.check_move(R.NEW, R.CONTACTED, "")
    rules.check_move(R.INTERVIEW, R.HIRED, "")
    for current, target in ((R.NEW, R.HIRED), (R.HIRED, R.REFUSED), (R.REFUSED, R.NEW)):
        with pytest.raises(ApplicationError):
            rules.check_move(current, target, "x")
    with pytest.raises(ApplicationError, match="refused|拒绝"):
        rules.check_move(R.CONTACTED, R.REFUSED, " ")


# --- The ledger ---------------------------------------------------------------------------


@pytest.fixture
def station(world):  # noqa: ANN001
    staff = world.users["community_staff"]
    home = svc.household_add(actor=staff, community=world.d["C111"], address="幸福小区3栋2单元501")
    father = svc.resident_add(
        actor=staff, household=home, name="王建国", id_number=make_id("19740310", "131")
    )
    mother = svc.resident_add(
        actor=staff, household=home, name="李秀英", id_number=make_id("19800512", "142")
    )
    employer = svc.employer_verify(
        actor=staff, name="幸福物业服务有限公司", credit_code=make_uscc(), division=world.d["C111"]
    )
    return {"home": home, "father": father, "mother": mother, "employer": employer, "staff": staff}


def test_the_id_number_is_stored_only_encrypted_and_never_twice(station, world):
    father = Resident.objects.get(pk=station["father"].pk)
    number = make_id("19740310", "131")
    assert father.sex == "M" and father.birth_date == D(1974, 3, 10)
    assert number not in father.id_cipher and father.masked_id == pii.mask(number)
    with pytest.raises(ApplicationError, match=r"\*{8}"):
        svc.resident_add(
            actor=station["staff"], household=station["home"], name="王建国", id_number=number
        )
    assert Resident.objects.count() == 2
    # No event of the ledger carries the number, whole or in part beyond the mask.
    for event in AuditEvent.objects.filter(action__startswith="employment."):
        assert number not in repr(event.__dict__)


def test_status_history_refuses_overlaps_and_reproduces_any_past_date(station):
    staff, father = station["staff"], station["father"]
    with pytest.raises(ApplicationError, match="registration|登记"):
        svc.status_set(
            actor=staff, resident=father, status=Status.REGISTERED_UNEMPLOYED, start=D(2026, 1, 5)
        )
    svc.status_set(
        actor=staff,
        resident=father,
        status=Status.REGISTERED_UNEMPLOYED,
        start=D(2026, 1, 5),
        registration_no="3301002026000123",
        registration_date=D(2026, 1, 5),
    )
    # A closed period inside the open one: refused, nothing written.
    before = StatusPeriod.objects.count()
    with pytest.raises(ApplicationError, match="overlap|重叠"):
        svc.status_set(
            actor=staff,
            resident=father,
            status=Status.FLEXIBLE,
            start=D(2026, 2, 1),
            end=D(2026, 2, 20),
        )
    assert StatusPeriod.objects.count() == before
    # A new status from a later day closes the open one the day before.
    svc.status_set(actor=staff, resident=father, status=Status.EMPLOYED, start=D(2026, 6, 1))
    assert svc.status_on(father, D(2026, 5, 31)).status == Status.REGISTERED_UNEMPLOYED
    assert svc.status_on(father, D(2026, 6, 1)).status == Status.EMPLOYED
    assert svc.status_on(father, D(2025, 12, 31)) is None
    # Starting before the open period is an overlap too.
    with pytest.raises(ApplicationError):
        svc.status_set(actor=staff, resident=father, status=Status.STUDENT, start=D(2026, 5, 1))


def test_another_towns_officer_sees_no_resident_and_cannot_write(station, world):
    other = world.users["other_town_officer"]
    assert not residents_for_user(other).exists()
    assert residents_for_user(world.users["town_officer"]).count() == 2
    assert not residents_for_user(world.users["assessor"]).exists()
    with pytest.raises(NotAllowed):
        svc.status_set(
            actor=other, resident=station["father"], status=Status.RETIRED, start=D(2026, 1, 1)
        )
    assert not StatusPeriod.objects.exists()


def test_revealing_an_id_needs_the_permission_and_a_reason_and_is_audited(station, world):
    staff = world.users["community_staff"]
    father = station["father"]
    with pytest.raises(NotAllowed):
        svc.id_reveal(actor=staff, resident=father, reason="办理失业登记")
    staff = grant(staff, "reveal_id_number")
    with pytest.raises(ApplicationError):
        svc.id_reveal(actor=staff, resident=father, reason="")
    assert svc.id_reveal(actor=staff, resident=father, reason="办理失业登记") == make_id(
        "19740310", "131"
    )
    event = AuditEvent.objects.get(action="employment.id_revealed")
    assert event.summary == "办理失业登记" and event.actor == staff
    # Permission alone is not scope: another community's staff with it still cannot.
    other = grant(world.users["other_staff"], "reveal_id_number")
    with pytest.raises(NotAllowed):
        svc.id_reveal(actor=other, resident=father, reason="好奇")


def test_sensitive_flags_need_their_own_permission(station, world):
    staff = world.users["community_staff"]
    with pytest.raises(NotAllowed):
        svc.resident_add(
            actor=staff,
            household=station["home"],
            name="王小明",
            id_number=make_id("20000101", "151"),
            disability=True,
        )
    staff = grant(staff, "view_sensitive_flags")
    son = svc.resident_add(
        actor=staff,
        household=station["home"],
        name="王小明",
        id_number=make_id("20000101", "151"),
        disability=True,
    )
    assert son.disability


def test_no_id_number_reaches_a_log_line(station, world, caplog):
    number = make_id("19900101", "171")
    caplog.set_level(logging.DEBUG)
    log = logging.getLogger("civicmark.test")
    log.info("registering %s", number)
    log.warning(f"bad row with {number} in it")
    log.error("as a dict: %(n)s", {"n": number})
    try:
        raise ValueError(f"cannot import {number}")
    except ValueError:
        log.exception("import failed")
    with pytest.raises(ApplicationError):
        svc.resident_add(
            actor=world.users["other_staff"], household=station["home"], name="x", id_number=number
        )
    assert caplog.records, "the test captured nothing"
    formatter = pii.ScrubbingFormatter()
    lines = caplog.text + "\n".join(formatter.format(r) for r in caplog.records)
    assert not ID18.search(lines), lines
    assert pii.mask(number) in lines


# --- Zero-employment households -----------------------------------------------------------


def _both_registered(station, day):  # noqa: ANN001
    for n, person in enumerate((station["father"], station["mother"])):
        svc.status_set(
            actor=station["staff"],
            resident=person,
            status=Status.REGISTERED_UNEMPLOYED,
            start=day,
            registration_no=f"33010020260001{n}",
            registration_date=day,
        )


def test_a_zero_employment_household_is_detected_and_cleared_late(station):
    staff, home = station["staff"], station["home"]
    with pytest.raises(ApplicationError):
        svc.zero_case_recognise(actor=staff, household=home, day=D(2026, 3, 2))  # no status yet
    _both_registered(station, D(2026, 3, 2))
    assert svc.is_zero_employment(home, D(2026, 3, 2))
    Holiday.objects.create(day=D(2026, 4, 6), name="清明节")
    case = svc.zero_case_recognise(actor=staff, household=home, day=D(2026, 3, 30))
    # 10 working days from Monday 30 March, with Monday 6 April off: Tuesday 14 April.
    assert case.deadline == D(2026, 4, 14) and case.rule == "10 working_days"
    with pytest.raises(ApplicationError):
        svc.zero_case_recognise(actor=staff, household=home, day=D(2026, 4, 1))  # one open case
    with pytest.raises(ApplicationError, match="3"):
        svc.zero_case_close(actor=staff, case=case, day=D(2026, 4, 10), reason=ExitReason.REFUSALS)
    # The mother starts work after the deadline: the case clears itself, late.
    svc.status_set(
        actor=staff, resident=station["mother"], status=Status.EMPLOYED, start=D(2026, 4, 20)
    )
    case.refresh_from_db()
    assert case.closed_on == D(2026, 4, 20) and case.exit_reason == ExitReason.MEMBER_EMPLOYED
    assert case.overdue(D(2026, 5, 1))
    assert not svc.is_zero_employment(home, D(2026, 4, 20))


# --- Job bank and referrals ----------------------------------------------------------------


PUBLISHED = D(2026, 5, 1)


def _post(station, world, title="保洁员", today=PUBLISHED, wages=(2800, 3400)):  # noqa: ANN001
    """A post filed by the community and approved by the town on `today`."""
    vacancy = svc.vacancy_file(
        actor=station["staff"],
        employer=station["employer"],
        community=world.d["C111"],
        title=title,
        category="物业",
        hours="full",
        wage_min=wages[0],
        wage_max=wages[1],
        distance_km=1.5,
    )
    return svc.vacancy_review(
        actor=world.users["town_officer"], vacancy=vacancy, approve=True, today=today
    )


def test_a_post_is_public_only_while_approved_and_not_expired(station, world):
    staff = station["staff"]
    pending = svc.vacancy_file(
        actor=staff,
        employer=station["employer"],
        community=world.d["C111"],
        title="门卫",
        category="物业",
        hours="shifts",
        wage_min=3000,
        wage_max=3200,
    )
    assert not svc.open_vacancies(world.d["T11"], D(2026, 5, 1)).exists()
    with pytest.raises(NotAllowed):  # the community does not approve its own posts
        svc.vacancy_review(actor=staff, vacancy=pending, approve=True, today=D(2026, 5, 1))
    published = _post(station, world)
    assert published.expires_on == D(2026, 5, 31)
    assert list(svc.open_vacancies(world.d["T11"], D(2026, 5, 31))) == [published]
    assert not svc.open_vacancies(world.d["T11"], D(2026, 6, 1)).exists()  # expired
    assert not svc.open_vacancies(world.d["T12"], D(2026, 5, 2)).exists()  # another town
    assert [v.pk for v in svc.vacancies_due(D(2026, 5, 29))] == [published.pk]
    assert svc.vacancies_due(D(2026, 5, 29)) == []  # reminded once
    svc.vacancy_extend(actor=staff, vacancy=published, today=D(2026, 5, 30))
    assert published.expires_on == D(2026, 6, 30) and published.state == VacancyState.PUBLISHED


def test_a_hire_closes_the_other_referrals_and_records_the_job(station, world):
    staff, mother = station["staff"], station["mother"]
    _both_registered(station, D(2026, 3, 2))
    case = svc.zero_case_recognise(actor=staff, household=station["home"], day=D(2026, 4, 27))
    first, second = _post(station, world), _post(station, world, "绿化工")
    a = svc.referral_create(actor=staff, resident=mother, vacancy=first, today=D(2026, 5, 2))
    b = svc.referral_create(actor=staff, resident=mother, vacancy=second, today=D(2026, 5, 2))
    with pytest.raises(ApplicationError):
        svc.referral_move(actor=staff, referral=a, to=ReferralState.HIRED, day=D(2026, 5, 3))
    for step in (ReferralState.CONTACTED, ReferralState.INTERVIEW, ReferralState.HIRED):
        a = svc.referral_move(actor=staff, referral=a, to=step, day=D(2026, 5, 6))
    b.refresh_from_db()
    assert a.state == ReferralState.HIRED and b.state == ReferralState.CLOSED
    assert svc.status_on(mother, D(2026, 5, 6)).status == Status.EMPLOYED
    assert svc.status_on(mother, D(2026, 5, 5)).status == Status.REGISTERED_UNEMPLOYED
    case.refresh_from_db()
    assert case.closed_on == D(2026, 5, 6) and not case.overdue(D(2026, 6, 1))
    assert list(a.steps.values_list("to_state", flat=True)) == ["contacted", "interview", "hired"]


def test_the_match_keeps_hard_rules_and_ranks_soft_ones():
    from decimal import Decimal

    posts = [
        rules.Post("near", "物业", "full", Decimal("1.0"), 3400),
        rules.Post("far", "物业", "full", Decimal("12"), 5000),
        rules.Post("cheap", "餐饮", "part", Decimal("0.5"), 2000),
        rules.Post("other", "餐饮", "full", Decimal("2"), 4000),
    ]
    found = rules.match(rules.Wish("物业", "full", Decimal("5"), 3000), posts)
    assert [f[0] for f in found] == ["near", "other"]


# --- Indicators -----------------------------------------------------------------------------


def test_each_indicator_equals_its_drill_down(station, world):
    staff = station["staff"]
    _both_registered(station, D(2026, 3, 2))
    case = svc.zero_case_recognise(actor=staff, household=station["home"], day=D(2026, 4, 27))
    post = _post(station, world)
    r = svc.referral_create(
        actor=staff, resident=station["father"], vacancy=post, today=D(2026, 5, 2)
    )
    for step in (ReferralState.CONTACTED, ReferralState.INTERVIEW, ReferralState.HIRED):
        r = svc.referral_move(actor=staff, referral=r, to=step, day=D(2026, 5, 8))
    found = {
        i.key: i for i in indicators.for_community(world.d["C111"], D(2026, 1, 1), D(2026, 12, 31))
    }
    for indicator in found.values():
        numerator, _ = indicator.counts()
        rows = indicator.rows()
        assert numerator == len(rows), indicator.key
        for row in rows:
            assert not ID18.search(" ".join(row.values()))
            assert "王建国" not in row.values()
    assert found["reemployed"].counts() == (1, 2)
    assert found["reemployed_4050"].counts() == (1, 2)  # 52-year-old man, 46-year-old woman
    assert found["zero_cleared_on_time"].counts() == (1, 1)
    assert found["hires"].counts() == (1, 1)
    assert found["vacancies"].counts() == (1, None)
    assert found["ledger_complete"].counts() == (2, 2)
    assert case.pk and Referral.objects.count() == 1


# --- Pages ----------------------------------------------------------------------------------


def test_pages_show_ids_masked_and_only_to_the_ledgers_keepers(station, world, client_for):
    from django.urls import reverse

    number = make_id("19740310", "131")
    ledger = reverse("employment_ledger", args=["C111"])
    person = reverse("employment_resident", args=[station["father"].public_id])
    figures = reverse("employment_indicators", args=["C111"])
    expected = {
        "community_staff": (200, 200, 200),
        "town_officer": (200, 200, 200),
        "county_officer": (200, 200, 200),
        "city_admin": (200, 200, 200),
        "assessor": (404, 404, 200),  # the county's assessor reads the figures, not the ledger
        "viewer": (404, 404, 200),
        "other_staff": (404, 404, 404),
        "other_town_officer": (404, 404, 404),
        "nobody": (404, 404, 404),
    }
    for persona, codes in expected.items():
        client = client_for(world.users[persona])
        got = []
        for url in (ledger, person, figures):
            response = client.get(url)
            got.append(response.status_code)
            assert number not in response.content.decode()
        assert tuple(got) == codes, persona
    page = client_for(world.users["community_staff"]).get(ledger).content.decode()
    assert pii.mask(number) in page and "王建国" in page
    assert "disability" not in page.lower() and "残疾" not in page  # no permission: no column


def test_a_refused_post_changes_nothing(station, world, client_for):
    from django.urls import reverse

    other = client_for(world.users["other_staff"])
    url = reverse("employment_resident", args=[station["father"].public_id])
    events = AuditEvent.objects.count()
    response = other.post(url, {"action": "status", "status": "retired", "start": "2026-01-01"})
    assert response.status_code == 404
    assert not StatusPeriod.objects.exists() and AuditEvent.objects.count() == events
    staff = client_for(world.users["community_staff"])
    response = staff.post(url, {"action": "status", "status": "employed", "start": "not a date"})
    assert response.status_code == 200 and not StatusPeriod.objects.exists()
    response = staff.post(url, {"action": "move", "referral": "not-a-uuid", "to": "hired"})
    assert response.status_code == 200


def test_revealing_on_the_page_shows_the_number_once_and_logs_it(station, world, client_for):
    from django.urls import reverse

    staff = grant(world.users["community_staff"], "reveal_id_number")
    client = client_for(staff)
    url = reverse("employment_resident", args=[station["father"].public_id])
    page = client.post(url, {"action": "reveal", "reason": "核对失业登记"}).content.decode()
    assert make_id("19740310", "131") in page
    assert make_id("19740310", "131") not in client.get(url).content.decode()
    assert AuditEvent.objects.filter(action="employment.id_revealed").count() == 1


def test_the_public_job_page_shows_only_open_posts_without_login(station, world, client, settings):
    from django.urls import reverse
    from django.utils import timezone

    today = timezone.localdate()
    vacancy = svc.vacancy_file(
        actor=station["staff"],
        employer=station["employer"],
        community=world.d["C111"],
        title="社区保洁员",
        category="物业",
        hours="full",
        wage_min=2800,
        wage_max=3400,
    )
    client.logout()
    url = reverse("public_jobs", args=["T11"])
    assert "社区保洁员" not in client.get(url).content.decode()  # awaiting review
    svc.vacancy_review(
        actor=world.users["town_officer"], vacancy=vacancy, approve=True, today=today
    )
    page = client.get(url).content.decode()
    assert "社区保洁员" in page and "幸福物业" in page
    vacancy.expires_on = today - dt.timedelta(days=1)
    vacancy.save()
    assert "社区保洁员" not in client.get(url).content.decode()
    assert client.get(reverse("public_jobs", args=["NOPE"])).status_code == 404
    poster = client.get(reverse("public_poster", args=["C111"])).content.decode()
    assert "data:image/svg+xml" in poster and "/jobs/C111/" in poster


def test_an_officer_records_a_referral_through_to_a_hire_on_the_page(station, world, client_for):
    from django.urls import reverse
    from django.utils import timezone

    today = timezone.localdate()
    vacancy = svc.vacancy_file(
        actor=station["staff"],
        employer=station["employer"],
        community=world.d["C111"],
        title="保安",
        category="物业",
        hours="shifts",
        wage_min=3000,
        wage_max=3600,
    )
    svc.vacancy_review(
        actor=world.users["town_officer"], vacancy=vacancy, approve=True, today=today
    )
    client = client_for(world.users["community_staff"])
    url = reverse("employment_resident", args=[station["mother"].public_id])
    client.post(url, {"action": "refer", "vacancy": str(vacancy.public_id)})
    referral = Referral.objects.get()
    for step in ("contacted", "interview", "hired"):
        client.post(url, {"action": "move", "referral": str(referral.public_id), "to": step})
    referral.refresh_from_db()
    assert referral.state == ReferralState.HIRED
    assert svc.status_on(station["mother"], today).status == Status.EMPLOYED


def test_the_demo_has_two_stations_a_late_case_and_referrals_in_every_state(demo):
    from civicmark.employment.models import Household, ZeroEmploymentCase

    assert set(Household.objects.values_list("community__code", flat=True)) == {
        "990121100001",
        "990121100002",
    }
    case = ZeroEmploymentCase.objects.get()
    assert case.closed_on is not None and case.closed_on > case.deadline  # cleared, late
    states = set(Referral.objects.values_list("state", flat=True))
    assert states >= {"new", "contacted", "interview", "hired", "refused", "no_show"}


# --- Follow-ups, fairs, reconciliation, packages, consent, retention, the scoring bridge ---------


def _hire(station, world, resident, day):  # noqa: ANN001
    post = _post(station, world, f"岗位{resident.pk}")
    r = svc.referral_create(actor=station["staff"], resident=resident, vacancy=post, today=day)
    for step in (ReferralState.CONTACTED, ReferralState.INTERVIEW, ReferralState.HIRED):
        r = svc.referral_move(actor=station["staff"], referral=r, to=step, day=day)
    return r


def test_a_hire_schedules_follow_ups_and_the_last_one_gives_retention(station, world):
    from civicmark.employment.models import FollowUp

    _both_registered(station, D(2026, 3, 2))
    hired = _hire(station, world, station["father"], D(2026, 5, 8))
    assert list(hired.follow_ups.values_list("months", "due_on")) == [
        (1, D(2026, 6, 8)),
        (3, D(2026, 8, 8)),
    ]
    last = hired.follow_ups.get(months=3)
    with pytest.raises(ApplicationError):
        svc.follow_up_record(
            actor=station["staff"], follow_up=last, day=D(2026, 5, 1), still_employed=True
        )
    svc.follow_up_record(
        actor=station["staff"], follow_up=last, day=D(2026, 8, 10), still_employed=True
    )
    with pytest.raises(ApplicationError):  # once
        svc.follow_up_record(
            actor=station["staff"], follow_up=last, day=D(2026, 8, 11), still_employed=False
        )
    found = {
        i.key: i for i in indicators.for_community(world.d["C111"], D(2026, 1, 1), D(2026, 12, 31))
    }
    assert found["retention"].counts() == (1, 1)
    assert FollowUp.objects.filter(done_on__isnull=True).count() == 1


def test_a_fair_counts_employers_posts_check_ins_and_hires_within_n_days(station, world):
    staff = station["staff"]
    fair = svc.fair_create(
        actor=staff, division=world.d["C111"], title="春风行动招聘会", held_on=D(2026, 3, 6)
    )
    svc.fair_add_employer(actor=staff, fair=fair, employer=station["employer"], posts=12)
    for person in (station["father"], station["mother"]):
        svc.fair_check_in(actor=staff, fair=fair, resident=person)
    with pytest.raises(ApplicationError):
        svc.fair_check_in(actor=staff, fair=fair, resident=station["father"])  # once
    svc.status_set(actor=staff, resident=station["father"], status="employed", start=D(2026, 3, 20))
    svc.status_set(actor=staff, resident=station["mother"], status="employed", start=D(2026, 5, 20))
    assert svc.fair_figures(fair) == {"employers": 1, "posts": 12, "attendance": 2, "hired": 1}
    assert svc.fair_figures(fair, days=90)["hired"] == 2


def test_reconciliation_shows_each_difference_masked_and_refuses_bad_rows(station, world):
    from civicmark.core.errors import ImportRefused

    staff = station["staff"]
    _both_registered(station, D(2026, 3, 2))  # both registered in the ledger
    father, stranger = make_id("19740310", "131"), make_id("19880808", "191")
    good = f"身份证号,姓名,就业状态\n{father},王建国,就业\n{stranger},赵六,登记失业\n".encode()
    run = svc.reconcile(
        actor=staff, community=world.d["C111"], data=good, filename="official.csv", on=D(2026, 4, 1)
    )
    kinds = sorted(d["kind"] for d in run.details)
    # The father works officially but is registered here; the mother is missing officially;
    # the stranger is missing from the ledger.
    assert kinds == ["missing_ledger", "missing_official", "status_differs"]
    assert run.mismatches == 3 and run.rows == 2
    assert father not in repr(run.details) and stranger not in repr(run.details)
    found = {
        i.key: i for i in indicators.for_community(world.d["C111"], D(2026, 1, 1), D(2026, 12, 31))
    }
    assert found["mismatches"].counts() == (3, None) and len(found["mismatches"].rows()) == 3
    bad = f"身份证号,姓名,就业状态\n{father[:17]}0,王建国,就业\n{stranger},赵六,待业\n".encode()
    with pytest.raises(ImportRefused) as refused:
        svc.reconcile(
            actor=staff, community=world.d["C111"], data=bad, filename="o.csv", on=D(2026, 4, 2)
        )
    places = [(e.row, e.column) for e in refused.value.errors]
    assert places == [(2, "id_number"), (3, "status")]
    from civicmark.employment.models import Reconciliation

    assert Reconciliation.objects.count() == 1


def test_packages_are_counted_per_person_and_a_list_change_keeps_old_recognitions(station, world):
    from civicmark.employment.models import DifficultyGroup

    staff = station["staff"]
    _both_registered(station, D(2026, 3, 2))
    old = DifficultyGroup.objects.create(
        province=world.d["C"],
        code="long_term",
        name="长期失业人员",
        effective_from=D(2020, 1, 1),
        effective_to=D(2026, 6, 30),
        yearly_package=5,
    )
    DifficultyGroup.objects.create(
        province=world.d["C"],
        code="long_term",
        name="长期失业人员（新）",
        effective_from=D(2026, 7, 1),
        yearly_package=6,
    )
    with pytest.raises(ApplicationError):  # the old list is not in force in August
        svc.recognise(actor=staff, resident=station["father"], group=old, day=D(2026, 8, 1))
    svc.recognise(actor=staff, resident=station["father"], group=old, day=D(2026, 4, 1))
    for day in (D(2026, 4, 2), D(2026, 5, 2)):
        svc.service_record(actor=staff, resident=station["father"], kind="guidance", on=day)
    rows = {r["resident"].name: r for r in svc.coverage(world.d["C111"], 2026)}
    assert (rows["王建国"]["package"], rows["王建国"]["got"], rows["王建国"]["short"]) == (5, 2, 3)
    assert (rows["李秀英"]["package"], rows["李秀英"]["short"]) == (3, 3)
    assert station["father"].recognitions.get().group == old  # the old version, for good


def test_the_slip_is_anonymous_until_the_resident_consents(station, world, client_for):
    from django.urls import reverse
    from django.utils import timezone

    _both_registered(station, D(2026, 3, 2))
    post = _post(station, world)
    post.expires_on = timezone.localdate() + dt.timedelta(days=5)
    post.save()
    referral = svc.referral_create(
        actor=station["staff"],
        resident=station["mother"],
        vacancy=post,
        today=timezone.localdate(),
    )
    client = client_for(world.users["community_staff"])
    url = reverse("employment_slip", args=[referral.public_id])
    page = client.get(url).content.decode()
    assert "李秀英" not in page and 'data-testid="slip-anonymous"' in page
    svc.consent_record(
        actor=station["staff"], resident=station["mother"], purpose=svc.SHARE_PROFILE, given=True
    )
    page = client.get(url).content.decode()
    assert "李秀英" in page and make_id("19800512", "142") not in page
    svc.consent_record(
        actor=station["staff"], resident=station["mother"], purpose=svc.SHARE_PROFILE, given=False
    )
    assert "李秀英" not in client.get(url).content.decode()
    assert client_for(world.users["other_staff"]).get(url).status_code == 404


def test_residents_who_moved_away_long_ago_are_anonymised(station, world):
    father = station["father"]
    father.moved_away_on = D(2020, 5, 1)
    father.save()
    assert svc.anonymise_closed(actor=None, today=D(2026, 11, 28), years=5) == 1
    father.refresh_from_db()
    assert father.name == "—" and father.id_cipher == "" and father.anonymised_at
    assert svc.anonymise_closed(actor=None, today=D(2026, 11, 28), years=5) == 0
    assert Resident.objects.get(pk=station["mother"].pk).name == "李秀英"


def test_the_ledger_download_is_masked(station, world, client_for):
    from io import BytesIO

    from django.urls import reverse
    from openpyxl import load_workbook

    response = client_for(world.users["community_staff"]).get(
        reverse("employment_export", args=["C111"])
    )
    book = load_workbook(BytesIO(response.content))
    text = " ".join(
        str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row
    )
    assert "王建国" in text and pii.mask(make_id("19740310", "131")) in text
    assert not ID18.search(text)
    assert (
        client_for(world.users["other_staff"])
        .get(reverse("employment_export", args=["C111"]))
        .status_code
        == 404
    )


def test_the_labour_assessor_sees_and_signs_the_figures_beside_his_items(
    station, world, client_for
):
    from django.urls import reverse

    from civicmark.accounts.models import RoleAssignment
    from civicmark.campaigns.services import campaign_create
    from civicmark.divisions.models import Department
    from civicmark.employment.models import IndicatorSnapshot
    from tests.factories import person, small_standard

    labour = Department.objects.create(code="LABOUR", name="劳动局", division=world.d["C"])
    standard = small_standard(world)
    standard.items.filter(code="B1").update(department=labour)
    campaign = campaign_create(
        actor=None, slug="e", name="e", year=2026, division=world.d["C"], standard=standard
    )
    round_ = campaign.rounds.get(number=2)
    round_.covers.set(campaign.enrollments.all())
    assessor = person("labour1", "assessor", world.d["C"], department=labour)
    fp = person("fp9", "assessor", world.d["C"], department=world.dept["FP"])
    RoleAssignment.objects.get_or_create(
        user=fp, role="assessor", division=world.d["C"], department=world.dept["FP"]
    )
    _both_registered(station, D(2026, 3, 2))
    url = reverse("score_community", args=["e", 2, "C111"])
    page = client_for(assessor).get(url).content.decode()
    assert 'data-testid="employment-figures"' in page
    assert make_id("19740310", "131") not in page and "王建国" not in page
    assert 'data-testid="employment-figures"' not in client_for(fp).get(url).content.decode()
    # Only the Labour assessor signs; once; the snapshot keeps the figures as they were.
    sign = reverse("sign_employment_figures", args=["e", 2, "C111"])
    client_for(fp).post(sign)
    assert not IndicatorSnapshot.objects.exists()
    client_for(assessor).post(sign)
    snapshot = IndicatorSnapshot.objects.get()
    before = {f["key"]: (f["n"], f["d"]) for f in snapshot.figures}
    svc.status_set(
        actor=station["staff"], resident=station["father"], status="employed", start=D(2026, 6, 1)
    )
    client_for(assessor).post(sign)
    assert IndicatorSnapshot.objects.count() == 1
    snapshot.refresh_from_db()
    assert {f["key"]: (f["n"], f["d"]) for f in snapshot.figures} == before
    assert 'data-testid="figures-signed"' in client_for(assessor).get(url).content.decode()


def test_station_pages_answer_only_the_ledgers_keepers(station, world, client_for):
    from django.urls import reverse

    fair = svc.fair_create(
        actor=station["staff"], division=world.d["C111"], title="招聘会", held_on=D(2026, 3, 6)
    )
    urls = [
        reverse("employment_jobs", args=["C111"]),
        reverse("employment_fairs", args=["C111"]),
        reverse("employment_fair", args=[fair.public_id]),
        reverse("employment_reconcile", args=["C111"]),
        reverse("employment_coverage", args=["C111"]),
        reverse("employment_export", args=["C111"]),
    ]
    for persona in ("community_staff", "town_officer", "county_officer", "city_admin"):
        client = client_for(world.users[persona])
        assert [client.get(u).status_code for u in urls] == [200] * len(urls), persona
    for persona in ("assessor", "viewer", "other_staff", "other_town_officer", "nobody"):
        client = client_for(world.users[persona])
        assert [client.get(u).status_code for u in urls] == [404] * len(urls), persona
    assert (
        client_for(world.users["community_staff"]).get(reverse("employment_home")).status_code
        == 200
    )


def test_the_public_notice_masks_names_and_ids(station, world, client_for):
    from django.urls import reverse
    from django.utils import timezone

    from civicmark.employment.models import DifficultyGroup

    group = DifficultyGroup.objects.create(
        province=world.d["C"], code="x", name="就业困难人员", effective_from=D(2020, 1, 1)
    )
    svc.recognise(
        actor=station["staff"], resident=station["father"], group=group, day=timezone.localdate()
    )
    page = (
        client_for(world.users["community_staff"])
        .get(reverse("employment_notice", args=["C111"]))
        .content.decode()
    )
    assert "王*国" in page and "王建国" not in page
    assert pii.mask(make_id("19740310", "131")) in page and not ID18.search(page)


def test_the_calendar_and_the_group_lists_load_from_files_and_keep_old_versions(world, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    from civicmark.employment.models import DifficultyGroup

    days = tmp_path / "days.csv"
    days.write_text(
        "day,name,working\n2026-10-01,国庆节,0\n2026-10-10,调休上班,1\n", encoding="utf-8"
    )
    call_command("employment", "calendar", "--file", str(days), stdout=StringIO())
    assert dict(Holiday.objects.values_list("day", "is_working_day")) == {
        D(2026, 10, 1): False,
        D(2026, 10, 10): True,
    }
    groups = tmp_path / "groups.csv"
    groups.write_text(
        "code,name,from,package\nlong_term,长期失业人员,2020-01-01,3\n", encoding="utf-8"
    )
    call_command(
        "employment", "groups", "--province", "C", "--file", str(groups), stdout=StringIO()
    )
    groups.write_text(
        "code,name,from,package\nlong_term,长期失业人员,2026-07-01,5\n", encoding="utf-8"
    )
    call_command(
        "employment", "groups", "--province", "C", "--file", str(groups), stdout=StringIO()
    )
    versions = list(
        DifficultyGroup.objects.order_by("effective_from").values_list(
            "effective_from", "effective_to", "yearly_package"
        )
    )
    assert versions == [(D(2020, 1, 1), D(2026, 6, 30), 3), (D(2026, 7, 1), None, 5)]
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,from,package\nx,y,someday,3\n", encoding="utf-8")
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        call_command(
            "employment",
            "groups",
            "--province",
            "C",
            "--file",
            str(bad),
            stdout=StringIO(),
            stderr=StringIO(),
        )
    assert DifficultyGroup.objects.count() == 2


def _ledger(staff, world, text: str) -> int:  # noqa: ANN001
    """A ledger file (CSV text) imported into Community 111 on 1 June 2026."""
    return svc.ledger_import(
        actor=staff,
        community=world.d["C111"],
        data=text.encode(),
        filename="l.csv",
        today=D(2026, 6, 1),
    )


def test_a_ledger_imports_from_a_spreadsheet_all_or_nothing(world, client_for):
    from django.urls import reverse

    from civicmark.core.errors import ImportRefused

    staff = world.users["community_staff"]
    a, b = make_id("19700101", "131"), make_id("19820304", "142")
    good = (
        "地址,姓名,身份证号,电话,就业状态,起始日期,登记证号,登记日期\n"
        f"幸福小区1栋101,张三,{a},13800000000,登记失业,2026-02-01,3301002026000001,2026-02-01\n"
        f"幸福小区1栋101,李四,{b},,在业,2020-05-01,,\n"
    )
    assert _ledger(staff, world, good) == 2
    assert Resident.objects.filter(household__address="幸福小区1栋101").count() == 2
    assert (
        svc.status_on(Resident.objects.get(name="张三"), D(2026, 3, 1)).status
        == Status.REGISTERED_UNEMPLOYED
    )
    c = make_id("19900101", "151")
    bad = (
        "地址,姓名,身份证号,电话,就业状态,起始日期,登记证号,登记日期\n"
        f"幸福小区2栋,王五,{c},,登记失业,2026-02-01,,\n"  # no registration number
        f"幸福小区2栋,赵六,{a},,在业,2026-02-01,,\n"  # already in a ledger
        f"幸福小区2栋,钱七,{c[:17]}0,,在业,someday,,\n"  # check digit, date
    )
    with pytest.raises(ImportRefused) as refused:
        _ledger(staff, world, bad)
    places = [(e.row, e.column) for e in refused.value.errors]
    assert places == [(2, "registration_no"), (3, "id_number"), (4, "id_number")]
    assert not ID18.search(" ".join(str(e) for e in refused.value.errors))
    assert Resident.objects.count() == 2
    # Through the page, by someone else's staff: nothing.
    page = client_for(world.users["other_staff"]).post(
        reverse("employment_ledger", args=["C111"]), {"action": "import"}
    )
    assert page.status_code == 404


def test_a_ledger_import_does_what_adding_people_one_by_one_does(station, world):
    """Written in bulk, the same record: two audit events a person, the household's open
    zero-employment case cleared by a member now at work (from his start date), a registration
    dated after the period refused at its row."""
    from civicmark.core.errors import ImportRefused
    from civicmark.employment.models import ExitReason, StatusPeriod

    staff, home = station["staff"], station["home"]
    _both_registered(station, D(2026, 3, 2))
    case = svc.zero_case_recognise(actor=staff, household=home, day=D(2026, 3, 30))
    header = "地址,姓名,身份证号,电话,就业状态,起始日期,登记证号,登记日期\n"
    son, guest = make_id("20000101", "151"), make_id("19950202", "162")
    late = (
        f"{home.address},周八,{make_id('19990101', '171')},,登记失业,2026-02-01,3301,2026-03-01\n"
    )
    with pytest.raises(ImportRefused) as refused:
        _ledger(staff, world, header + late)
    assert [(e.row, e.column) for e in refused.value.errors] == [(2, "registration_date")]
    events_before = AuditEvent.objects.count()
    data = (
        header
        + f"{home.address},王小明,{son},,在业,2026-04-20,,\n新楼1号,访客,{guest},,在业,2026-01-01,,\n"
    )
    assert _ledger(staff, world, data) == 2
    case.refresh_from_db()
    assert (case.closed_on, case.exit_reason) == (D(2026, 4, 20), ExitReason.MEMBER_EMPLOYED)
    added = Resident.objects.get(name="王小明")
    assert added.household == home and added.birth_date == D(2000, 1, 1)
    assert svc.status_on(added, D(2026, 5, 1)).status == Status.EMPLOYED
    assert StatusPeriod.objects.filter(resident__name="访客", start=D(2026, 1, 1)).exists()
    actions = list(
        AuditEvent.objects.order_by("pk")[events_before:].values_list("action", flat=True)
    )
    assert actions.count("employment.resident_added") == 2
    assert actions.count("employment.status_set") == 2
    assert "employment.zero_case_cleared" in actions and "employment.ledger_imported" in actions


def test_the_station_home_puts_open_cases_first_in_constant_queries(station, world, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    _both_registered(station, D(2026, 3, 2))
    svc.zero_case_recognise(actor=station["staff"], household=station["home"], day=D(2026, 3, 2))
    client = client_for(world.users["city_admin"])
    url = reverse("employment_home")
    with CaptureQueriesContext(connection) as few:
        page = client.get(url).content.decode()
    assert page.index("Community 111") < page.index("Community 112")  # the open case first
    assert 'data-testid="zero-case"' in page
    for n in range(5):  # more households in other communities: no more queries
        svc.household_add(actor=None, community=world.d["C211"], address=f"门{n}")
    with CaptureQueriesContext(connection) as more:
        client.get(url)
    assert len(few) == len(more)


def test_the_ledger_page_costs_the_same_queries_for_more_residents(station, world, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    _both_registered(station, D(2026, 3, 2))
    client = client_for(world.users["community_staff"])
    url = reverse("employment_ledger", args=["C111"])
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(4):
        home = svc.household_add(
            actor=station["staff"], community=world.d["C111"], address=f"2栋{n}"
        )
        person = svc.resident_add(
            actor=station["staff"],
            household=home,
            name=f"居民{n}",
            id_number=make_id("19850101", f"2{n}1"),
        )
        svc.status_set(
            actor=station["staff"], resident=person, status="employed", start=D(2026, 1, 1)
        )
    with CaptureQueriesContext(connection) as more:
        client.get(url)
    assert len(few) == len(more)


def test_the_id_numbers_move_to_a_new_key_and_nothing_moves_on_a_wrong_one(
    station, world, settings, monkeypatch
):
    from io import StringIO

    from django.core.management import call_command

    staff, home = station["staff"], station["home"]
    number = make_id("19740310", "131")
    old = settings.PII_KEY

    def stored() -> list:
        return list(Resident.objects.order_by("pk").values_list("id_cipher", "id_hash"))

    before = stored()
    settings.PII_KEY = "a-new-key-for-the-ledger-" + "k" * 30
    father = Resident.objects.get(pk=station["father"].pk)
    with pytest.raises(ApplicationError):
        pii.decrypt(father.id_cipher)  # the new key cannot read the old numbers
    with pytest.raises(ApplicationError, match="neither|两把"):
        svc.pii_rekey(actor=None, old_key="not-the-old-key")
    with pytest.raises(NotAllowed):
        svc.pii_rekey(actor=world.users["city_admin"], old_key=old)
    assert stored() == before
    assert svc.pii_rekey(actor=None, old_key=old) == 2
    father.refresh_from_db()
    assert pii.decrypt(father.id_cipher) == number and father.id_hash == pii.keyed_hash(number)
    with pytest.raises(ApplicationError):  # the same person is still refused a second time
        svc.resident_add(actor=staff, household=home, name="王建国", id_number=number)
    assert svc.pii_rekey(actor=None, old_key=old) == 0  # run again: nothing left to do
    assert AuditEvent.objects.filter(action="employment.pii_rekeyed").count() == 1
    # The command reads the old key from the environment, never from its arguments.
    monkeypatch.setenv("OLD_PII_KEY", settings.PII_KEY)
    settings.PII_KEY = "a-third-key-" + "z" * 40
    out = StringIO()
    call_command("employment", "rekey", stdout=out)
    assert out.getvalue().strip() == "2 re-keyed"
    father.refresh_from_db()
    assert pii.decrypt(father.id_cipher) == number
