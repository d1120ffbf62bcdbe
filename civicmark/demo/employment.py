"""The demo's two employment stations (解放路 and 和平里): ledgers, a zero-employment household
cleared late, posts in the job bank, and referrals in every state. Loaded through the services."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from civicmark.divisions.models import Division
from civicmark.employment import pii, rules
from civicmark.employment import services as svc
from civicmark.employment.models import Holiday, ReferralState, Status

D = dt.date

# (address, [(name, birth, sex digit, status, since, registration)])
LEDGERS = {
    "990121100001": [
        (
            "解放路小区1栋1单元101",
            [
                ("孙立军", "19730904", 3, Status.REGISTERED_UNEMPLOYED, D(2026, 1, 12), True),
                ("周桂兰", "19790621", 4, Status.REGISTERED_UNEMPLOYED, D(2026, 1, 12), True),
                ("孙小雨", "20080315", 6, Status.STUDENT, D(2024, 9, 1), False),
            ],
        ),
        (
            "解放路小区2栋3单元402",
            [
                ("马志远", "19850211", 1, Status.EMPLOYED, D(2019, 7, 1), False),
                ("何静", "19870930", 2, Status.FLEXIBLE, D(2025, 3, 1), False),
            ],
        ),
        (
            "解放路小区5栋1单元202",
            [
                ("吴德海", "19720118", 5, Status.REGISTERED_UNEMPLOYED, D(2025, 10, 8), True),
                ("郑美华", "19800728", 8, Status.OUT_OF_LABOUR_FORCE, D(2020, 1, 1), False),
            ],
        ),
        (
            "商业街12号",
            [
                ("冯海涛", "19900505", 7, Status.SELF_EMPLOYED, D(2022, 4, 1), False),
                ("陈晓燕", "19781203", 0, Status.UNREGISTERED_JOBLESS, D(2026, 2, 1), False),
            ],
        ),
    ],
    "990121100002": [
        (
            "和平里3号楼2门301",
            [
                ("高建华", "19690812", 9, Status.REGISTERED_UNEMPLOYED, D(2025, 11, 3), True),
                ("杨淑芬", "19700301", 2, Status.RETIRED, D(2020, 3, 1), False),
            ],
        ),
        (
            "和平里7号楼1门102",
            [
                ("罗强", "19920416", 3, Status.EMPLOYED, D(2016, 8, 1), False),
                ("谢丽", "19950822", 4, Status.REGISTERED_UNEMPLOYED, D(2026, 3, 16), True),
            ],
        ),
    ],
}


def _id(birth: str, n: int, serial: int) -> str:
    first17 = f"130121{birth}{serial:02d}{n}"
    return first17 + pii.check_character(first17)


def load_employment() -> None:
    from civicmark.employment.models import Household

    if Household.objects.filter(community__code__in=LEDGERS).exists():
        return  # loaded before: loading the demo twice changes nothing
    User = get_user_model()
    staff = User.objects.get(username="community")
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["reveal_id_number", "view_sensitive_flags"])
    )
    staff = User.objects.get(pk=staff.pk)
    town = User.objects.get(username="town")
    today = timezone.localdate()
    # The 2026 calendar the deadlines count on: Qingming and Labour Day off, a working Sunday.
    for day, name, working in (
        (D(2026, 4, 6), "清明节", False),
        (D(2026, 5, 1), "劳动节", False),
        (D(2026, 5, 4), "劳动节", False),
        (D(2026, 5, 5), "劳动节", False),
        (D(2026, 5, 9), "劳动节调休", True),
    ):
        Holiday.objects.get_or_create(day=day, defaults={"name": name, "is_working_day": working})
    people = {}
    serial = 10
    for code, households in LEDGERS.items():
        community = Division.objects.get(code=code)
        actor = staff if code == "990121100001" else None
        for address, members in households:
            home = svc.household_add(actor=actor, community=community, address=address)
            for name, birth, digit, status, since, registered in members:
                serial += 1
                person = svc.resident_add(
                    actor=actor, household=home, name=name, id_number=_id(birth, digit, serial)
                )
                svc.status_set(
                    actor=actor,
                    resident=person,
                    status=status,
                    start=since,
                    registration_no=f"130121{since:%Y}{serial:06d}" if registered else "",
                    registration_date=since if registered else None,
                )
                people[name] = person
    jiefang = Division.objects.get(code="990121100001")
    heping = Division.objects.get(code="990121100002")
    people["何静"].wants_category, people["谢丽"].wants_category = "物业", "零售"
    for p in (people["何静"], people["谢丽"]):
        p.save(update_fields=["wants_category"])
    # The 孙 household: zero-employment, recognised 2 March, 10 working days (16 March);
    # 周桂兰 starts work on 10 April: cleared, late.
    sun = people["孙立军"].household
    svc.zero_case_recognise(actor=staff, household=sun, day=D(2026, 3, 2))
    # Employers and posts; published a few days ago so that they are open when the demo runs.
    employers = [
        svc.employer_verify(actor=staff, name=name, credit_code=code, division=jiefang)
        for name, code in (
            (
                "县城解放路物业服务有限公司",
                "91130121MA0A1B2C3" + rules.uscc_check("91130121MA0A1B2C3"),
            ),
            ("惠民连锁超市有限公司", "91130121MA0D4E5F6" + rules.uscc_check("91130121MA0D4E5F6")),
            ("安康家政服务中心", "52130121MA0G7H8J9" + rules.uscc_check("52130121MA0G7H8J9")),
        )
    ]
    published = today - dt.timedelta(days=5)
    posts = {}
    for key, (employer, community, title, category, hours, low, high, km) in {
        "保洁": (employers[0], jiefang, "小区保洁员", "物业", "full", 2600, 3000, "0.5"),
        "保安": (employers[0], jiefang, "夜班保安", "物业", "shifts", 3200, 3800, "0.8"),
        "理货": (employers[1], heping, "理货员", "零售", "full", 3000, 3500, "1.6"),
        "收银": (employers[1], heping, "收银员（兼职）", "零售", "part", 1800, 2200, "1.6"),
        "护理": (employers[2], jiefang, "居家养老护理员", "家政", "full", 3500, 4500, "2.5"),
    }.items():
        post = svc.vacancy_file(
            actor=staff if community == jiefang else None,
            employer=employer,
            community=community,
            title=title,
            category=category,
            hours=hours,
            wage_min=low,
            wage_max=high,
            distance_km=km,
        )
        if key != "护理":  # one post still awaits the town's review
            svc.vacancy_review(actor=town, vacancy=post, approve=True, today=published)
        posts[key] = post
    # Referrals in every state.
    start = published

    def refer(name: str, key: str, steps: list[tuple[str, str]]) -> None:
        person = people[name]
        actor = staff if person.household.community == jiefang else None
        r = svc.referral_create(actor=actor, resident=person, vacancy=posts[key], today=start)
        for to, reason in steps:
            r = svc.referral_move(actor=actor, referral=r, to=to, day=start, reason=reason)

    R = ReferralState
    refer("吴德海", "保安", [(R.CONTACTED, ""), (R.INTERVIEW, ""), (R.HIRED, "")])
    refer("孙立军", "保洁", [(R.CONTACTED, ""), (R.REFUSED, "嫌工资低，希望白班")])
    refer("谢丽", "理货", [(R.CONTACTED, ""), (R.INTERVIEW, "")])
    refer("谢丽", "收银", [(R.CONTACTED, ""), (R.NO_SHOW, "")])
    refer("高建华", "理货", [])
    refer("陈晓燕", "保洁", [(R.CONTACTED, "")])
    # 周桂兰 found work herself (a relative's shop) on 10 April: the case clears, after its deadline.
    svc.status_set(
        actor=staff,
        resident=people["周桂兰"],
        status=Status.EMPLOYED,
        start=D(2026, 4, 10),
        employer="解放路便民早餐店",
    )
    svc.service_record(
        actor=staff,
        resident=people["孙立军"],
        kind="visit",
        on=D(2026, 3, 3),
        note="入户走访，了解技能与求职意向",
    )
    svc.service_record(
        actor=staff,
        resident=people["孙立军"],
        kind="training",
        on=D(2026, 3, 20),
        note="推荐参加县电工培训班",
    )
    # The province's list of groups in employment difficulty (the demo city stands in for its
    # province), with a 2026 revision that raised the yearly package.
    from civicmark.employment.models import DifficultyGroup, FollowUp

    city = Division.objects.get(code="990100000000")
    long_term = DifficultyGroup.objects.create(
        province=city,
        code="long_term",
        name="长期失业人员",
        effective_from=D(2020, 1, 1),
        effective_to=D(2026, 6, 30),
        yearly_package=3,
    )
    DifficultyGroup.objects.create(
        province=city,
        code="long_term",
        name="长期失业人员",
        effective_from=D(2026, 7, 1),
        yearly_package=5,
    )
    DifficultyGroup.objects.create(
        province=city,
        code="zero_family",
        name="零就业家庭成员",
        effective_from=D(2020, 1, 1),
        yearly_package=5,
    )
    svc.recognise(actor=None, resident=people["高建华"], group=long_term, day=D(2026, 1, 5))
    # A spring fair (春风行动) at 解放路: three employers, residents checked in.
    fair = svc.fair_create(
        actor=staff, division=jiefang, title="2026年春风行动社区招聘会", held_on=D(2026, 3, 6)
    )
    for employer, n in zip(employers, (8, 12, 4), strict=True):
        svc.fair_add_employer(actor=staff, fair=fair, employer=employer, posts=n)
    opened = timezone.make_aware(dt.datetime(2026, 3, 6, 9, 0))
    for n, name in enumerate(("孙立军", "周桂兰", "吴德海", "陈晓燕")):
        at = opened + dt.timedelta(minutes=7 * n)
        svc.fair_check_in(actor=staff, fair=fair, resident=people[name], at=at)
    # The first follow-up of 吴德海's hire is due; record it if the demo runs late enough.
    for follow_up in FollowUp.objects.filter(due_on__lte=today, done_on__isnull=True):
        svc.follow_up_record(
            actor=None, follow_up=follow_up, day=follow_up.due_on, still_employed=True
        )
    # The official system's export, compared with the 解放路 ledger: one difference each way.
    rows = ["身份证号,姓名,就业状态"]
    for name in ("孙立军", "吴德海"):
        rows.append(f"{pii.decrypt(people[name].id_cipher)},{name},登记失业")
    rows.append(f"{_id('19830417', 1, 99)},韩冬,登记失业")
    svc.reconcile(
        actor=staff,
        community=jiefang,
        data="\n".join(rows).encode(),
        filename="official.csv",
        on=today,
    )
