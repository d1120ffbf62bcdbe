"""The JSON API attacked by insiders (ADR 24): a community worker, a town officer, an assessor, a
county officer and a read-only viewer, each with a real account and a token, trying to reach past
their scope, to write what the page would refuse, to get a server error out of odd input, to
outlast the rate limit, or to keep a token's reach after it should have gone.

The first tests are the holes found (each failed before its fix); the rest are attacks that held,
kept so that they go on holding."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from civicmark.accounts import authz, tokens
from civicmark.accounts.models import AccessToken, RoleAssignment
from civicmark.core.models import AuditEvent
from civicmark.scoring.models import Score, VetoFinding
from tests.factories import person
from tests.test_api_reads import bearer, get, walk
from tests.test_api_writes import fingerprint_without_tokens, send, unchanged

NOW = timezone.now()
SCORES = "/api/campaigns/c/rounds/2/scores/C111"
VETOES = "/api/campaigns/c/rounds/2/vetoes/C111"
SELF = "/api/campaigns/c/self-assessment/C111"


def _boss(world: Any) -> dict[str, str]:
    return bearer(person("boss", "city_admin", world.d["C"]), "read")


# --- the holes found -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("/divisions", "/campaigns/c/rounds"),  # a community's code read as a round's number
        ("/divisions", "/standards"),  # ... as a UUID
        ("/divisions", "/campaigns/c/rectifications"),
        ("/campaigns/c/rounds", "/divisions"),
        ("/campaigns/c/rounds", "/campaigns/c/rounds/2/results"),
        ("/divisions", "/departments"),  # the same key, another list
    ],
)
def test_a_cursor_of_another_list_is_invalid_never_a_server_error(scoring, world, source, target):
    """Found: the cursor was signed with one salt for every list, so a cursor of /divisions
    (["C111"]) was accepted by the rounds list, whose key is a number: an HTTP 500."""
    headers = _boss(world)
    cursor = get(headers, source, limit=1).json()["next_cursor"]
    assert cursor
    response = get(headers, target, cursor=cursor)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "invalid" and response.json()["field"] == "cursor"


def test_a_cursor_still_walks_its_own_list(scoring, world):
    headers = _boss(world)
    assert [r["number"] for r in walk(headers, "/campaigns/c/rounds", limit=1)] == sorted(
        scoring["campaign"].rounds.values_list("number", flat=True)
    )
    ranked = walk(headers, "/campaigns/c/rounds/2/ranking", limit=1)
    assert sorted(r["community_code"] for r in ranked) == ["C111", "C112", "C121", "C211"]


@pytest.mark.parametrize(
    "raw",
    [
        "cmk_\x00aaaaaaaaaaa_secret",  # PostgreSQL refuses a NUL in a query: a server error
        "cmk_éééééééééééé_secret",
        "cmk_AAAAAAAAAAAA_secret",
        "cmk_aaaaaaaaaaaa_",
        "cmk_aaaaaaaaaaaa_" + "x" * 5000,
        "cmk_aaaaaaaaaaaa_a b",
    ],
)
def test_a_token_not_of_the_shape_made_is_refused_before_any_query(world, raw):
    """Found: a prefix of any 12 characters was looked up, NUL bytes included (a 500 on
    PostgreSQL, where the API runs)."""
    with CaptureQueriesContext(connection) as queries:
        refused = tokens.token_authenticate(raw=raw, now=NOW)
    assert isinstance(refused, tokens.Refused) and refused.reason == "malformed"
    assert len(queries) == 0
    response = Client().get("/api/divisions", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 401 and response.json()["code"] == "unauthorized"


def test_a_token_pasted_with_a_newline_is_the_token(world):
    token, secret = tokens.token_create(
        actor=world.users["town_officer"],
        name="t",
        expires_at=NOW + timedelta(days=3),
        scope="read",
        now=NOW,
        verified=False,
    )
    assert tokens.token_authenticate(raw=f"{secret}\n", now=NOW) == token
    assert not AuditEvent.objects.filter(action="token.refused").exists()


@override_settings(CIVICMARK_API_RATE=3)
def test_the_rate_is_the_persons_whichever_of_his_tokens_he_uses(world):
    """Found: the budget was per token, and a person may hold ten: ten times the rate."""
    user = world.users["county_officer"]
    first, second = bearer(user, "read"), bearer(user, "read")
    for headers in (first, second, first):
        assert get(headers, "/departments").status_code == 200
    for headers in (first, second, bearer(user, "read")):
        response = get(headers, "/departments")
        assert response.status_code == 429 and response.json()["code"] == "rate_limited"
        assert 1 <= int(response["Retry-After"]) <= 60
    # Another person's budget is his own.
    assert get(world.users["town_officer"], "/departments").status_code == 200


@override_settings(CIVICMARK_OTP_REQUIRED=True)
@pytest.mark.parametrize("promotion", ["county_officer", "superuser"])
def test_a_token_made_without_the_second_factor_does_not_carry_a_privileged_role(world, promotion):
    """Found: a town officer needs no second factor to make a token; once he was made a county
    officer (or a superuser) the same token carried the privileged reach, which a token may have
    only when made in a session whose second factor was verified (ADR 24)."""
    user = person("rising", "town_officer", world.d["T11"])
    _token, secret = tokens.token_create(
        actor=user,
        name="t",
        expires_at=NOW + timedelta(days=30),
        scope="read",
        now=timezone.now(),
        verified=False,
    )
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    assert get(headers, "/divisions/C111").status_code == 200
    if promotion == "superuser":
        user.is_superuser = True
        user.save()
    else:
        RoleAssignment.objects.create(user=user, role="county_officer", division=world.d["K1"])
    response = get(headers, "/divisions/C111")
    assert response.status_code == 401 and response.json()["code"] == "unauthorized"
    event = AuditEvent.objects.get(action="token.refused")
    assert event.after["reason"] == "second_factor" and event.actor == user
    # A token made after confirming the second factor carries it.
    assert get(bearer(user, "read"), "/divisions/C121").status_code == 200


def test_the_token_page_records_whether_the_second_factor_was_verified(world, client_for):
    client = client_for(world.users["town_officer"])
    day = (timezone.localdate() + timedelta(days=10)).isoformat()
    client.post(reverse("token_list"), {"name": "n", "scope": "read", "expires_on": day})
    assert AccessToken.objects.get().second_factor is False


def test_a_page_of_results_costs_the_same_queries_whatever_its_size(scoring, world):
    """Found: each row of the results and the ranking read the categories twice (two queries a
    row; 400 for a page of 200). The page reads them once now."""
    headers = _boss(world)
    for path in ("/campaigns/c/rounds/2/results", "/campaigns/c/rounds/2/ranking"):
        get(headers, path, limit=1)  # the results made current first
        counts = []
        for limit in (1, 4):
            with CaptureQueriesContext(connection) as queries:
                response = get(headers, path, limit=limit)
            assert len(response.json()["items"]) == limit
            counts.append(len(queries))
        assert counts[0] == counts[1], (path, counts)


# --- attacks that held ---------------------------------------------------------------------


def _record(headers: dict[str, str], veto: str = "V1") -> Any:
    return send("post", VETOES, headers, {"action": "record", "veto": veto, "text": "发现"})


def test_an_assessor_off_the_panel_conflicted_or_of_another_department_writes_nothing(
    scoring, world
):
    s = scoring
    body = {"scores": [{"item": "A1", "points": "30"}]}
    s["round"].panel.set([s["assessors"][1]])
    off = bearer(s["assessors"][0])
    assert unchanged(lambda: send("put", SCORES, off, body)).status_code == 404
    assert unchanged(lambda: _record(off)).status_code == 403
    s["round"].panel.clear()
    # His own community (he is its staff too), or where he lives: someone else scores it.
    staff = s["assessors"][1]
    RoleAssignment.objects.create(user=staff, role="community_staff", division=world.d["C111"])
    lives = s["assessors"][2]
    lives.home_division = world.d["T11"]
    lives.save()
    for user in (staff, lives):
        assert unchanged(lambda u=user: send("put", SCORES, bearer(u), body)).status_code == 404
        assert unchanged(lambda u=user: _record(bearer(u))).status_code == 403
    # An assessor of another department records no veto of the family-planning office.
    psb = person("psb", "assessor", world.d["C"], department=s["items"]["A2"].department)
    response = unchanged(lambda: _record(bearer(psb)))
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert not Score.objects.exists() and not VetoFinding.objects.exists()


def test_nothing_is_written_into_a_signed_off_round(scoring):
    s = scoring
    headers = bearer(s["assessors"][0])
    assert send("put", SCORES, headers, {"scores": [{"item": "A1", "points": "30"}]}).status_code
    s["round"].finalised_at = timezone.now()
    s["round"].save()
    change = {"scores": [{"item": "A1", "points": "20", "reason": "x", "version": 1}]}
    response = unchanged(lambda: send("put", SCORES, headers, change))
    assert response.status_code == 409 and response.json()["code"] == "conflict"
    assert unchanged(lambda: _record(headers)).status_code == 409
    assert Score.objects.get().points == 30


OUTSIDE = [
    ("get", "/api/campaigns/c/rounds/2/results/{code}"),
    ("get", "/api/campaigns/c/self-assessment/{code}"),
    ("get", "/api/campaigns/c/rounds/2/scores/{code}"),
    ("put", "/api/campaigns/c/self-assessment/{code}"),
    ("put", "/api/campaigns/c/rounds/2/scores/{code}"),
    ("post", "/api/campaigns/c/rounds/2/vetoes/{code}"),
]
BODIES = {
    "put": {"scores": [{"item": "A1", "points": "20", "reason": "x"}]},
    "post": {"action": "record", "veto": "V1", "text": "x"},
}


@pytest.mark.parametrize("persona", ["other_staff", "other_county_officer", "other_town_officer"])
@pytest.mark.parametrize(("method", "path"), OUTSIDE)
def test_a_community_outside_the_scope_answers_as_one_that_does_not_exist(
    scoring, world, persona, method, path
):
    """Nothing tells an outsider that C111 exists: the answer is the one for a made-up code."""
    headers = bearer(world.users[persona])

    def ask(code: str) -> Any:
        if method == "get":
            return Client().get(path.format(code=code), **headers)
        return send(method, path.format(code=code), headers, BODIES[method])

    there, nowhere = unchanged(lambda: ask("C111")), unchanged(lambda: ask("C999"))
    assert there.status_code == nowhere.status_code == 404
    assert there.json() == nowhere.json()


def test_evidence_goes_into_no_other_community(scoring, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from civicmark.assessments.models import Evidence

    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    for persona, status in (("other_staff", 404), ("town_officer", 403), ("assessor", 403)):
        upload = SimpleUploadedFile("x.pdf", pdf, content_type="application/pdf")
        response = unchanged(
            lambda u=upload, p=persona: Client().post(
                "/api/campaigns/c/evidence/C111",
                {"file": u, "items": "A1"},
                **bearer(world.users[p]),
            )
        )
        assert response.status_code == status, persona
    assert not Evidence.objects.exists()


def test_a_viewer_and_a_read_token_write_nothing(scoring, world):
    viewer = world.users["viewer"]
    with pytest.raises(tokens.TokenInvalid):
        tokens.token_create(
            actor=viewer,
            name="x",
            expires_at=NOW + timedelta(1),
            scope="write",
            now=NOW,
            verified=True,
        )
    for headers in (bearer(viewer, "read"), bearer(world.users["community_staff"], "read")):
        response = unchanged(lambda h=headers: send("put", SELF, h, BODIES["put"]))
        assert response.status_code == 403 and response.json()["code"] == "forbidden"


@pytest.mark.parametrize(
    "body",
    [
        '{"scores": [{"item": "A1", "points": "NaN"}]}',
        '{"scores": [{"item": "A1", "points": "Infinity", "reason": "x"}]}',
        '{"scores": [{"item": "A1", "points": "1e999999999", "reason": "x"}]}',
        '{"scores": [{"item": "A1", "points": "\\u0662\\u0660", "reason": "x"}]}',
        '{"scores": [{"item": "A1", "points": "-5", "reason": "x"}]}',
        '{"scores": [{"item": "A1", "points": "20", "reason": "\\u0000"}]}',
        '{"scores": [{"item": "A1", "points": 20}]}',
        '{"scores": [{"item": "A1", "occurrences": 1e400}]}',
        '{"scores": [{"item": "A1", "occurrences": NaN}]}',
        '{"scores": [{"item": "A1", "points": "20", "version": 99999999999999999999}]}',
        '{"scores": [{"item": "A1\\u0000", "points": "20"}]}',
        '{"scores": [{"item": "' + "A" * 5000 + '", "points": "20"}]}',
        '{"scores": [{"item": "A1", "points": "20", "reason": "' + "x" * 5000 + '"}]}',
        '{"scores": [{"item": "A1", "points": "20"}], "scores": []}',
        '{"scores": [{"item": "A1", "points": "28", "reason": "x"},'
        ' {"item": "A1", "points": "28", "reason": "x"}]}',
        '{"scores": [null]}',
        '{"scores": {}}',
        "[" * 20000 + "]" * 20000,
        "not json",
        "",
    ],
)
def test_odd_bodies_are_invalid_beside_their_field_never_a_server_error(scoring, body):
    headers = bearer(scoring["assessors"][0])
    response = unchanged(
        lambda: Client().put(SCORES, body, content_type="application/json", **headers)
    )
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "invalid" and response.json()["message"]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/divisions?limit=0", "limit"),
        ("/divisions?limit=-1", "limit"),
        ("/divisions?limit=100000000000000000000000", "limit"),
        ("/divisions?limit=NaN", "limit"),
        ("/divisions?cursor=" + "A" * 401, "cursor"),
        ("/divisions?cursor=.eJyLVnJWigUAAo8BBA:forged:sig", "cursor"),
        ("/divisions?level=planet", "level"),
        ("/divisions?parent=%E2%80%AE%00", "parent"),
        ("/campaigns/c/rounds/0", "number"),
        ("/campaigns/c/rounds/-1", "number"),
        ("/campaigns/c/rounds/1e3", "number"),
        ("/standards/00000000-0000-0000-0000-00000000000g", "id"),
        ("/campaigns/c/rectifications?status=open%27--", "status"),
    ],
)
def test_odd_queries_are_invalid_never_a_server_error(scoring, world, path, field):
    response = Client().get(f"/api{path}", **_boss(world))
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "invalid" and response.json()["field"] == field


def test_a_token_is_made_for_oneself_only(world, client_for):
    client = client_for(world.users["community_staff"])
    day = (timezone.localdate() + timedelta(days=10)).isoformat()
    data = {"name": "n", "scope": "write", "expires_on": day}
    data["user"] = str(world.users["city_admin"].pk)
    data["actor"] = str(world.users["city_admin"].public_id)
    assert client.post(reverse("token_list"), data).status_code == 302
    assert AccessToken.objects.get().user == world.users["community_staff"]


def test_the_token_pages_refuse_a_post_from_another_site(world):
    token, _secret = tokens.token_create(
        actor=world.users["community_staff"],
        name="t",
        expires_at=NOW + timedelta(days=3),
        scope="read",
        now=NOW,
        verified=False,
    )
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["community_staff"])
    day = (timezone.localdate() + timedelta(days=10)).isoformat()
    before = fingerprint_without_tokens()
    made = client.post(reverse("token_list"), {"name": "n", "scope": "write", "expires_on": day})
    revoked = client.post(reverse("token_revoke", args=[token.public_id]))
    assert made.status_code == revoked.status_code == 403
    assert AccessToken.objects.get() == token and token.revoked_at is None
    assert fingerprint_without_tokens() == before


def test_a_token_name_is_shown_as_text_not_markup(world, client_for):
    client = client_for(world.users["community_staff"])
    day = (timezone.localdate() + timedelta(days=10)).isoformat()
    name = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    page = client.post(
        reverse("token_list"), {"name": name, "scope": "read", "expires_on": day}, follow=True
    ).content.decode()
    again = client.get(reverse("token_list")).content.decode()
    for shown in (page, again):
        assert "<script>alert(1)" not in shown and "<img src=x" not in shown
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown


@pytest.mark.parametrize(
    "persona", ["county_officer", "town_officer", "community_staff", "assessor", "viewer"]
)
def test_the_api_shows_no_more_than_the_pages(scoring, world, client_for, persona):
    """The same person's results and ranking, through the API and on the ranking page."""
    user = world.users[persona]
    headers = bearer(user, "read")
    api_results = {r["community_code"] for r in walk(headers, "/campaigns/c/rounds/2/results")}
    api_ranking = [r["community_code"] for r in walk(headers, "/campaigns/c/rounds/2/ranking")]
    page = client_for(user).get(reverse("ranking", args=["c", 2]))
    assert page.status_code == 200
    shown = [row.code for row in page.context["rows"]]
    assert api_ranking == shown and api_results == set(shown)
    visible = set(authz.divisions_for_user(user).values_list("code", flat=True))
    assert api_results <= visible
    divisions = {d["code"] for d in walk(headers, "/divisions", limit=50)}
    assert divisions == visible


@override_settings(CIVICMARK_API_REFUSED_PER_ADDRESS=5)
def test_an_address_that_keeps_trying_bad_tokens_is_slowed_before_any_look_up(world):
    """Found (stop 23's note): refused tokens were not limited per address, so one address could
    make the server look up, and audit, tokens without end."""
    good = bearer(world.users["town_officer"], "read")
    real, _secret = tokens.token_create(
        actor=world.users["county_officer"],
        name="t",
        expires_at=NOW + timedelta(days=3),
        scope="read",
        now=NOW,
        verified=True,
    )
    wrong = {"HTTP_AUTHORIZATION": f"Bearer cmk_{real.prefix}_{'x' * 43}"}
    unknown = {"HTTP_AUTHORIZATION": f"Bearer cmk_{'0' * 12}_{'y' * 43}"}
    here = {"REMOTE_ADDR": "10.9.8.7"}
    for n in range(5):
        response = get({**(wrong if n % 2 else unknown), **here}, "/departments")
        assert response.status_code == 401
    # The sixth try from that address, even with a good token, is turned away unread.
    with CaptureQueriesContext(connection) as seen:
        response = get({**good, **here}, "/departments")
    assert response.status_code == 429 and response.json()["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert not [q for q in seen.captured_queries if "accesstoken" in q["sql"].lower()]
    # Another address goes on, and so does the token's own person from there.
    assert get({**good, "REMOTE_ADDR": "10.9.8.8"}, "/departments").status_code == 200
    # The token tried wrongly was audited once, not once per try.
    assert AuditEvent.objects.filter(action="token.refused").count() == 1
