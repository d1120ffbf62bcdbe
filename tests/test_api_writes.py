"""The JSON API's writes (ADR 24): the same forms, services and authorization as the pages,
audited with via="api"; a refusal changes nothing at all."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from civicmark.assessments.models import Evidence, SelfScore
from civicmark.core.models import AuditEvent
from civicmark.scoring.models import Score, VetoFinding
from tests.factories import person
from tests.test_api_reads import bearer
from tests.test_write_matrix import fingerprint

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SCORES = "/api/campaigns/c/rounds/2/scores/C111"


def send(method, path, headers, body):  # noqa: ANN001, ANN201
    call = getattr(Client(), method)
    return call(path, json.dumps(body), content_type="application/json", **headers)


def unchanged(action):  # noqa: ANN001, ANN201
    """Run `action` and assert that no table changed (but the token bookkeeping)."""
    before = fingerprint_without_tokens()
    response = action()
    assert fingerprint_without_tokens() == before
    return response


def fingerprint_without_tokens() -> str:
    from tests import test_write_matrix

    skipped = {"accounts_accesstoken", "core_auditevent"}
    test_write_matrix.NOT_FINGERPRINTED |= skipped
    try:
        return fingerprint()
    finally:
        test_write_matrix.NOT_FINGERPRINTED -= skipped


def test_an_assessor_scores_through_the_one_writer_audited_via_the_api(scoring):
    s = scoring
    headers = bearer(s["assessors"][0])
    body = {
        "scores": [
            {"item": "A1", "points": "28", "reason": "台账缺一季"},
            {"item": "B1", "points": "20"},
        ]
    }
    response = send("put", SCORES, headers, body)
    assert response.status_code == 200, response.content
    saved = {r["item"]: r for r in response.json()}
    assert saved["A1"]["points"] == "28.00" and saved["A1"]["version"] == 1
    assert Score.objects.filter(round=s["round"], assessor=s["assessors"][0]).count() == 2
    events = AuditEvent.objects.filter(action="score.saved")
    assert events.count() == 2 and set(events.values_list("via", flat=True)) == {"api"}
    # The same values again change nothing and write no event (as the page); new values without
    # the version read are a conflict.
    assert send("put", SCORES, headers, {"scores": [body["scores"][1]]}).status_code == 200
    again = {"scores": [{"item": "B1", "points": "19", "reason": "缺"}]}
    assert send("put", SCORES, headers, again).status_code == 409
    assert AuditEvent.objects.filter(action="score.saved").count() == 2


def test_a_stale_version_is_a_conflict_and_nothing_changes(scoring):
    s = scoring
    headers = bearer(s["assessors"][0])
    send("put", SCORES, headers, {"scores": [{"item": "A1", "points": "28", "reason": "x"}]})
    change = {"scores": [{"item": "A1", "points": "25", "reason": "y", "version": 1}]}
    assert send("put", SCORES, headers, change).status_code == 200
    stale = {"scores": [{"item": "A1", "points": "20", "reason": "z", "version": 1}]}
    response = unchanged(lambda: send("put", SCORES, headers, stale))
    assert response.status_code == 409 and response.json()["code"] == "conflict"
    assert response.json()["field"] == "scores.0"


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"item": "A1", "points": "31"}, "scores.0.points"),  # above the item's points
        ({"item": "A1", "points": "abc"}, "scores.0.points"),  # not a number
        ({"item": "A1", "points": "10"}, "scores.0.reason"),  # a deduction without a reason
        ({"item": "ZZ", "points": "1"}, "scores.0.item"),
        ({"item": "A1"}, "scores.0"),
    ],
)
def test_an_entry_the_page_would_refuse_is_refused_beside_its_field(scoring, entry, field):
    headers = bearer(scoring["assessors"][0])
    response = unchanged(lambda: send("put", SCORES, headers, {"scores": [entry]}))
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "invalid" and response.json()["field"] == field


def test_a_read_token_writes_nothing_and_the_refusal_is_audited(scoring):
    headers = bearer(scoring["assessors"][0], scope="read")
    body = {"scores": [{"item": "A1", "points": "30"}]}
    response = unchanged(lambda: send("put", SCORES, headers, body))
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert AuditEvent.objects.filter(action="token.refused").count() == 1
    assert not Score.objects.exists()


def test_who_may_not_score_gets_what_the_page_gives(scoring, world):
    body = {"scores": [{"item": "A1", "points": "30"}]}
    # Another department's item: forbidden beside it.
    psb = person("psb_only", "assessor", world.d["C"], department=world.dept["K1PSB"])
    psb.roles.update(department=scoring["items"]["A2"].department)
    response = unchanged(lambda: send("put", SCORES, bearer(psb), body))
    assert response.status_code == 403 and response.json()["field"] == "scores.0.item"
    # Outside his scope, or with nothing to score: not found.
    for name in ("other_staff", "assessor", "town_officer"):
        response = unchanged(lambda name=name: send("put", SCORES, bearer(world.users[name]), body))
        assert response.status_code == 404, name
    assert not Score.objects.exists()


def test_a_signed_off_round_is_a_conflict(scoring):
    s = scoring
    from django.utils import timezone

    s["round"].finalised_at = timezone.now()
    s["round"].save()
    response = unchanged(
        lambda: send(
            "put", SCORES, bearer(s["assessors"][0]), {"scores": [{"item": "A1", "points": "30"}]}
        )
    )
    assert response.status_code in (404, 409)
    assert not Score.objects.exists()


def test_the_community_self_assesses_through_the_page_service(scoring, world):
    path = "/api/campaigns/c/self-assessment/C111"
    staff = bearer(world.users["community_staff"])
    body = {"scores": [{"item": "A1", "points": "25.5", "explanation": "台账齐全"}]}
    response = send("put", path, staff, body)
    assert response.status_code == 200, response.content
    assert response.json() == [{"item": "A1", "points": "25.50", "explanation": "台账齐全"}]
    assert AuditEvent.objects.get(action="self_score.saved").via == "api"
    bad = {"scores": [{"item": "A1", "points": "25.3"}]}
    response = unchanged(lambda: send("put", path, staff, bad))
    assert response.status_code == 422 and response.json()["field"] == "scores.0.points"
    town = unchanged(lambda: send("put", path, bearer(world.users["town_officer"]), body))
    assert town.status_code == 403
    other = unchanged(lambda: send("put", path, bearer(world.users["other_staff"]), body))
    assert other.status_code == 404
    assert SelfScore.objects.count() == 1


def test_an_assessor_records_and_withdraws_a_veto(scoring):
    s = scoring
    path = "/api/campaigns/c/rounds/2/vetoes/C111"
    headers = bearer(s["assessors"][0])
    record = {"action": "record", "veto": "V1", "text": "发生重大案件"}
    response = send("post", path, headers, record)
    assert response.status_code == 200, response.content
    finding = VetoFinding.objects.get()
    assert AuditEvent.objects.get(action="veto.recorded").via == "api"
    again = unchanged(lambda: send("post", path, headers, record))
    assert again.status_code == 422
    empty = unchanged(lambda: send("post", path, headers, {**record, "text": ""}))
    assert empty.status_code == 422
    withdraw = {"action": "withdraw", "veto": "V1", "finding": str(finding.public_id)}
    assert send("post", path, headers, withdraw).status_code == 200
    assert not VetoFinding.objects.exists()


def test_the_community_attaches_evidence(scoring, world):
    path = "/api/campaigns/c/evidence/C111"
    staff = bearer(world.users["community_staff"])
    upload = SimpleUploadedFile("台账.pdf", PDF, content_type="application/pdf")
    response = Client().post(path, {"file": upload, "items": "A1,B1"}, **staff)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["items"] == ["A1", "B1"] and len(body["sha256"]) == 64
    assert AuditEvent.objects.get(action="evidence.added").via == "api"
    unknown = SimpleUploadedFile("x.pdf", PDF, content_type="application/pdf")
    response = unchanged(lambda: Client().post(path, {"file": unknown, "items": "ZZ"}, **staff))
    assert response.status_code == 422 and response.json()["field"] == "items"
    town = SimpleUploadedFile("x.pdf", PDF, content_type="application/pdf")
    response = unchanged(
        lambda: Client().post(
            path, {"file": town, "items": "A1"}, **bearer(world.users["town_officer"])
        )
    )
    assert response.status_code == 403
    assert Evidence.objects.count() == 1


# Every write operation of the API, each tried above by those who may and those who may not.
WRITES = {
    ("put", "/api/campaigns/{slug}/self-assessment/{code}"),
    ("put", "/api/campaigns/{slug}/rounds/{number}/scores/{code}"),
    ("post", "/api/campaigns/{slug}/rounds/{number}/vetoes/{code}"),
    ("post", "/api/campaigns/{slug}/evidence/{code}"),
}


def test_every_api_write_is_tried_here(db):
    document = Client().get("/api/openapi.json").json()
    found = {
        (method, path)
        for path, operations in document["paths"].items()
        for method in operations
        if method != "get"
    }
    assert found == WRITES
