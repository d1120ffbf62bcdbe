"""The demo city: loaded through the same import services as real data, so it is idempotent."""

from __future__ import annotations

from importlib import resources

from django.contrib.auth import get_user_model
from django.db import transaction

from civicmark.accounts.services import users_import
from civicmark.divisions import services
from civicmark.divisions.imports import departments_import, divisions_import
from civicmark.divisions.models import CommunityProfile, Department, Division, WorkingGroup

DEMO_PASSWORD = "CivicMark-demo-2026"
ADMIN = ("admin", "系统管理员")
PILOT = "990121100001"

GROUPS: list[tuple[str, str, str, list[tuple[str, str | None, str, bool]]]] = [
    (
        "990100000000",
        "市社区建设领导小组办公室",
        "统筹全市示范社区创建，组织两轮验收",
        [
            ("王建国", "CIVIL", "办公室主任", True),
            ("周立新", "ORG", "成员", False),
            ("孙丽", "FP", "成员", False),
        ],
    ),
    (
        "990121000000",
        "安平县创建示范社区工作组",
        "县民政局牵头，负责县级预验收和上报",
        [("李秀英", "AP-CIVIL", "组长", True), ("马强", "AP-PSB", "社会治安综合治理", False)],
    ),
    (
        "990121100000",
        "城关镇创建工作组",
        "指导辖区四个社区创建，办好试点",
        [("张卫东", None, "组长", True), ("吴敏", None, "业务培训", False)],
    ),
    (
        "990121001000",
        "东关街道创建工作组",
        "推动辖区四个社区全面铺开",
        [("郑海", None, "组长", True), ("黄静", None, "台账资料", False)],
    ),
]


def _file(name: str) -> bytes:
    return resources.files("civicmark.demo").joinpath(name).read_bytes()


def load_demo() -> list[tuple[str, str, str]]:
    """Load the demo city; return (username, role, password) for each demo account."""
    with transaction.atomic():
        divisions_import(
            actor=None, data=_file("divisions.csv"), filename="divisions.csv", via="demo"
        )
        departments_import(
            actor=None, data=_file("departments.csv"), filename="departments.csv", via="demo"
        )
        CommunityProfile.objects.filter(division__code=PILOT, is_pilot=False).update(is_pilot=True)
        result = users_import(actor=None, data=_file("users.csv"), filename="users.csv", via="demo")
        User = get_user_model()
        for user, _link in result.created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        if not User.objects.filter(username=ADMIN[0]).exists():
            User.objects.create_superuser(
                username=ADMIN[0], password=DEMO_PASSWORD, full_name=ADMIN[1]
            )
        _load_groups()
        _load_standard()
        _load_campaign()
    accounts = [(ADMIN[0], "superuser", DEMO_PASSWORD)]
    for line in _file("users.csv").decode().splitlines()[1:]:
        username, _name, role, *_ = line.split(",")
        accounts.append((username, role, DEMO_PASSWORD))
    return accounts


def _load_standard() -> None:
    """The default standard written by this team, in Chinese, published (English: importable)."""
    from civicmark.standards import formats
    from civicmark.standards.services import standard_import

    data = formats.from_yaml(
        resources.files("civicmark.standards")
        .joinpath("data/demonstration-community.zh.yaml")
        .read_bytes()
    )
    standard_import(actor=None, data=data, publish=True, via="demo")


CAMPAIGN = "anping-2026"


def _load_campaign() -> None:
    """The county's campaign for the year, with the plan's steps; the early steps are done."""
    from datetime import date

    from civicmark.campaigns.models import Campaign, Meeting, MeetingKind, Task, TaskStatus
    from civicmark.campaigns.services import attendance_record, campaign_create, meeting_create
    from civicmark.standards.models import Standard

    if Campaign.objects.filter(slug=CAMPAIGN).exists():
        return
    county = Division.objects.get(code="990121000000")
    standard = Standard.objects.get(slug="demonstration-community", version=1)
    campaign = campaign_create(
        actor=None,
        slug=CAMPAIGN,
        name="安平县2026年城市示范社区创建",
        year=2026,
        division=county,
        standard=standard,
        pilots=[PILOT],
        via="demo",
    )
    campaign.working_groups.set(WorkingGroup.objects.filter(division__path__startswith=county.path))
    # The work is done everywhere but in two communities of 东关街道, whose tasks are still open,
    # so overdue work shows up where it would in life.
    late = {"990121001003", "990121001004"}
    tasks = campaign.tasks.select_related("phase", "division")
    done = [
        t
        for t in tasks
        if t.phase.key in ("team_up", "mobilise", "pilot", "start", "training")
        and t.division.code not in late
    ]
    for task in done:
        task.status = TaskStatus.DONE
    Task.objects.bulk_update(done, ["status"])
    communities = list(Division.objects.filter(enrollments__campaign=campaign).order_by("path"))
    training = meeting_create(
        actor=None,
        campaign=campaign,
        kind=MeetingKind.TRAINING,
        title="社区居委会干部业务培训班",
        held_on=date(2026, 7, 2),
        host=county,
        place="县委党校",
        agenda="创建标准解读；台账资料规范；自评方法",
        expected=[(c, f"{c.name}主任") for c in communities]
        + [(c, f"{c.name}专干") for c in communities],
    )
    attendance_record(
        actor=None,
        meeting=training,
        minutes="应到16人，实到14人。",
        present={
            a.pk
            for a in training.attendance.all()
            if a.community.code not in late or "主任" in a.name
        },
    )
    on_site = meeting_create(
        actor=None,
        campaign=campaign,
        kind=MeetingKind.ON_SITE,
        title="创建示范社区现场推进会",
        held_on=date(2026, 5, 30),
        host=county,
        place="解放路社区",
        agenda="参观试点社区；交流经验；部署全面启动",
        expected=[(c, f"{c.name}书记") for c in communities],
    )
    attendance_record(
        actor=None,
        meeting=on_site,
        minutes="各社区书记到会，参观试点社区台账和服务大厅。",
        present={a.pk for a in on_site.attendance.all() if a.community.code != "990121001004"},
    )
    assert Meeting.objects.filter(campaign=campaign).count() == 2


def _load_groups() -> None:
    departments = {d.code: d for d in Department.objects.all()}
    for code, name, purpose, members in GROUPS:
        division = Division.objects.get(code=code)
        if WorkingGroup.objects.filter(division=division, name=name).exists():
            continue
        group = services.working_group_create(
            actor=None, division=division, name=name, purpose=purpose
        )
        for member_name, dept, duty, leader in members:
            services.working_group_member_add(
                actor=None,
                group=group,
                name=member_name,
                duty=duty,
                is_leader=leader,
                department=departments.get(dept or ""),
            )
