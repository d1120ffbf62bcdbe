"""Each role signs in with a real browser and sees its own work, and nothing else."""

from __future__ import annotations

import pytest

from tests.factories import build_world

NAV = {
    "city_admin": {
        "我的工作",
        "创建活动",
        "行政区划",
        "部门",
        "标准",
        "工作组",
        "就业服务",
        "人员",
        "审计日志",
    },
    "county_officer": {
        "我的工作",
        "创建活动",
        "行政区划",
        "部门",
        "标准",
        "工作组",
        "就业服务",
        "人员",
        "审计日志",
    },
    "town_officer": {
        "我的工作",
        "创建活动",
        "行政区划",
        "部门",
        "标准",
        "工作组",
        "就业服务",
        "人员",
        "审计日志",
    },
    # The employment ledger: the community's own staff and the offices above it.
    "community_staff": {"我的工作", "创建活动", "行政区划", "部门", "标准", "就业服务"},
    "assessor": {"我的工作", "创建活动", "行政区划", "部门", "标准"},
    "viewer": {"我的工作", "创建活动", "行政区划", "部门", "标准", "工作组"},
}
DIVISIONS = {
    "city_admin": {"City", "County One", "County Two", "Community 211"},
    "county_officer": {"County One", "Town 11", "Town 12", "Community 121"},
    "town_officer": {"Town 11", "Community 111", "Community 112"},
    "community_staff": {"Community 111"},
    "assessor": {"County One", "Community 121"},
    "viewer": {"County One", "Community 112"},
}
NEVER = {
    "county_officer": {"County Two", "Town 21", "Community 211"},
    "town_officer": {"Town 12", "Community 121", "County One"},
    "community_staff": {"Community 112", "Town 11"},
    "assessor": {"County Two"},
    "viewer": {"Community 211"},
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("persona", list(NAV))
def test_each_role_sees_its_own_menu_and_area(sign_in, live_server, persona):
    build_world()
    page = sign_in(persona)
    menu = set(page.locator("nav .nav-link").all_inner_texts())
    assert menu == NAV[persona]
    # The vendored stylesheet is loaded (the navbar takes the product's colour).
    colour = page.eval_on_selector("nav.navbar", "e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(139, 26, 26)"
    page.goto(f"{live_server.url}/divisions/")
    table = page.locator("[data-testid=division-table]").inner_text()
    for name in DIVISIONS[persona]:
        assert name in table
    for name in NEVER.get(persona, set()):
        assert name not in table


@pytest.mark.django_db(transaction=True)
def test_community_staff_edits_the_profile_and_switches_to_english(sign_in, live_server):
    build_world()
    page = sign_in("community_staff")
    page.goto(f"{live_server.url}/divisions/C111/")
    page.click("text=编辑")
    page.fill("#id_households", "2468")
    page.click("button:has-text('保存')")
    assert "2468" in page.locator("[data-testid=profile]").inner_text()
    page.click("button[name=language][value=en]")
    page.wait_for_selector("text=Community profile")
    assert "households" in page.locator("[data-testid=profile]").inner_text()
    # Another community's address answers as if it did not exist.
    response = page.goto(f"{live_server.url}/divisions/C211/")
    assert response is not None and response.status == 404


@pytest.mark.django_db(transaction=True)
def test_a_bad_import_shows_each_error_with_its_row(sign_in, live_server, tmp_path):
    build_world()
    page = sign_in("county_officer")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "code,name,level,parent_code\nN1,,community,T11\nN2,Two,community,NOPE\n", encoding="utf-8"
    )
    page.goto(f"{live_server.url}/divisions/import/")
    page.set_input_files("#id_file", str(bad))
    page.click("button:has-text('导入')")
    errors = page.locator("[data-testid=import-errors]").inner_text()
    assert "名称为空" in errors and "NOPE" in errors
    assert "2" in errors and "3" in errors
