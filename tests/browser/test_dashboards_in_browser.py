"""A town officer opens every dashboard and sees his own town's communities only."""

from __future__ import annotations

import pytest

CHENGGUAN = {"解放路社区", "和平里社区", "文昌社区", "新华社区"}
DONGGUAN = {"东关社区", "站前社区", "朝阳社区", "滨河社区"}


@pytest.mark.django_db(transaction=True)
def test_a_town_officer_sees_only_his_town(demo, sign_in, live_server):
    page = sign_in("town", "CivicMark-demo-2026")
    page.goto(f"{live_server.url}/campaigns/{demo.slug}/dashboard/?round=2")
    page.wait_for_selector("[data-chart][data-drawn='1'] svg")
    charts = page.locator("[data-chart]")
    assert charts.count() >= 8
    assert page.locator("[data-chart][data-drawn='1']").count() == charts.count()
    # The tables behind the charts name his town and its communities, never the other town's.
    tables = " ".join(page.locator("[data-table]").all_text_contents())
    assert "城关镇" in tables and "东关街道" not in tables
    assert all(name not in tables for name in DONGGUAN)
    assert {n for n in CHENGGUAN if n in tables} == CHENGGUAN
    page.goto(f"{live_server.url}/campaigns/{demo.slug}/rounds/2/ranking/")
    names = set(page.locator("[data-testid=ranking] tbody tr td:nth-child(2)").all_text_contents())
    assert names <= CHENGGUAN and names
    page.goto(f"{live_server.url}/campaigns/{demo.slug}/rounds/2/communities/990121100004/")
    page.wait_for_selector("[data-chart='opt-profile'][data-drawn='1'] svg")
    assert page.locator("[data-testid=planner]").count() == 1
