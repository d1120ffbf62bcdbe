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

from civicmark.assessments.models import Evidence
from civicmark.assessments.services import evidence_attach
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
