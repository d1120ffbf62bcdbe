"""The self-assessment as cards (issue 16, items 2 and 3): each card saved as it is given, the
whole page in one click without JavaScript, an empty box never a zero, every typed value shown
back beside its error, and a document or photo attached on the item's own card."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from civicmark.assessments.models import Evidence, SelfScore
from civicmark.core.models import AuditEvent

PDF = b"%PDF-1.4\n%%EOF\n"


def card_url(code: str = "C111", item: str = "A1") -> str:
    return reverse("self_assessment_item", args=["c", code, item])


def page_url() -> str:
    return reverse("self_assessment", args=["c"]) + "?community=C111"


def card(s, code, points, explanation=""):  # noqa: ANN001, ANN201
    pk = s["items"][code].pk
    return {f"i{pk}-points": points, f"i{pk}-explanation": explanation}


def nothing_written() -> tuple[int, int, int]:
    return SelfScore.objects.count(), Evidence.objects.count(), AuditEvent.objects.count()


@pytest.fixture
def staff(world, client_for, settings):  # noqa: ANN001, ANN201
    """The community's staff, reading in English (the wording asserted is the English one,
    whatever the Chinese catalogue translates)."""
    client = client_for(world.users["community_staff"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_it_saves_one_card_as_it_is_given(scoring, staff):
    response = staff.post(card_url(), card(scoring, "A1", "27.5", "台账齐全"))
    assert response.status_code == 200
    score = SelfScore.objects.get()
    assert (score.item.code, score.points, score.explanation) == ("A1", Decimal("27.5"), "台账齐全")
    page = response.content.decode()
    assert 'id="card-A1"' in page and 'data-state="saved"' in page
    # The progress line comes along, out of band, counting the new score.
    assert 'id="self-progress"' in page and 'hx-swap-oob="true"' in page
    assert "1 of 4 scored" in page
    assert AuditEvent.objects.filter(action="self_score.saved").count() == 1


def test_it_writes_nothing_when_a_card_is_sent_again_unchanged(scoring, staff):
    staff.post(card_url(), card(scoring, "A1", "28", "自查"))
    before = nothing_written()
    assert staff.post(card_url(), card(scoring, "A1", "28", "自查")).status_code == 200
    assert nothing_written() == before


def test_it_never_saves_an_empty_box_as_zero(scoring, staff):
    """The finding: an explanation given with the points box left empty was saved as 0."""
    before = nothing_written()
    response = staff.post(card_url(), card(scoring, "A1", "", "还在整理台账"))
    assert response.status_code == 422
    assert nothing_written() == before
    page = response.content.decode()
    assert 'data-testid="points-error"' in page and "还在整理台账" in page
    # The page form without JavaScript: the same.
    response = staff.post(
        reverse("self_assessment", args=["c"]),
        {"community": "C111", **card(scoring, "A1", "", "还在整理台账")},
    )
    assert response.status_code == 422 and nothing_written() == before
    assert "还在整理台账" in response.content.decode()


def test_it_does_not_erase_a_score_by_emptying_its_box(scoring, staff):
    staff.post(card_url(), card(scoring, "A1", "28", "自查"))
    before = nothing_written()
    response = staff.post(card_url(), card(scoring, "A1", "", ""))
    assert response.status_code == 422 and nothing_written() == before
    assert SelfScore.objects.get().points == 28


def test_it_refuses_points_above_the_maximum_and_keeps_what_was_typed(scoring, staff):
    """The finding: the explanation reverted after an error (the page redirected to the top)."""
    before = nothing_written()
    response = staff.post(card_url(), card(scoring, "A1", "31", "居民会议记录十二份"))
    assert response.status_code == 422
    assert nothing_written() == before
    page = response.content.decode()
    assert 'value="31"' in page and "居民会议记录十二份" in page
    assert 'data-testid="points-error"' in page and "A1" in page
    assert 'data-state="error"' in page


def test_it_saves_the_whole_page_in_one_click(scoring, staff):
    data = {"community": "C111"}
    for code, points in (("A1", "30"), ("A2", "29.5"), ("B1", "20"), ("B2", "")):
        data.update(card(scoring, code, points, f"{code} 自查" if points else ""))
    response = staff.post(reverse("self_assessment", args=["c"]), data)
    assert response.status_code == 302
    saved = dict(SelfScore.objects.values_list("item__code", "points"))
    assert saved == {"A1": 30, "A2": Decimal("29.5"), "B1": 20}  # B2 left empty: not scored


def test_it_keeps_every_typed_value_when_one_card_of_the_page_is_wrong(scoring, staff):
    data = {"community": "C111"}
    typed = {"A1": "30", "A2": "29.5", "B1": "25", "B2": "18"}  # B1's maximum is 20
    for code, points in typed.items():
        data.update(card(scoring, code, points, f"说明{code}"))
    before = nothing_written()
    response = staff.post(reverse("self_assessment", args=["c"]), data)
    assert response.status_code == 422
    assert nothing_written() == before  # all or none
    page = response.content.decode()
    for code, points in typed.items():
        assert f'value="{points}"' in page and f"说明{code}" in page
    assert page.count('data-testid="points-error"') == 1


def test_it_attaches_a_photo_to_the_item_on_its_card(scoring, staff):
    pk = scoring["items"]["B1"].pk
    response = staff.post(
        card_url(item="B1"),
        {f"i{pk}-points": "", f"i{pk}-photo": SimpleUploadedFile("现场.pdf", PDF)},
    )
    assert response.status_code == 200
    evidence = Evidence.objects.get()
    assert list(evidence.items.values_list("code", flat=True)) == ["B1"]
    assert not SelfScore.objects.exists()  # a photo alone scores nothing
    assert "现场.pdf" in response.content.decode()


@pytest.mark.parametrize("who", ["town_officer", "other_staff", "viewer", "city_admin"])
def test_it_refuses_a_card_from_anyone_but_the_communitys_staff(scoring, world, client_for, who):
    before = nothing_written()
    response = client_for(world.users[who]).post(card_url(), card(scoring, "A1", "28", "自查"))
    assert response.status_code in (404, 422)
    assert nothing_written() == before


def test_it_refuses_a_card_once_the_self_assessment_is_submitted(scoring, world, staff):
    from civicmark.campaigns.models import Enrollment

    Enrollment.objects.filter(pk=scoring["enrollments"]["C111"].pk).update(status="submitted")
    before = nothing_written()
    response = staff.post(card_url(), card(scoring, "A1", "28", "自查"))
    assert response.status_code == 422 and nothing_written() == before
    assert 'role="alert"' in response.content.decode()  # the reason, on the card


def test_it_shows_the_page_as_cards_with_a_progress_line(scoring, staff):
    staff.post(card_url(), card(scoring, "A1", "28", "自查"))
    page = staff.get(page_url()).content.decode()
    assert page.count('data-testid="self-card"') == 4
    assert "1 of 4 scored" in page
    assert 'capture="environment"' in page  # the camera on each card
    assert 'id="self-page"' in page and "autosave.js" in page


@pytest.mark.parametrize(
    ("missing", "line"),
    [
        (["A1"], "1 of 4 scored, 1 item without evidence"),
        (["A1", "A2"], "1 of 4 scored, 2 items without evidence"),
    ],
)
def test_it_writes_the_progress_line_as_one_translatable_sentence(missing, line):
    """The finding: the line was two messages joined by an English ", ", which no translation
    could reorder or punctuate as Chinese does (，); now it is one sentence with its plural."""
    from types import SimpleNamespace

    from django.template.loader import get_template, render_to_string
    from django.utils import translation
    from django.utils.html import strip_tags
    from django.utils.translation.template import templatize

    progress = SimpleNamespace(scored=1, total=4, missing_evidence=missing)
    with translation.override("en"):
        html = render_to_string("assessments/_self_progress.html", {"progress": progress})
    assert line in " ".join(strip_tags(html).split())
    source = Path(get_template("assessments/_self_progress.html").origin.name).read_text()
    messages = templatize(source)
    assert "%(scored)s of %(total)s scored, %(missing)s item without evidence" in messages
    assert "%(scored)s of %(total)s scored, %(missing)s items without evidence" in messages


# --- The rectification page: a card per finding, what was typed kept after a refusal ---------


@pytest.fixture
def finding(scoring):  # noqa: ANN001, ANN201
    from civicmark.assessments.models import Rectification

    return Rectification.objects.create(
        round=scoring["round"],
        enrollment=scoring["enrollments"]["C111"],
        item=scoring["items"]["A1"],
        points_lost=Decimal(10),
        reason="台账缺失",
    )


def test_it_shows_each_rectification_as_a_card(finding, staff):
    page = staff.get(reverse("rectifications", args=["c"])).content.decode()
    assert page.count('data-testid="rectification-card"') == 1
    assert "台账缺失" in page and f'id="status-{finding.public_id}"' in page
    assert "<table" not in page.split('data-testid="rectifications"')[1]


def test_it_keeps_what_was_typed_when_a_rectification_is_refused(finding, staff):
    """The finding: a refused report redirected to the page and lost what was typed."""
    from civicmark.assessments.models import Rectification

    before = AuditEvent.objects.count()
    url = reverse("rectifications", args=["c"])
    response = staff.post(url, {"id": str(finding.public_id), "status": "done", "note": ""})
    assert response.status_code == 422
    page = response.content.decode()
    assert 'data-testid="rectification-error"' in page
    assert '<option value="done" selected>' in page  # the status chosen, still chosen
    response = staff.post(url, {"id": str(finding.public_id), "status": "x", "note": "补齐台账"})
    assert response.status_code == 422 and "补齐台账" in response.content.decode()
    assert Rectification.objects.get().status == "open" and AuditEvent.objects.count() == before
