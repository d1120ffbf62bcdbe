"""No typed word lost (issue 16, item 3): every kind of form, posted with one bad value, comes
back with every value that was typed and an error, and writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from civicmark.core.models import AuditEvent
from tests.test_employment import station  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Kind:
    """One kind of form: who posts it where, what is typed (one value bad), what must come
    back as typed."""

    name: str
    who: str
    url: Callable[[Any], str]
    data: Callable[[Any], dict[str, Any]]
    shown: tuple[str, ...]


KINDS = [
    Kind(
        "job post",
        "community_staff",
        lambda s: reverse("employment_jobs", args=["C111"]),
        lambda s: {
            "action": "file",
            "employer": str(s["station"]["employer"].public_id),
            "title": "小区保洁员",
            "category": "物业服务",
            "hours": "full",
            "wage_min": "3000",
            "wage_max": "三千五",  # not a number
            "distance_km": "1.5",
        },
        ("小区保洁员", "物业服务", 'value="3000"', "三千五", 'value="1.5"'),
    ),
    Kind(
        "employer",
        "community_staff",
        lambda s: reverse("employment_jobs", args=["C111"]),
        lambda s: {"action": "employer", "name": "清源家政服务有限公司", "credit_code": "12345"},
        ("清源家政服务有限公司", 'value="12345"'),
    ),
    Kind(
        "job fair",
        "community_staff",
        lambda s: reverse("employment_fairs", args=["C111"]),
        lambda s: {"title": "春风行动招聘会", "held_on": "2026-04-31"},  # no such day
        ('value="春风行动招聘会"', "2026-04-31"),
    ),
    Kind(
        "person",
        "city_admin",
        lambda s: reverse("person_create"),
        lambda s: {
            "username": "wang.li",
            "full_name": "王丽",
            "role": "town_officer",
            "division": "NOWHERE",
        },
        ('value="wang.li"', 'value="王丽"'),
    ),
    Kind(
        "division",
        "city_admin",
        lambda s: reverse("division_edit", args=["C111"]),
        lambda s: {"name": "幸福里社区", "parent": "NOWHERE"},
        ('value="幸福里社区"',),
    ),
    Kind(
        "department",
        "city_admin",
        lambda s: reverse("department_create"),
        lambda s: {"code": "WJW", "name": "卫生健康委员会", "division": "NOWHERE"},
        ('value="WJW"', 'value="卫生健康委员会"'),
    ),
    Kind(
        "working group",
        "city_admin",
        lambda s: reverse("group_create"),
        lambda s: {"division": "NOWHERE", "name": "创建工作小组", "purpose": "统筹创建工作"},
        ('value="创建工作小组"', "统筹创建工作"),
    ),
    Kind(
        "community profile",
        "community_staff",
        lambda s: reverse("profile_edit", args=["C111"]),
        lambda s: {
            "committee": "幸福里居委会",
            "households": "1200",
            "residents": "三千",  # not a number
            "area_km2": "0.8",
            "note": "老旧小区改造中",
        },
        ('value="幸福里居委会"', 'value="1200"', "三千", 'value="0.8"', "老旧小区改造中"),
    ),
    Kind(
        "campaign",
        "city_admin",
        lambda s: reverse("campaign_list"),
        lambda s: {
            "name": "二〇二七年创建",
            "slug": "chuangjian-2027",
            "year": "二〇二七",  # not a number
            "division": "C",
            "standard": str(s["scoring"]["standard"].public_id),
            "pilots": "C111 C112",
        },
        ('value="二〇二七年创建"', "chuangjian-2027", "二〇二七", "C111 C112"),
    ),
    Kind(
        "meeting",
        "city_admin",
        lambda s: reverse("meeting_list", args=["c"]),
        lambda s: {
            "kind": "mobilisation",
            "title": "创建动员大会",
            "held_on": "2026-02-30",  # no such day
            "host": "C",
            "place": "市政府三楼会议室",
            "agenda": "部署创建工作",
            "expected": "C111 社区书记",
        },
        ('value="创建动员大会"', "2026-02-30", "市政府三楼会议室", "部署创建工作", "C111 社区书记"),
    ),
    Kind(
        "phase dates",
        "city_admin",
        lambda s: reverse("phase_edit", args=["c", s["scoring"]["campaign"].phases.first().key]),
        lambda s: {"starts_on": "2026-03-01", "due_on": "2026-13-01"},
        ("2026-03-01", "2026-13-01"),
    ),
    Kind(
        "survey",
        "city_admin",
        lambda s: reverse("survey_list", args=["c", 2]),
        lambda s: {"sample_size": "五十五", "reserve_size": "25", "method": "simple"},
        ("五十五", 'value="25"', 'value="simple" selected'),
    ),
    Kind(
        "standards import",
        "city_admin",
        lambda s: reverse("standard_import"),
        lambda s: {
            "publish": "on",
            "file": SimpleUploadedFile("table.yaml", b"standard: [unclosed", "text/yaml"),
        },
        ('name="publish" class="form-check-input" id="id_publish" checked',),
    ),
]


def _fingerprint() -> tuple[int, ...]:
    from django.apps import apps

    return tuple(
        m.objects.count()
        for m in apps.get_models()
        if m._meta.app_label.split(".")[-1]
        in ("employment", "accounts", "divisions", "campaigns", "surveys", "standards")
    )


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_it_shows_back_every_typed_value_after_an_error(
    kind,
    world,
    scoring,
    station,  # noqa: F811
    client_for,
):
    stage = {"world": world, "scoring": scoring, "station": station}
    client = client_for(world.users[kind.who])
    url = kind.url(stage)
    assert client.get(url).status_code == 200
    before, events = _fingerprint(), AuditEvent.objects.count()
    response = client.post(url, kind.data(stage))
    assert response.status_code in (200, 422), "refused in place, not redirected nor a 500"
    html = response.content.decode()
    missing = [typed for typed in kind.shown if typed not in html]
    assert not missing, f"{kind.name}: typed values not shown back: {missing}"
    assert "text-danger" in html or "invalid-feedback" in html or "alert-danger" in html
    assert _fingerprint() == before and AuditEvent.objects.count() == events


def test_a_job_post_keeps_its_title_after_an_error(world, station, client_for):  # noqa: F811
    """The finding: a job post lost its title after an error (the wages, here, the wrong way
    round). The error sits beside the wage it names."""
    from civicmark.employment.models import Vacancy

    response = client_for(world.users["community_staff"]).post(
        reverse("employment_jobs", args=["C111"]),
        {
            "action": "file",
            "employer": str(station["employer"].public_id),
            "title": "社区养老护理员",
            "category": "养老",
            "hours": "part",
            "wage_min": "4000",
            "wage_max": "3000",
        },
    )
    html = response.content.decode()
    assert 'value="社区养老护理员"' in html and 'value="养老"' in html
    assert 'value="part" selected' in html
    assert response.context["vacancy_form"].errors["wage_max"]
    assert not Vacancy.objects.exists()
