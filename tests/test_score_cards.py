"""The assessor's score cards (issue 16, items 2 and 3): each card saved as it is answered, a
page saved in one click keeping every typed value beside its error, an empty box never a zero,
and every write through the one writer."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from civicmark.assessments.services import score_save
from civicmark.core.models import AuditEvent
from civicmark.scoring.models import Score
from tests.factories import person

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _card_url(code: str = "A1", community: str = "C111") -> str:
    return reverse("score_item", args=["c", 2, community, code])


def _stored() -> list[tuple]:
    return sorted(Score.objects.values_list("item__code", "points", "reason", "version"))


def _card(item, points="", reason="", version="", na=False, occurrences=None) -> dict:  # noqa: ANN001
    data = {
        f"i{item.pk}-points": points,
        f"i{item.pk}-reason": reason,
        f"i{item.pk}-version": version,
    }
    if occurrences is not None:
        data[f"i{item.pk}-occurrences"] = occurrences
    if na:
        data[f"i{item.pk}-na"] = "on"
    return data


def test_it_saves_one_card_as_it_is_answered(scoring, client_for):
    s = scoring
    a1 = s["items"]["A1"]
    client = client_for(s["assessors"][0])
    reply = client.post(_card_url(), _card(a1, "27.5", "台账缺一季度"), **HTMX)
    assert reply.status_code == 200
    html = reply.content.decode()
    assert 'data-state="saved"' in html
    score = Score.objects.get(item=a1)
    assert (score.points, score.reason, score.version) == (Decimal("27.5"), "台账缺一季度", 1)
    # The card's new version and the page's progress come back beside the state.
    assert f'name="i{a1.pk}-version" id="id_i{a1.pk}-version" value="1" hx-swap-oob="true"' in html
    assert 'data-done="1" data-total="4"' in html
    assert AuditEvent.objects.filter(action="score.saved", via="web").count() == 1
    # Changed again with the version it was given: a second version, a second event.
    client.post(_card_url(), _card(a1, "30", "", "1"), **HTMX)
    score.refresh_from_db()
    assert (score.points, score.version) == (Decimal(30), 2)
    assert AuditEvent.objects.filter(action="score.saved").count() == 2


def test_it_never_saves_an_empty_card_as_a_zero_nor_says_saved(scoring, client_for):
    """The finding: an empty score box was saved as 0.0 with "已保存"."""
    s = scoring
    a1 = s["items"]["A1"]
    client = client_for(s["assessors"][0])
    reply = client.post(_card_url(), _card(a1), **HTMX).content.decode()
    assert 'data-state="blank"' in reply and 'data-state="saved"' not in reply
    # A page of empty boxes: nothing saved, and the page does not say it was.
    page = client.post(
        reverse("score_community", args=["c", 2, "C111"]),
        {**_card(a1), **_card(s["items"]["B1"])},
        follow=True,
    )
    said = " ".join(str(m) for m in page.context["messages"])
    assert "Nothing was saved" in said or "未保存" in said
    assert "Scores saved" not in said
    # A reason typed without points is refused, not stored as 0.
    reply = client.post(_card_url(), _card(a1, "", "台账"), **HTMX).content.decode()
    assert 'data-state="error"' in reply
    assert not Score.objects.exists()
    assert not AuditEvent.objects.filter(action="score.saved").exists()


def test_it_keeps_every_entry_when_one_row_is_wrong(scoring, client_for):
    """The finding: the scoring page wiped every entry when one row was wrong. Every typed value
    comes back, the error sits beside its own field, and nothing is saved."""
    s = scoring
    i = s["items"]
    data = {
        **_card(i["A1"], "26", "活动记录缺两个月"),
        **_card(i["A2"], "30"),
        **_card(i["B1"], "十九", "少一次"),  # not a number
        **_card(i["B2"], "", "不适用于本社区", na=True),
    }
    page = client_for(s["assessors"][0]).post(
        reverse("score_community", args=["c", 2, "C111"]), data
    )
    assert page.status_code == 200
    html = page.content.decode()
    for typed in ('value="26"', ">活动记录缺两个月</textarea>", 'value="30"', 'value="十九"'):
        assert typed in html, typed
    assert ">少一次</textarea>" in html and ">不适用于本社区</textarea>" in html
    assert f'id="id_i{i["B2"].pk}-na" checked' in html
    b1 = i["B1"].pk
    beside = html.split(f'id="id_i{b1}-points-error"')[1].split("</div>")[0]
    assert "十九" in beside  # the parser's sentence quotes what was typed, beside the box
    rows = {r["item"].code: r for r in page.context["rows"]}
    assert rows["B1"]["error"].startswith("B1") and not rows["A1"]["error"]
    assert {r["state"] for c, r in rows.items() if c != "B1"} == {"dirty"}
    assert not Score.objects.exists()


def test_it_puts_the_writers_refusal_beside_the_field_it_names(scoring, client_for):
    s = scoring
    a1 = s["items"]["A1"]
    client = client_for(s["assessors"][0])
    # A deduction without a reason: beside the reason.
    reply = client.post(_card_url(), _card(a1, "20"), **HTMX).content.decode()
    reason_error = reply.split(f'id="id_i{a1.pk}-reason-error"')[1].split("</div>")[0]
    assert "A1" in reason_error and 'role="alert"' in reason_error
    # Points beside "not applicable": beside the points.
    reply = client.post(_card_url(), _card(a1, "20", "x", na=True), **HTMX).content.decode()
    points_error = reply.split(f'id="id_i{a1.pk}-points-error"')[1].split("</div>")[0]
    assert "A1" in points_error
    assert not Score.objects.exists()


def test_a_card_saved_elsewhere_meanwhile_is_a_conflict_and_keeps_its_old_version(
    scoring, client_for
):
    s = scoring
    a1 = s["items"]["A1"]
    args = {
        "actor": s["assessors"][0],
        "round_": s["round"],
        "enrollment": s["enrollments"]["C111"],
    }
    first = score_save(**args, item=a1, points=Decimal(30))
    score_save(**args, item=a1, points=Decimal(29), reason="x", expected_version=first.version)
    before, events = _stored(), AuditEvent.objects.count()
    reply = client_for(s["assessors"][0]).post(
        _card_url(), _card(a1, "25", "y", str(first.version)), **HTMX
    )
    html = reply.content.decode()
    assert 'data-state="error"' in html
    # The version stays the one the page had: a second try is still refused, never overwrites.
    assert f'value="{first.version}" hx-swap-oob="true"' in html
    assert _stored() == before and AuditEvent.objects.count() == events


def test_a_per_occurrence_card_gives_its_points(scoring, client_for):
    s = scoring
    a1 = s["items"]["A1"]
    a1.kind, a1.per_occurrence, a1.floor = "per_occurrence", Decimal(2), Decimal(10)
    a1.save()
    reply = client_for(s["assessors"][0]).post(
        _card_url(), _card(a1, "", "三处台账缺失", occurrences="3"), **HTMX
    )
    assert 'data-testid="occurrence-points"' in reply.content.decode()
    assert Score.objects.get(item=a1).points == Decimal(24)


def test_only_the_items_assessor_may_save_a_card(scoring, world, client_for):
    s = scoring
    a1 = s["items"]["A1"]
    outsider = person("k1psb", "assessor", world.d["C"], department=world.dept["K1PSB"])
    for who in (outsider, world.users["community_staff"], world.users["town_officer"]):
        assert client_for(who).post(_card_url(), _card(a1, "30"), **HTMX).status_code == 404
    assessor = client_for(s["assessors"][0])
    assert assessor.get(_card_url()).status_code == 404  # a card is saved, never fetched
    assert assessor.post(_card_url("ZZ9"), _card(a1, "30"), **HTMX).status_code == 404
    assert not Score.objects.exists()


def test_the_page_is_one_card_per_item_with_the_veto_control_beside(scoring, client_for):
    s = scoring
    html = client_for(s["assessors"][0]).get(reverse("score_community", args=["c", 2, "C111"]))
    text = html.content.decode()
    assert text.count('data-testid="score-card"') == 4
    assert text.count("data-paste-column") == 4
    assert 'data-testid="score-progress"' in text and 'data-done="0" data-total="4"' in text
    assert 'data-testid="vetoes"' in text and 'href="#vetoes"' in text
