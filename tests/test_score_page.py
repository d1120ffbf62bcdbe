"""Saving a page of scores: all rows or none, one audit event per score, a constant number of
queries however many items the assessor's department holds."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from civicmark.assessments.services import (
    Conflict,
    ScoreEntry,
    ScoreErrors,
    score_save,
    scores_save,
)
from civicmark.core.errors import ApplicationError
from civicmark.core.models import AuditEvent
from civicmark.scoring.models import Score, StaleResult

pytestmark = pytest.mark.django_db


def _page(items: dict, values: dict[str, tuple[str, str]], versions: dict | None = None) -> dict:
    data: dict[str, str] = {}
    for code, (points, reason) in values.items():
        pk = items[code].pk
        data[f"i{pk}-points"] = points
        data[f"i{pk}-reason"] = reason
        data[f"i{pk}-version"] = str((versions or {}).get(code, ""))
    return data


def test_a_page_saves_every_row_with_one_audit_event_each(scoring, client_for):
    s = scoring
    url = reverse("score_community", args=["c", 2, "C111"])
    assessor = client_for(s["assessors"][0])
    response = assessor.post(url, _page(s["items"], {"A1": ("28", "台账缺一季"), "B1": ("20", "")}))
    assert response.status_code == 302
    saved = dict(Score.objects.values_list("item__code", "points"))
    assert saved == {"A1": Decimal(28), "B1": Decimal(20)}
    events = AuditEvent.objects.filter(action="score.saved")
    assert events.count() == 2
    assert {e.after["points"] for e in events} == {"28", "20"}
    assert StaleResult.objects.filter(round=s["round"]).exists()


def test_one_bad_row_saves_nothing_and_says_which(scoring, client_for):
    s = scoring
    url = reverse("score_community", args=["c", 2, "C111"])
    assessor = client_for(s["assessors"][0])
    # B1 is deducted without a reason: the whole page is refused.
    page = assessor.post(url, _page(s["items"], {"A1": ("30", ""), "B1": ("10", "")}))
    assert page.status_code == 200
    assert "Say why points were deducted" in page.content.decode() or "扣分" in (
        page.content.decode()
    )
    assert not Score.objects.exists()
    assert not AuditEvent.objects.filter(action="score.saved").exists()


def _first_assessor_on_c111(s):  # noqa: ANN001, ANN202
    """What the save calls of these tests share, and the items A1 and B1."""
    args = {
        "actor": s["assessors"][0],
        "round_": s["round"],
        "enrollment": s["enrollments"]["C111"],
    }
    return args, s["items"]["A1"], s["items"]["B1"]


def test_a_stale_version_in_one_row_is_a_conflict_and_nothing_changes(scoring):
    args, a1, b1 = _first_assessor_on_c111(scoring)
    first = score_save(**args, item=a1, points=Decimal(30))
    score_save(**args, item=a1, points=Decimal(29), reason="x", expected_version=first.version)
    events = AuditEvent.objects.count()
    with pytest.raises(ScoreErrors) as refused:
        scores_save(
            **args,
            entries=[
                ScoreEntry(b1, Decimal(20)),
                ScoreEntry(a1, Decimal(25), reason="y", expected_version=first.version),
            ],
        )
    assert isinstance(refused.value.errors[a1.pk], Conflict)
    assert set(refused.value.errors) == {a1.pk}
    assert list(Score.objects.values_list("item__code", "points")) == [("A1", Decimal(29))]
    assert AuditEvent.objects.count() == events
    # The one-item form keeps its own exception type.
    with pytest.raises(Conflict):
        score_save(**args, item=a1, points=Decimal(25), reason="y", expected_version=1)
    with pytest.raises(ApplicationError, match="0.5"):
        score_save(**args, item=b1, points=Decimal("3.3"), reason="y")


def test_a_first_score_saved_meanwhile_in_another_tab_is_a_conflict_on_that_row_only(scoring):
    """The page went out with A1 and B1 unscored; A1 was saved from another tab since. Saving
    the page refuses A1 alone, as a conflict, and writes nothing (B1 neither)."""
    args, a1, b1 = _first_assessor_on_c111(scoring)
    score_save(**args, item=a1, points=Decimal(30))
    events = AuditEvent.objects.count()
    with pytest.raises(ScoreErrors) as refused:
        scores_save(**args, entries=[ScoreEntry(a1, Decimal(28), reason="x"), ScoreEntry(b1, 20)])
    assert set(refused.value.errors) == {a1.pk}
    assert isinstance(refused.value.errors[a1.pk], Conflict)
    assert list(Score.objects.values_list("item__code", "points")) == [("A1", Decimal(30))]
    assert AuditEvent.objects.count() == events


def test_saving_a_page_costs_the_same_queries_for_one_row_or_many(scoring, client_for):
    s = scoring
    assessor = client_for(s["assessors"][0])
    counts = []
    for code, values in (
        ("C111", {"A1": ("30", "")}),
        ("C112", {"A1": ("30", ""), "B1": ("19", "少一次活动"), "A2": ("30", "")}),
    ):
        url = reverse("score_community", args=["c", 2, code])
        assessor.get(url)  # the session, the language and the memo warmed alike
        with CaptureQueriesContext(connection) as queries:
            assert assessor.post(url, _page(s["items"], values)).status_code == 302
        counts.append(len(queries))
    assert Score.objects.count() == 4
    assert counts[0] == counts[1], counts


def test_the_assessors_list_comes_a_page_at_a_time_and_finds_by_name_code_or_town(
    scoring, client_for, monkeypatch
):
    """A province's assessor covers thousands of communities: the list is paged (same queries on
    every page) and searchable."""
    from civicmark.assessments import views

    monkeypatch.setattr(views, "SCORE_HOME_PAGE", 2)
    s = scoring
    s["campaign"].enrollments.update(status="reported")  # the July round covers them all
    client = client_for(s["assessors"][0])
    url = reverse("score_home", args=[s["campaign"].slug, 2])
    pages = []
    for n in (1, 2):
        with CaptureQueriesContext(connection) as ctx:
            html = client.get(url, {"page": n}).content.decode()
        pages.append((html, len(ctx.captured_queries)))
    first, second = pages[0][0], pages[1][0]
    assert "Community 111" in first and "Community 112" in first
    assert "Community 111" not in second and "Community 121" in second
    assert "1 / 2" in first and pages[0][1] == pages[1][1]
    found = client.get(url, {"q": "C12"}).content.decode()  # by code
    assert "Community 121" in found and "Community 111" not in found
    found = client.get(url, {"q": "Town 11"}).content.decode()  # by town
    assert "Community 111" in found and "Community 121" not in found
    nothing = client.get(url, {"q": "nowhere"}).content.decode()
    assert not any(f"Community {c}" in nothing for c in ("111", "112", "121", "211"))
