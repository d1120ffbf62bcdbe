"""An insider's attack on issue 16's everyday-work routes (to-do lists, per-card saving,
evidence removal, name search, the audit log and its CSV, key figures, round coverage).

Each test holds a real account of another scope (or one below the work it tries) and tries what
an insider would: guessed codes and ids in URLs and POST bodies, a swapped card code, a locked
or submitted enrollment, a CSRF-less post, htmx headers. A refused write changes nothing at all
(`fingerprint`, the write matrix's hash of every table); a refused read names nothing outside
the reader's scope, and says the same of an object out of scope as of one that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from civicmark.assessments.models import Evidence, SelfScore
from civicmark.assessments.services import evidence_attach
from civicmark.scoring.models import Score
from tests.factories import person
from tests.test_write_matrix import fingerprint

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%%EOF\n"
HTMX = {"HTTP_HX_REQUEST": "true"}


def client_of(user: Any, *, csrf: bool = False) -> Client:
    """A fresh client reading English (the wording asserted is the English one)."""
    client = Client(enforce_csrf_checks=csrf)
    client.cookies["django_language"] = "en"
    if user is not None:
        client.force_login(user)
    return client


@contextmanager
def nothing_changes() -> Iterator[None]:
    before = fingerprint()
    yield
    assert fingerprint() == before, "a refused request changed the database"


@pytest.fixture
def no_last_login():
    """Signing in before each request must not count as a write (users.last_login)."""
    from django.contrib.auth.models import update_last_login
    from django.contrib.auth.signals import user_logged_in

    user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
    yield
    user_logged_in.connect(update_last_login, dispatch_uid="update_last_login")


def _attach(scoring: Any, world: Any, code: str = "C111", item: str = "A1") -> Evidence:
    staff = world.users["community_staff"] if code == "C111" else world.users["other_staff"]
    return evidence_attach(
        actor=staff,
        enrollment=scoring["enrollments"][code],
        items=[scoring["items"][item]],
        upload=SimpleUploadedFile("ledger.pdf", PDF, content_type="application/pdf"),
    )


# -- evidence removal --------------------------------------------------------------------------


def test_evidence_a_signed_off_round_judged_is_not_removed_once_the_community_has_it_back(
    scoring, world, no_last_login
):
    """The hole: the county round judged C111 with its ledger and was signed off; the county
    then returned the self-assessment to the community, and its staff could delete the very
    document the sealed round judged (file and row), which ADR 15 keeps for ever."""
    evidence = _attach(scoring, world)
    enrollment = scoring["enrollments"]["C111"]
    round_ = scoring["campaign"].rounds.get(number=1)  # covers every community (the fixture)
    round_.finalised_at = timezone.now()
    round_.save(update_fields=["finalised_at"])
    enrollment.status = "returned"  # the county sent it back after its round
    enrollment.save(update_fields=["status"])
    staff = client_of(world.users["community_staff"])
    url = reverse("evidence_remove", args=["c", evidence.public_id])
    with nothing_changes():
        reply = staff.post(url, {"card": "A1"}, follow=True)
    assert Evidence.objects.filter(pk=evidence.pk).exists()
    said = " ".join(str(m) for m in reply.context["messages"])
    assert "ledger.pdf" in said and "judged" in said


def test_evidence_an_open_round_already_scored_against_is_not_removed_when_returned(
    scoring, world, no_last_login
):
    """The same hole while the round is still open: an assessor scored C111 with the ledger in
    front of him, the self-assessment came back to the community, and its staff could delete
    the ledger before the round was signed off on those scores."""
    evidence = _attach(scoring, world)
    a1 = scoring["items"]["A1"]
    client_of(scoring["assessors"][0]).post(
        reverse("score_item", args=["c", 2, "C111", "A1"]), _score_card(a1), **HTMX
    )
    assert Score.objects.filter(item=a1).exists()
    enrollment = scoring["enrollments"]["C111"]
    enrollment.status = "returned"
    enrollment.save(update_fields=["status"])
    staff = client_of(world.users["community_staff"])
    with nothing_changes():
        reply = staff.post(
            reverse("evidence_remove", args=["c", evidence.public_id]), {"card": "A1"}, follow=True
        )
    said = " ".join(str(m) for m in reply.context["messages"])
    assert "ledger.pdf" in said and "judged" in said


def test_evidence_never_judged_is_still_removed_when_returned(scoring, world):
    """The fix keeps the feature: a document no signed-off round judged goes, once returned."""
    evidence = _attach(scoring, world)
    enrollment = scoring["enrollments"]["C111"]
    enrollment.status = "returned"
    enrollment.save(update_fields=["status"])
    staff = client_of(world.users["community_staff"])
    staff.post(reverse("evidence_remove", args=["c", evidence.public_id]), {"card": "A1"})
    assert not Evidence.objects.filter(pk=evidence.pk).exists()


# -- round coverage -----------------------------------------------------------------------------


def test_a_county_officer_learns_no_other_countys_community_from_the_coverage_confirmation(
    scoring, world, no_last_login
):
    """The hole: the officer of K2 leads K2's part of the county round. Posting the integer id
    of an enrollment of K1 (guessed: they run in sequence) while leaving out his own covered
    community, the confirmation page named K1's community as "added". Now refused before the
    confirmation, naming nothing of K1."""
    round_ = scoring["campaign"].rounds.get(number=1)
    outsider = scoring["enrollments"]["C111"]
    officer = client_of(world.users["other_county_officer"])
    with nothing_changes():
        reply = officer.post(
            reverse("round_detail", args=["c", 1]),
            {"combine_rule": round_.combine_rule, "covers": [outsider.pk]},
            follow=True,
        )
    page = reply.content.decode()
    assert "Community 111" not in page and "C111" not in page
    assert "only its own communities" in page
    assert round_.covers.filter(pk=outsider.pk).exists()


def test_the_coverage_service_refuses_another_countys_community_in_a_part(scoring, world):
    """Beside the code it guards: whatever the channel, a county's part covers only its own."""
    from civicmark.assessments.services import round_configure
    from civicmark.core.errors import ApplicationError

    round_ = scoring["campaign"].rounds.get(number=1)
    with nothing_changes(), pytest.raises(ApplicationError, match="only its own communities"):
        round_configure(
            actor=world.users["other_county_officer"],
            round_=round_,
            opens_on=round_.opens_on,
            closes_on=round_.closes_on,
            combine_rule=round_.combine_rule,
            rescore=round_.rescore,
            lead=round_.lead,
            panel=[],
            covers=[scoring["enrollments"]["C111"], scoring["enrollments"]["C211"]],
        )


def test_a_code_typed_for_another_countys_community_reads_as_unknown(scoring, world, no_last_login):
    """The same officer typing codes (a large campaign's box): a code of K1's community must
    read exactly as a code that does not exist, or the box tells him which codes exist."""
    round_ = scoring["campaign"].rounds.get(number=1)
    officer = client_of(world.users["other_county_officer"])
    said = {}
    for code in ("C111", "C999"):
        with nothing_changes():
            reply = officer.post(
                reverse("round_detail", args=["c", 1]),
                {"combine_rule": round_.combine_rule, "covers_codes": code},
                follow=True,
            )
        said[code] = " ".join(str(m) for m in reply.context["messages"]).replace(code, "X")
    assert said["C111"] == said["C999"]
    assert "not communities of this campaign" in said["C111"]


# -- per-card saving of the self-assessment -----------------------------------------------------


def _self_card(scoring: Any, item: str = "A1", points: str = "10") -> dict[str, str]:
    pk = scoring["items"][item].pk
    return {f"i{pk}-points": points, f"i{pk}-explanation": "台账齐全"}


SELF_CARD_ATTEMPTS = [
    # (who, the community whose card he posts to)
    ("community_staff", "C112"),  # same town
    ("community_staff", "C121"),  # same county, other town
    ("community_staff", "C211"),  # other county
    ("other_staff", "C111"),
    ("town_officer", "C111"),  # reads it, is not its staff
    ("county_officer", "C111"),
    ("city_admin", "C111"),
    ("viewer", "C111"),
    ("assessor", "C111"),
    ("nobody", "C111"),
    ("anonymous", "C111"),
]


@pytest.mark.parametrize(("who", "code"), SELF_CARD_ATTEMPTS)
@pytest.mark.parametrize("htmx", [False, True])
def test_nobody_but_its_staff_saves_a_communitys_card(
    scoring, world, no_last_login, who, code, htmx
):
    user = None if who == "anonymous" else world.users[who]
    url = reverse("self_assessment_item", args=["c", code, "A1"])
    with nothing_changes():
        reply = client_of(user).post(url, _self_card(scoring), **(HTMX if htmx else {}))
    assert reply.status_code in (302, 403, 404, 422)
    # The whole page's form, and its evidence form, alike.
    page = reverse("self_assessment", args=["c"])
    pk = scoring["items"]["A1"].pk
    for data in (
        {"community": code, **_self_card(scoring)},
        {
            "community": code,
            "action": "evidence",
            "items": [pk],
            "file": SimpleUploadedFile("x.pdf", PDF, "application/pdf"),
        },
        {"community": code, "action": "reviewed"},
        {"community": code, "action": "return", "comment": "x"},
    ):
        with nothing_changes():
            reply = client_of(user).post(page, data)
        assert reply.status_code < 500


def test_a_card_posted_to_one_items_address_saves_no_other_item(scoring, world, no_last_login):
    """Swapping the card code: the address names A1, the body carries B1's boxes (and a page's
    worth of others). Only the address's card is read; B1 stays as it was."""
    staff = client_of(world.users["community_staff"])
    url = reverse("self_assessment_item", args=["c", "C111", "A1"])
    with nothing_changes():
        staff.post(url, _self_card(scoring, "B1", "5"))  # A1's boxes absent: nothing typed
    staff.post(url, {**_self_card(scoring, "A1", "10"), **_self_card(scoring, "B1", "5")})
    assert list(
        SelfScore.objects.filter(enrollment=scoring["enrollments"]["C111"]).values_list(
            "item__code", flat=True
        )
    ) == ["A1"]
    for bad in (
        reverse("self_assessment_item", args=["c", "C111", "ZZ9"]),  # no such item
        reverse("self_assessment_item", args=["nope", "C111", "A1"]),  # no such campaign
        reverse("self_assessment_item", args=["c", "C999", "A1"]),  # no such community
    ):
        with nothing_changes():
            assert staff.post(bad, _self_card(scoring)).status_code == 404


@pytest.mark.parametrize("status", ["submitted", "town_reviewed", "reported", "commended"])
def test_nothing_is_written_into_a_self_assessment_once_it_is_sent(
    scoring, world, no_last_login, status
):
    enrollment = scoring["enrollments"]["C111"]
    enrollment.status = status
    enrollment.save(update_fields=["status"])
    # No open round covers it (the fixture's rounds cover everyone; a covering open round takes
    # evidence by design, ADR 15).
    for round_ in scoring["campaign"].rounds.all():
        round_.covers.set([scoring["enrollments"]["C112"]])
    staff = client_of(world.users["community_staff"])
    pk = scoring["items"]["A1"].pk
    with nothing_changes():
        card = staff.post(
            reverse("self_assessment_item", args=["c", "C111", "A1"]),
            _self_card(scoring),
            **HTMX,
        )
        page = staff.post(
            reverse("self_assessment", args=["c"]), {"community": "C111", **_self_card(scoring)}
        )
        photo = staff.post(
            reverse("self_assessment_item", args=["c", "C111", "A1"]),
            {f"i{pk}-points": "", f"i{pk}-photo": SimpleUploadedFile("p.pdf", PDF)},
        )
    assert card.status_code == 422 and page.status_code in (302, 422)
    assert photo.status_code == 422


# -- evidence removal, out of scope or too late ---------------------------------------------------


@pytest.mark.parametrize(
    "who",
    [
        "other_staff",
        "town_officer",
        "county_officer",
        "city_admin",
        "viewer",
        "assessor",
        "nobody",
        "anonymous",
    ],
)
def test_nobody_but_its_staff_removes_a_communitys_document(scoring, world, no_last_login, who):
    evidence = _attach(scoring, world)
    user = None if who == "anonymous" else world.users[who]
    with nothing_changes():
        reply = client_of(user).post(
            reverse("evidence_remove", args=["c", evidence.public_id]), {"card": "A1"}, **HTMX
        )
    assert reply.status_code in (302, 404)


def test_staff_remove_no_other_communitys_document_nor_through_another_campaign(
    scoring, world, no_last_login
):
    theirs = _attach(scoring, world, "C211")
    staff = client_of(world.users["community_staff"])
    with nothing_changes():
        assert (
            staff.post(reverse("evidence_remove", args=["c", theirs.public_id])).status_code == 404
        )
    mine = _attach(scoring, world)
    with nothing_changes():
        # A guessed campaign slug with his own document's id.
        assert staff.post(reverse("evidence_remove", args=["x", mine.public_id])).status_code == 404
        # A GET never removes.
        assert staff.get(reverse("evidence_remove", args=["c", mine.public_id])).status_code == 405
    # Once submitted, his own document stays.
    enrollment = scoring["enrollments"]["C111"]
    enrollment.status = "submitted"
    enrollment.save(update_fields=["status"])
    with nothing_changes():
        staff.post(reverse("evidence_remove", args=["c", mine.public_id]), {"card": "A1"})
    assert Evidence.objects.filter(pk=mine.pk).exists()


# -- per-card scoring ---------------------------------------------------------------------------


def _score_card(item: Any, points: str = "10") -> dict[str, str]:
    return {f"i{item.pk}-points": points, f"i{item.pk}-reason": "x", f"i{item.pk}-version": ""}


@pytest.mark.parametrize(
    "who",
    [
        "community_staff",
        "other_staff",
        "town_officer",
        "county_officer",
        "city_admin",
        "viewer",
        "assessor",  # K1's public security: no item of this standard is his
        "nobody",
        "anonymous",
    ],
)
def test_nobody_but_an_assessor_of_the_items_department_scores_it(
    scoring, world, no_last_login, who
):
    user = None if who == "anonymous" else world.users[who]
    a1 = scoring["items"]["A1"]
    with nothing_changes():
        reply = client_of(user).post(
            reverse("score_item", args=["c", 2, "C111", "A1"]), _score_card(a1), **HTMX
        )
    assert reply.status_code in (302, 404)


def test_an_assessor_scores_no_other_departments_item_nor_through_a_swapped_card(
    scoring, world, city, no_last_login
):
    """A city FP assessor: A2 is the PSB's. Its address is not found; A2's boxes posted to his
    own A1's address save nothing of A2 (only the address's card is read)."""
    from civicmark.divisions.models import Department

    fp = person("fp_only", "assessor", world.d["C"], department=Department.objects.get(code="FP"))
    a1, a2 = scoring["items"]["A1"], scoring["items"]["A2"]
    client = client_of(fp)
    with nothing_changes():
        assert (
            client.post(
                reverse("score_item", args=["c", 2, "C111", "A2"]), _score_card(a2), **HTMX
            ).status_code
            == 404
        )
        client.post(reverse("score_item", args=["c", 2, "C111", "A1"]), _score_card(a2), **HTMX)
    client.post(
        reverse("score_item", args=["c", 2, "C111", "A1"]),
        {**_score_card(a1), **_score_card(a2)},
        **HTMX,
    )
    assert list(Score.objects.values_list("item__code", flat=True)) == ["A1"]


def test_an_assessor_off_the_panel_conflicted_or_in_a_signed_off_round_scores_nothing(
    scoring, world, no_last_login
):
    a1 = scoring["items"]["A1"]
    fp0, fp1, fp2 = scoring["assessors"]
    round_ = scoring["round"]
    url = reverse("score_item", args=["c", 2, "C111", "A1"])
    round_.panel.set([fp1])  # fp0 is not on it
    with nothing_changes():
        assert client_of(fp0).post(url, _score_card(a1), **HTMX).status_code in (404, 422)
    round_.panel.set([])
    fp2.home_division = world.d["C111"]  # he lives there
    fp2.save(update_fields=["home_division"])
    with nothing_changes():
        assert client_of(fp2).post(url, _score_card(a1), **HTMX).status_code in (404, 422)
    round_.finalised_at = timezone.now()
    round_.save(update_fields=["finalised_at"])
    with nothing_changes():
        assert client_of(fp1).post(url, _score_card(a1), **HTMX).status_code in (200, 404, 422)
        assert client_of(fp1).post(
            reverse("score_community", args=["c", 2, "C111"]), _score_card(a1)
        ).status_code in (200, 302, 404)
    # A round that does not exist, or a community the campaign does not hold.
    for bad in (
        reverse("score_item", args=["c", 9, "C111", "A1"]),
        reverse("score_item", args=["c", 2, "K1", "A1"]),
    ):
        with nothing_changes():
            assert client_of(fp1).post(bad, _score_card(a1)).status_code == 404


def test_a_city_manager_grants_himself_no_role_to_score_with(scoring, world, no_last_login):
    """The city administrator makes himself an FP assessor (his page, the import), then tries
    to score: each step refused, nothing written."""
    me = world.users["city_admin"]
    client = client_of(me)
    a1 = scoring["items"]["A1"]
    with nothing_changes():
        client.post(
            reverse("role_grant", args=[me.public_id]),
            {"role": "assessor", "division": "C", "department": "FP"},
        )
        client.post(
            reverse("person_import"),
            {
                "file": SimpleUploadedFile(
                    "p.csv",
                    b"username,name,role,division_code,department_code\n"
                    b"City_Admin,x,assessor,C,FP\ncity_admin,x,assessor,C,FP\n",
                    "text/csv",
                )
            },
        )
        reply = client.post(reverse("score_item", args=["c", 2, "C111", "A1"]), _score_card(a1))
    assert reply.status_code in (302, 404)
    assert not me.roles.filter(role="assessor").exists()


# -- posts without the CSRF token ---------------------------------------------------------------


def test_no_everyday_write_is_taken_without_its_csrf_token(scoring, world, no_last_login):
    """Each route posted by the very person allowed to make it, without the token, with and
    without htmx's headers: refused (403), nothing written."""
    evidence = _attach(scoring, world)
    a1 = scoring["items"]["A1"]
    staff, fp0 = world.users["community_staff"], scoring["assessors"][0]
    attempts = [
        (staff, reverse("self_assessment_item", args=["c", "C111", "A1"]), _self_card(scoring)),
        (
            staff,
            reverse("self_assessment", args=["c"]),
            {"community": "C111", **_self_card(scoring)},
        ),
        (staff, reverse("evidence_remove", args=["c", evidence.public_id]), {"card": "A1"}),
        (fp0, reverse("score_item", args=["c", 2, "C111", "A1"]), _score_card(a1)),
        (fp0, reverse("score_community", args=["c", 2, "C111"]), _score_card(a1)),
        (
            world.users["county_officer"],
            reverse("round_detail", args=["c", 1]),
            {"combine_rule": "minimum", "covers": [scoring["enrollments"]["C111"].pk]},
        ),
    ]
    for user, url, data in attempts:
        for headers in ({}, {**HTMX, "HTTP_HX_TARGET": "card", "HTTP_X_CSRFTOKEN": "forged"}):
            with nothing_changes():
                reply = client_of(user, csrf=True).post(url, data, **headers)
            assert reply.status_code == 403, url


# -- name search: only in scope, and nothing told by a refusal ------------------------------------


def _suggested(user: Any, **query: str) -> str:
    return client_of(user).get(reverse("name_search"), query).content.decode()


@pytest.mark.parametrize(
    ("who", "seen", "unseen"),
    [
        ("community_staff", {"Community 111"}, {"Community 112", "Community 121", "Community 211"}),
        ("town_officer", {"Community 111", "Community 112"}, {"Community 121", "Community 211"}),
        ("other_town_officer", {"Community 121"}, {"Community 111", "Community 211"}),
        ("county_officer", {"Community 121", "Community 111"}, {"Community 211"}),
        ("viewer", {"Community 111", "Community 121"}, {"Community 211"}),
        ("assessor", {"Community 111"}, {"Community 211"}),
        ("other_staff", {"Community 211"}, {"Community 111", "Community 121"}),
        ("nobody", set(), {"Community 111", "Community 211"}),
    ],
)
def test_the_name_search_suggests_only_what_is_in_scope(world, who, seen, unseen):
    user = world.users[who]
    found = "".join(
        _suggested(user, q=text, **extra)
        for text in ("Community", "C", "c2", "1", "Town", "County")
        for extra in ({}, {"level": "community"}, {"level": "bogus"})
    )
    assert all(name in found for name in seen), found
    assert not any(name in found for name in unseen), found
    # Nobody outside: the other county, its town and its people.
    assert "County Two" not in found and "Town 21" not in found
    # People: those he may choose (himself, and those holding a role in what he manages).
    people = "".join(_suggested(user, q=t, kind="person") for t in ("staff", "officer", "o", "a"))
    outsiders = {"other_staff", "other_county_officer", "other_town_officer"} - {who}
    if who == "county_officer":
        outsiders.discard("other_town_officer")  # T12 lies in his county
    assert not any(f'value="{name} ' in people for name in outsiders), people
    assert client_of(None).get(reverse("name_search"), {"q": "C"}).status_code == 302


def test_a_name_outside_the_scope_reads_as_a_name_that_does_not_exist(world, no_last_login):
    """A community of the other county named as a town officer's own: typing the shared name
    in his boxes picks his own (no "names several"), and a name only the other county holds is
    refused exactly like a name nobody holds (no count, no ambiguity, nothing listed)."""
    from tests.factories import division

    division("C212", "Community 111", "community", world.d["T21"])  # same name, other county
    division("C213", "Riverside", "community", world.d["T21"])
    officer = world.users["town_officer"]
    client = client_of(officer)
    said = {}
    for text in ("Community 111", "Riverside", "Nowhere", "C213", "C999", "Riverside (C213)"):
        with nothing_changes():
            reply = client.get(reverse("audit_list"), {"division": text})
        form = reply.context["form"]
        said[text] = [str(m).replace(text, "X") for m in form.errors.get("division", [])]
    assert said["Community 111"] == []  # his own, whatever the other county holds
    assert said["Riverside"] == said["Nowhere"] == said["C213"] == said["C999"]
    assert said["Riverside (C213)"] == said["Nowhere"]
    # The same in a grant's division box (a manager's form).
    grants = {}
    for text in ("Riverside", "Nowhere", "C213"):
        with nothing_changes():
            reply = client.post(
                reverse("role_grant", args=[world.users["community_staff"].public_id]),
                {"role": "viewer", "division": text},
                follow=True,
            )
        grants[text] = " ".join(str(m) for m in reply.context["messages"]).replace(text, "X")
    assert grants["Riverside"] == grants["Nowhere"] == grants["C213"]
    assert "C212" not in str(grants) and "Town 21" not in str(grants)


# -- the audit log and its CSV ----------------------------------------------------------------------


def _self_score_in(scoring: Any, world: Any, code: str) -> None:
    from civicmark.assessments.services import SelfEntry, self_scores_save

    self_scores_save(
        actor=world.users["community_staff" if code == "C111" else "other_staff"],
        enrollment=scoring["enrollments"][code],
        entries=[SelfEntry(scoring["items"]["A1"], scoring["items"]["A1"].points, code)],
    )


def test_the_audit_log_and_its_csv_show_nothing_outside_the_readers_scope(
    scoring, world, no_last_login
):
    _self_score_in(scoring, world, "C111")
    _self_score_in(scoring, world, "C211")
    town = client_of(world.users["town_officer"])
    export = reverse("audit_export")
    whole = b"".join(town.get(export).streaming_content).decode("utf-8-sig")
    assert "Community 111" in whole and "Community 211" not in whole
    # Filters never widen: the other county by code or name, its staff, a date range.
    for query in (
        {"division": "C211"},
        {"division": "Community 211"},
        {"division": "K2"},
        {"division": "C"},  # the city, above him
        {"person": "other_staff"},
        {"person": "other"},
        {"kind": "self_score.saved", "person": "other_staff"},
        {"date_from": "2000-01-01", "date_to": "2100-01-01", "division": "T21"},
    ):
        with nothing_changes():
            reply = town.get(export, query)
        body = (
            b"".join(reply.streaming_content).decode("utf-8-sig")
            if reply.streaming
            else reply.content.decode()
        )
        # What he typed is shown back to him; nothing else of the other county is.
        for typed in query.values():
            body = body.replace(typed, "")
        assert "Community 211" not in body and "Town 21" not in body, query
        if reply.streaming:
            assert "C211" not in body and "other_staff" not in body, query
        page = town.get(reverse("audit_list"), query).content.decode()
        for typed in query.values():
            page = page.replace(typed, "")
        assert "Community 211" not in page and "Town 21" not in page, query
    for who in ("community_staff", "other_staff", "viewer", "assessor", "nobody"):
        client = client_of(world.users[who])
        assert client.get(export).status_code == 404, who
        assert client.get(reverse("audit_list")).status_code == 404, who
    assert client_of(None).get(export).status_code == 302


# -- to-do counts and key figures ------------------------------------------------------------------


def _todos(user: Any) -> dict[str, Any]:
    reply = client_of(user).get(reverse("home"))
    found: dict[str, Any] = {}
    for section in reply.context["work"]:
        for todo in section["todos"]:
            found[todo.key] = todo
        for figure in section["figures"]:
            found[str(figure.label)] = figure.value
    found["_page"] = reply.content.decode()
    return found


def test_to_do_counts_and_key_figures_count_nothing_outside_the_scope(
    scoring, world, no_last_login
):
    from civicmark.divisions.models import Department

    e = scoring["enrollments"]
    for code, status in (
        ("C111", "submitted"),
        ("C121", "submitted"),
        ("C211", "submitted"),
        ("C112", "town_reviewed"),
    ):
        e[code].status = status
        e[code].save(update_fields=["status"])
    town = _todos(world.users["town_officer"])
    assert town["to_review"].count == 1
    assert [line.text for line in town["to_review"].lines] == ["Community 111"]
    assert "Community 211" not in town["_page"] and "Community 121" not in town["_page"]
    other = _todos(world.users["other_town_officer"])
    assert other["to_review"].count == 1 and "Community 111" not in other["_page"]
    county = _todos(world.users["county_officer"])
    assert county["to_pre_accept"].count == 1 and "Community 211" not in county["_page"]
    # A county's FP assessor (a city department, appointed in K1): his communities only.
    k1fp = person("k1fp", "assessor", world.d["K1"], department=Department.objects.get(code="FP"))
    mine = _todos(k1fp)
    assert mine["to_score"].count == 3, mine["to_score"]
    # One who only reads: the campaign at a glance, his county's figures.
    viewer = _todos(world.users["viewer"])
    assert viewer["Communities enrolled"] == 3
    page = client_of(world.users["viewer"]).get(reverse("dashboard", args=["c"]))
    figures = {f.key: f.value for f in page.context["figures"]}
    assert figures["enrolled"] == 3, figures
    # The staff of a community: his own self-assessment and nothing of anyone else's.
    staff = _todos(world.users["other_staff"])
    assert "Community 111" not in staff["_page"] and "Community 121" not in staff["_page"]
