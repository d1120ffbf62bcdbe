"""The result page explains itself; the results command prints what the round says."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from civicmark.assessments.services import score_save, veto_finding_record
from civicmark.core.errors import ApplicationError, NotAllowed


def give(s, community, marks, who=0):  # noqa: ANN001, ANN201
    for code, points in marks.items():
        item = s["items"][code]
        score_save(
            actor=s["assessors"][who],
            round_=s["round"],
            enrollment=s["enrollments"][community],
            item=item,
            points=Decimal(str(points)),
            reason="" if points == item.points else f"{code} 材料不全",
        )


def test_the_result_page_shows_every_lost_point_and_the_veto(scoring, world, client_for):
    give(scoring, "C111", {"A1": 26, "A2": 30, "B1": 20, "B2": 15})
    veto_finding_record(
        actor=scoring["assessors"][0],
        round_=scoring["round"],
        enrollment=scoring["enrollments"]["C111"],
        veto=scoring["standard"].vetoes.get(),
        reason="发生政策外多孩生育",
    )
    page = (
        client_for(world.users["town_officer"])
        .get(reverse("community_result", args=["c", 2, "C111"]))
        .content.decode()
    )
    assert "91.00" in page and "一票否决" in page and "发生政策外多孩生育" in page
    assert "A1 材料不全" in page and "B2 材料不全" in page and "−4" in page and "−5" in page
    assert (
        client_for(world.users["other_staff"])
        .get(reverse("community_result", args=["c", 2, "C111"]))
        .status_code
        == 404
    )


def test_a_veto_is_recorded_only_by_its_department_and_with_a_finding(scoring, world):
    veto = scoring["standard"].vetoes.get()  # family planning
    with pytest.raises(NotAllowed):
        veto_finding_record(
            actor=world.users["assessor"],
            round_=scoring["round"],
            enrollment=scoring["enrollments"]["C111"],
            veto=veto,
            reason="x",
        )
    with pytest.raises(ApplicationError):
        veto_finding_record(
            actor=scoring["assessors"][0],
            round_=scoring["round"],
            enrollment=scoring["enrollments"]["C111"],
            veto=veto,
            reason=" ",
        )


def test_the_results_command(scoring, tmp_path):
    give(scoring, "C111", {"A1": 30, "A2": 30, "B1": 20, "B2": 20})
    give(scoring, "C112", {"A1": 20, "A2": 30, "B1": 20, "B2": 10})
    out = StringIO()
    call_command("results", "c", "2", stdout=out)
    rows = {r["code"]: r for r in json.loads(out.getvalue())}
    assert (rows["C111"]["total"], rows["C111"]["outcome"], rows["C111"]["level"]) == (
        "100.00",
        "standard_unit",
        "advanced",
    )
    assert (rows["C112"]["total"], rows["C112"]["outcome"]) == ("80.00", "standard_unit")
    assert rows["C121"]["outcome"] == "incomplete"
    assert rows["C111"]["commendable"] is True and rows["C121"]["commendable"] is False
    assert rows["C111"]["vetoes"] == [] and rows["C111"]["gates"] == []
    out = StringIO()
    call_command("results", "c", "2", "--format", "csv", stdout=out)
    assert (
        out.getvalue().splitlines()[0]
        == "code,name,total,A,B,vetoes,outcome,level,commendable,gates"
    )
    call_command(
        "results",
        "c",
        "2",
        "--format",
        "xlsx",
        "--output",
        str(tmp_path / "r.xlsx"),
        stdout=StringIO(),
    )
    assert (tmp_path / "r.xlsx").stat().st_size > 0
    with pytest.raises(CommandError):
        call_command("results", "c", "9")


def _form(s, values):  # noqa: ANN001, ANN201
    data = {}
    for code, (points, reason) in values.items():
        pk = s["items"][code].pk
        data.update({f"i{pk}-points": points, f"i{pk}-reason": reason, f"i{pk}-version": ""})
    return data


def test_an_assessor_scores_his_items_on_the_page_all_or_nothing(scoring, world, client_for):
    from civicmark.scoring.models import Score

    client = client_for(scoring["assessors"][0])
    url = reverse("score_community", args=["c", 2, "C111"])
    page = client.get(url).content.decode()
    assert "A1" in page and "B2" in page  # he holds both departments here
    bad = client.post(url, _form(scoring, {"A1": ("28", ""), "B1": ("20", "")}))
    assert bad.status_code == 200 and not Score.objects.exists()  # A1 lost points without a reason
    ok = client.post(url, _form(scoring, {"A1": ("28", "台账不全"), "B1": ("20", "")}))
    assert ok.status_code == 302
    assert sorted(Score.objects.values_list("item__code", "points")) == [
        ("A1", Decimal(28)),
        ("B1", Decimal(20)),
    ]
    first, other = Score.objects.get(item__code="A1"), Score.objects.get(item__code="B1")
    stale = _form(scoring, {"A1": ("27", "再看"), "B1": ("20", "")})
    stale[f"i{first.item_id}-version"] = str(first.version)
    stale[f"i{other.item_id}-version"] = str(other.version)
    client.post(url, stale)
    stale[f"i{first.item_id}-points"] = "26"
    client.post(url, stale)  # the same version again: someone else's save came in between
    assert Score.objects.get(pk=first.pk).points == 27


@pytest.mark.parametrize(
    "persona", ["city_admin", "county_officer", "town_officer", "community_staff", "viewer"]
)
def test_only_assessors_reach_the_scoring_pages(scoring, world, client_for, persona):
    client = client_for(world.users[persona])
    assert client.get(reverse("score_home", args=["c", 2])).status_code == 404
    assert client.get(reverse("score_community", args=["c", 2, "C111"])).status_code == 404


def test_an_assessor_cannot_open_a_community_where_he_lives(scoring, world, client_for):
    assessor = scoring["assessors"][0]
    assessor.home_division = world.d["C111"]
    assessor.save()
    assert (
        client_for(assessor).get(reverse("score_community", args=["c", 2, "C111"])).status_code
        == 404
    )
