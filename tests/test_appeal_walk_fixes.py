"""What an official's walk of issue 17 found on the appeal pages: the lead's to-do leads to the
appeal's own page, which must let him assign it there; the community's form offers the items
that lost it points and the vetoes found, not those scored in full; the reviewer box names
each person as the house's person labels do."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone, translation

from civicmark.quality.appeals import Decision, appeal_assign, appeal_decide
from civicmark.quality.models import Appeal
from civicmark.quality.todo import todos_for
from civicmark.scoring.models import Settlement
from tests.test_appeals import _file, _state, _url, sign_off


@pytest.fixture(autouse=True)
def _english():  # noqa: ANN202
    with translation.override("en"):
        yield


@pytest.fixture
def signed(scoring, world):  # noqa: ANN001, ANN201
    return sign_off(scoring, world)


@pytest.fixture
def english_client_for(client_for):  # noqa: ANN001, ANN201
    from django.conf import settings

    def login(user):  # noqa: ANN001, ANN202
        signed_in = client_for(user)
        signed_in.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return signed_in

    return login


def test_the_leads_todo_leads_to_a_page_where_he_assigns_the_appeal(signed, english_client_for):
    appeal = _file(signed)
    (todo,) = [
        t
        for t in todos_for(
            user=signed["lead"], campaign=signed["campaign"], today=timezone.localdate()
        )
        if t.key == "appeals_to_assign"
    ]
    client = english_client_for(signed["lead"])
    pages = [todo.url, *(line.url for line in todo.lines)]
    detail = _url("appeal_detail", signed, appeal.public_id)
    assert detail in pages
    page = client.get(detail).content.decode()
    assert 'data-testid="assign-form"' in page
    assert _url("appeal_assign", signed, appeal.public_id) in page
    response = client.post(
        _url("appeal_assign", signed, appeal.public_id),
        {f"a{appeal.pk}-reviewer": "fp1", "back": "appeal"},
    )
    assert response.status_code == 302 and response["Location"] == detail
    assert Appeal.objects.get().reviewer == signed["reviewer"]


def test_a_refused_assignment_on_the_appeals_page_comes_back_there_and_writes_nothing(
    signed, english_client_for
):
    appeal = _file(signed)
    client = english_client_for(signed["lead"])
    before = _state()
    response = client.post(
        _url("appeal_assign", signed, appeal.public_id),
        {f"a{appeal.pk}-reviewer": "fp0", "back": "appeal"},
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert 'data-testid="appeal-facts"' in page  # the appeal's page, not the round's list
    assert "Choose a reviewer from the list." in page
    assert _state() == before


def test_only_the_lead_sees_the_assign_box_and_only_while_the_appeal_is_open(
    signed, english_client_for
):
    appeal = _file(signed)
    staff = english_client_for(signed["staff"]["C112"])
    page = staff.get(_url("appeal_detail", signed, appeal.public_id)).content.decode()
    assert 'data-testid="assign-form"' not in page
    Appeal.objects.filter(pk=appeal.pk).update(status="upheld")
    lead = english_client_for(signed["lead"])
    page = lead.get(_url("appeal_detail", signed, appeal.public_id)).content.decode()
    assert 'data-testid="assign-form"' not in page


def test_the_appeal_form_offers_what_lost_points_and_the_vetoes_found(signed, english_client_for):
    # C112 lost 25 on A1 and kept every other item; C121 kept every point but was vetoed.
    items = signed["items"]
    full = [i for code, i in items.items() if code != "A1"]
    assert full  # the standard has items C112 scored in full
    page = english_client_for(signed["staff"]["C112"]).get(_url("appeal_new", signed, "C112"))
    html = page.content.decode()
    assert f'value="item:{items["A1"].pk}"' in html
    assert not [i.code for i in full if f'value="item:{i.pk}"' in html]
    vetoed = english_client_for(signed["staff"]["C121"]).get(_url("appeal_new", signed, "C121"))
    html = vetoed.content.decode()
    assert 'value="veto:' in html and 'value="item:' not in html


def test_an_item_scored_in_full_is_not_taken_from_the_form(signed, english_client_for):
    a2 = next(i for code, i in signed["items"].items() if code != "A1")
    before = _state()
    response = english_client_for(signed["staff"]["C112"]).post(
        _url("appeal_new", signed, "C112"), {"subject": f"item:{a2.pk}", "statement": "全对"}
    )
    assert response.status_code == 422
    assert "Choose an item or veto finding of this round from the list." in (
        response.content.decode()
    )
    assert _state() == before


def test_the_reviewer_box_names_people_with_their_division_and_department(
    signed, english_client_for
):
    appeal = _file(signed)
    page = english_client_for(signed["lead"]).get(_url("appeal_detail", signed, appeal.public_id))
    html = page.content.decode()
    reviewer = signed["reviewer"]
    role = reviewer.roles.filter(role="assessor", department__isnull=False).first()
    assert role is not None
    assert f"{role.division.name} · {role.department.name}" in html
    assert f"{reviewer.full_name or reviewer.username} · " in html
    assert f"({reviewer.username})" not in html


def test_the_round_page_lists_appeal_decisions_apart_from_the_leads_settlements(
    signed, english_client_for
):
    appeal = _file(signed)
    appeal_assign(actor=signed["lead"], appeal=appeal, reviewer=signed["reviewer"])
    appeal_decide(
        actor=signed["reviewer"],
        appeal=Appeal.objects.get(),
        decision=Decision(change=True, reason="台账完整", points=Decimal(30)),
    )
    assert Settlement.objects.get().source == "appeal"
    page = english_client_for(signed["lead"]).get(_url("round_detail", signed)).content.decode()
    assert 'data-testid="settled"' not in page  # no disagreement was settled
    changed = page[page.index('data-testid="changed-on-appeal"') :]
    changed = changed[: changed.index("</table>")]
    assert _url("appeal_detail", signed, appeal.public_id) in changed
    assert "台账完整" in changed
