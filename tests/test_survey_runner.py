"""A round's survey is run by the office leading the round (issue 14): in the demo the county
runs the campaign, and keyed best answers for its own communities into the survey of the city's
November round, raising their points; it also read every unused door-card code."""

from __future__ import annotations

from django.urls import reverse

from civicmark.core.models import AuditEvent
from civicmark.surveys import services as svc
from civicmark.surveys.models import Drawn, Response, SurveyRound


def test_the_county_being_judged_keys_no_answer_into_the_citys_survey(demo, client):
    from civicmark.accounts.models import User

    survey = SurveyRound.objects.get(round__campaign=demo, round__number=3)
    county, city = User.objects.get(username="county"), User.objects.get(username="city")
    code = Drawn.objects.filter(draw__survey=survey, used=False, in_sample=True).first().code
    answers = {q.code: q.scale[0]["code"] for q in survey.instrument.questions.all()}
    before = (Response.objects.count(), AuditEvent.objects.count())
    outcome = svc.answer(
        code=code, answers=answers, actor=county, mode="tablet", collector="assessment_team"
    )
    assert not outcome.stored
    client.force_login(county)
    client.get("/health/")
    page = client.post(
        reverse("survey_enter", args=[survey.public_id]),
        {"mode": "tablet", "collector": "assessment_team", "code": code, **answers},
    )
    assert page.status_code == 404
    cards = reverse("survey_cards", args=[survey.public_id, "990121001002"])
    assert client.get(cards).status_code == 404  # nor does he read the door cards' codes
    assert (Response.objects.count(), AuditEvent.objects.count()) == before
    assert svc.can_run(city, survey)


def test_the_answers_export_lines_up_with_no_order_of_answering(demo, client):
    """The review watched two codes leave the door cards in turn and found their answers as the
    export's last two rows, in the order they were stored, with their dates."""
    from io import BytesIO

    from openpyxl import load_workbook

    from civicmark.accounts.models import User

    survey = SurveyRound.objects.get(round__campaign=demo, round__number=3)
    client.force_login(User.objects.get(username="city"))
    client.get("/health/")
    data = client.get(reverse("survey_export", args=[survey.public_id, "answers"])).content
    rows = list(load_workbook(BytesIO(data))["answers"].iter_rows(values_only=True))
    assert "answered_on" not in rows[0]
    stored = list(
        Response.objects.filter(survey=survey)
        .order_by("community__code", "public_id")
        .values_list("public_id", flat=True)
    )
    assert [r[0] for r in rows[1:]] == [str(p)[:8] for p in stored]
    by_storing = list(
        Response.objects.filter(survey=survey).order_by("community__code", "id").values_list("pk")
    )
    assert len(by_storing) == len(stored) > 20
