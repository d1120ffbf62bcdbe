"""A town officer works through the overdue tasks of his town in a real browser."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from civicmark.campaigns.models import Task, TaskStatus
from civicmark.campaigns.services import campaign_create
from civicmark.divisions.models import Department
from civicmark.standards import formats
from civicmark.standards.services import standard_import
from tests.factories import build_world
from tests.test_standards import DEPARTMENTS, default_yaml


@pytest.mark.django_db(transaction=True)
def test_a_town_officer_walks_through_his_overdue_tasks(sign_in, live_server):
    world = build_world()
    for code in DEPARTMENTS:
        Department.objects.get_or_create(
            code=code, defaults={"name": code, "division": world.d["C"]}
        )
    standard, _ = standard_import(
        actor=None, data=formats.from_yaml(default_yaml()), division=world.d["C"], publish=True
    )
    campaign_create(
        actor=None,
        slug="k1",
        name="县示范社区创建",
        year=2026,
        division=world.d["K1"],
        standard=standard,
    )
    Task.objects.update(due_on=date.today() + timedelta(days=20))
    late = Task.objects.filter(phase__key__in=["team_up", "start"])
    late.update(due_on=date.today() - timedelta(days=3))
    mine = late.filter(division__path__startswith=world.d["T11"].path).count()
    # The town's working group, and for C111 and C112 (no pilot here) the full start and the
    # self-assessment, which the plan now has due before the county round opens.
    assert mine == 5

    page = sign_in("town_officer")
    page.click("nav >> text=创建活动")
    page.click("text=县示范社区创建")
    town_row = page.locator("[data-testid=town-progress] tr", has_text="Town 11")
    town_row.locator("a.text-danger").click()
    rows = page.locator("[data-testid=tasks] tbody tr")
    units = rows.locator("td:nth-child(2)").all_inner_texts()
    assert units and all(u in ("Town 11", "Community 111", "Community 112") for u in units)
    before = rows.count()
    first = rows.first
    first.locator("select[name=status]").select_option("done")
    first.locator("input[name=note]").fill("已组建，文件已归档")
    first.locator("button").click()
    page.wait_for_selector("[role=status]")
    assert page.locator("[data-testid=tasks] tbody tr[data-overdue]").count() == before - 1
    assert Task.objects.filter(status=TaskStatus.DONE, note="已组建，文件已归档").count() == 1
