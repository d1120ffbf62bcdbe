"""The JSON API's reads, tokens and contract (ADR 24): each list through the page's scoped
selector, cursor pages that walk every row once, the error shape, the rate limit, the OpenAPI
document and its local docs page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from civicmark.accounts import authz, tokens
from civicmark.core.models import AuditEvent
from tests.factories import person, small_standard

API = "/api"


def bearer(user, scope="write"):  # noqa: ANN001, ANN201
    now = timezone.now()
    _token, secret = tokens.token_create(
        actor=user,
        name="t",
        expires_at=now + timedelta(days=30),
        scope=scope,
        now=now,
        verified=True,
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def get(user_or_headers, path, **params):  # noqa: ANN001, ANN201
    headers = user_or_headers if isinstance(user_or_headers, dict) else bearer(user_or_headers)
    return Client().get(f"{API}{path}", params, **headers)


def walk(headers, path, limit=2, **params):  # noqa: ANN001, ANN201
    """Every page of a list, following next_cursor."""
    rows, cursor = [], None
    for _n in range(1000):
        query = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        response = Client().get(f"{API}{path}", query, **headers)
        assert response.status_code == 200, response.content
        body = response.json()
        rows += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return rows
    raise AssertionError("the cursor never ended")


PERSONAS = [
    "city_admin",
    "county_officer",
    "town_officer",
    "community_staff",
    "assessor",
    "viewer",
    "other_staff",
]


@pytest.mark.parametrize("persona", PERSONAS)
def test_divisions_are_those_the_pages_show_each_once_and_others_are_404(world, persona):
    user = world.users[persona]
    headers = bearer(user, "read")
    codes = [d["code"] for d in walk(headers, "/divisions")]
    expected = sorted(authz.divisions_for_user(user).values_list("code", flat=True))
    assert codes == expected and len(set(codes)) == len(codes)
    for code in world.d:
        status = get(headers, f"/divisions/{code}").status_code
        assert status == (200 if code in expected else 404), code


def test_a_community_worker_sees_his_community_only(world):
    codes = [d["code"] for d in walk(bearer(world.users["community_staff"]), "/divisions")]
    assert codes == ["C111"]
    response = get(world.users["community_staff"], "/divisions/C211")
    assert response.status_code == 404
    assert response.json() == {
        "code": "not_found",
        "message": response.json()["message"],
        "field": None,
    }


def test_pagination_walks_every_row_once_at_every_page_size(world):
    headers = bearer(world.users["city_admin"], "read")
    everything = [d["code"] for d in walk(headers, "/divisions", limit=200)]
    assert len(everything) == len(world.d)
    for limit in (1, 3, 4, 9):
        assert [d["code"] for d in walk(headers, "/divisions", limit=limit)] == everything


def test_a_cursor_that_was_altered_or_a_limit_out_of_range_is_invalid(world):
    headers = bearer(world.users["city_admin"], "read")
    first = get(headers, "/divisions", limit=2).json()
    bad = get(headers, "/divisions", cursor=first["next_cursor"][:-2] + "xx")
    assert bad.status_code == 422 and bad.json()["code"] == "invalid"
    assert bad.json()["field"] == "cursor"
    too_many = get(headers, "/divisions", limit=10_000)
    assert too_many.status_code == 422 and too_many.json()["field"] == "limit"


def test_without_a_valid_token_it_answers_401_with_the_error_shape(world):
    client = Client()
    for headers in (
        {},
        {"HTTP_AUTHORIZATION": "Bearer nonsense"},
        {"HTTP_AUTHORIZATION": "Basic x"},
    ):
        response = client.get(f"{API}/divisions", **headers)
        assert response.status_code == 401
        assert response.json()["code"] == "unauthorized"
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_session_is_not_a_token(world, client_for):
    """A browser signed in to the pages gets nothing from the API without a token."""
    client = client_for(world.users["city_admin"])
    assert client.get(f"{API}/divisions").status_code == 401


def test_a_revoked_or_expired_token_or_a_closed_account_is_refused_at_once(world):
    user = world.users["town_officer"]
    now = timezone.now()
    token, secret = tokens.token_create(
        actor=user,
        name="t",
        expires_at=now + timedelta(days=1),
        scope="read",
        now=now,
        verified=True,
    )
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    assert get(headers, "/divisions").status_code == 200
    user.is_active = False
    user.save()
    assert get(headers, "/divisions").status_code == 401
    user.is_active = True
    user.save()
    token.expires_at = now - timedelta(seconds=1)
    token.save()
    assert get(headers, "/divisions").status_code == 401
    token.expires_at = now + timedelta(days=1)
    token.save()
    tokens.token_revoke(actor=user, token=token, now=now)
    assert get(headers, "/divisions").status_code == 401
    assert AuditEvent.objects.filter(action="token.refused").count() == 3


def test_a_role_taken_away_is_gone_from_the_token_at_once(world):
    user = person("moving", "town_officer", world.d["T11"])
    headers = bearer(user, "read")
    assert "C111" in [d["code"] for d in walk(headers, "/divisions", limit=50)]
    user.roles.all().delete()
    assert walk(headers, "/divisions", limit=50) == []


@override_settings(CIVICMARK_API_RATE=3)
def test_the_rate_limit_answers_429_with_retry_after(world):
    headers = bearer(world.users["city_admin"], "read")
    for _n in range(3):
        assert get(headers, "/departments").status_code == 200
    response = get(headers, "/departments")
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 60
    # Counted per token: another token of another person goes on.
    assert get(world.users["town_officer"], "/departments").status_code == 200


def test_bad_path_values_are_invalid_never_a_server_error(world):
    headers = bearer(world.users["city_admin"], "read")
    for path in ("/divisions/a%00b", "/campaigns/x/rounds/99999999999999999999", "/standards/nope"):
        response = get(headers, path)
        assert response.status_code == 422, path
        assert response.json()["code"] == "invalid"


def test_standards_campaigns_rounds_results_and_ranking(scoring):
    s = scoring
    headers = bearer(person("boss", "city_admin", s["campaign"].division), "read")
    standards = walk(headers, "/standards")
    assert [x["slug"] for x in standards] == ["small"]
    detail = get(headers, f"/standards/{standards[0]['id']}").json()
    assert [i["code"] for i in detail["items"]] == ["A1", "A2", "B1", "B2"]
    assert detail["items"][0] == {
        "code": "A1",
        "title": "a1",
        "category": "A",
        "points": "30.00",
        "kind": "graded",
        "department": "FP",
        "other_departments": [],
        "evidence": "",
    }
    assert [v["code"] for v in detail["vetoes"]] == ["V1"]
    assert [c["slug"] for c in walk(headers, "/campaigns")] == ["c"]
    rounds = walk(headers, "/campaigns/c/rounds")
    assert [r["number"] for r in rounds] == sorted(r["number"] for r in rounds)
    results = walk(headers, "/campaigns/c/rounds/2/results")
    assert [r["community_code"] for r in results] == ["C111", "C112", "C121", "C211"]
    assert {r["outcome"] for r in results} == {"incomplete"}
    ranking = walk(headers, "/campaigns/c/rounds/2/ranking", limit=1)
    assert sorted(r["community_code"] for r in ranking) == ["C111", "C112", "C121", "C211"]
    detail = get(headers, "/campaigns/c/rounds/2/results/C111").json()
    assert detail["total"] == "0.00" and [c["code"] for c in detail["categories"]] == ["A", "B"]
    assert walk(headers, "/campaigns/c/rectifications") == []


def test_results_of_another_scope_are_404(scoring, world):
    headers = bearer(world.users["other_staff"], "read")
    assert [r["community_code"] for r in walk(headers, "/campaigns/c/rounds/2/results")] == ["C211"]
    assert get(headers, "/campaigns/c/rounds/2/results/C111").status_code == 404
    assert get(headers, "/campaigns/c/self-assessment/C111").status_code == 404


def test_the_openapi_document_is_3_1_and_schemathesis_loads_it(db):
    import schemathesis

    document = Client().get(f"{API}/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    schema = schemathesis.openapi.from_dict(document)
    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) == 19
    assert document["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"


def test_the_docs_page_loads_swagger_from_this_server_under_the_csp(db):
    response = Client().get(f"{API}/docs")
    page = response.content.decode()
    assert response.status_code == 200
    assert "/static/ninja/swagger-ui-bundle.js" in page and "cdn" not in page.lower()
    # a phone draws it at its own width (without a viewport: 980 pixels, unreadably small)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    policy = response["Content-Security-Policy"]
    assert (
        "script-src 'self'" in policy
        and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    )


def test_lists_ordered_by_public_id_page_through_every_row(scoring, world):
    """Standards and rectifications are ordered by their UUID: a page that was not the last
    (a cursor to sign) was a 500, since a UUID is not JSON (found walking the demo)."""
    from civicmark.assessments.models import Rectification

    round_ = scoring["round"]
    enrollment = scoring["enrollments"]["C111"]
    made = {
        str(
            Rectification.objects.create(
                round=round_, enrollment=enrollment, item=item, reason="x"
            ).public_id
        )
        for item in scoring["items"].values()
    }
    headers = bearer(world.users["city_admin"], "read")
    for limit in (1, 3):
        rows = walk(headers, "/campaigns/c/rectifications", limit=limit)
        assert sorted(r["id"] for r in rows) == sorted(made) and len(rows) == len(made)
    second = small_standard(world, slug="small-2")
    ids = [s["id"] for s in walk(headers, "/standards", limit=1)]
    assert len(ids) == 2 and str(second.public_id) in ids
