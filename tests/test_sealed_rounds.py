"""Signed off means sealed (issue 14): after a round is finalised nothing that it judged changes
(scores, vetoes, the evidence of its items, signed employment figures) until its lead reopens it
with a reason; evidence already judged is kept as it was, a later upload is a new version."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from civicmark.assessments.models import Evidence
from civicmark.assessments.services import (
    evidence_attach,
    round_reopen,
    score_save,
    veto_finding_record,
)
from civicmark.campaigns.models import Enrollment
from civicmark.core.errors import ApplicationError, ImportRefused
from civicmark.core.models import AuditEvent
from civicmark.scoring.models import Score, VetoFinding

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # noqa: ANN001, ANN202
    settings.MEDIA_ROOT = tmp_path / "media"


def stored_files(settings) -> list[str]:  # noqa: ANN001
    root = settings.MEDIA_ROOT
    return sorted(str(p) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def finalise(s, *numbers: int) -> None:  # noqa: ANN001
    """Set-up: the rounds signed off (finalising through the service has its own tests)."""
    s["campaign"].rounds.filter(number__in=numbers).update(finalised_at=timezone.now())


def set_status(s, code: str, status: str) -> Enrollment:  # noqa: ANN001
    Enrollment.objects.filter(pk=s["enrollments"][code].pk).update(status=status)
    return Enrollment.objects.select_related("community", "campaign").get(
        pk=s["enrollments"][code].pk
    )


def attach(world, enrollment, items, name="台账.pdf", supersedes=None):  # noqa: ANN001, ANN201
    version = {} if supersedes is None else {"supersedes": supersedes}
    return evidence_attach(
        actor=world.users["community_staff"],
        enrollment=enrollment,
        items=items,
        upload=SimpleUploadedFile(name, PDF),
        **version,
    )


def round_(s, number):  # noqa: ANN001, ANN201
    return s["campaign"].rounds.get(number=number)


# --- Evidence: when it may still be attached ---------------------------------------------------


def test_it_refuses_evidence_for_a_proposed_community_after_both_rounds_are_signed_off(
    scoring, world, settings
):
    s = scoring
    enrollment = set_status(s, "C111", "proposed")
    finalise(s, 1, 2)
    events = AuditEvent.objects.count()
    with pytest.raises(ApplicationError):
        attach(world, enrollment, [s["items"]["A1"]])
    assert not Evidence.objects.exists()
    assert AuditEvent.objects.count() == events
    assert stored_files(settings) == []  # the refused upload left no file behind


def test_a_proposed_or_commended_community_takes_no_evidence_even_under_an_open_round(
    scoring, world
):
    s = scoring
    for state in ("proposed", "commended"):
        enrollment = set_status(s, "C111", state)  # rounds 1 and 2 (open) list it
        with pytest.raises(ApplicationError):
            attach(world, enrollment, [s["items"]["A1"]])
    assert not Evidence.objects.exists()


def test_it_refuses_evidence_once_every_round_covering_it_is_signed_off_until_one_is_reopened(
    scoring, world
):
    s = scoring
    # A standard unit after July: rounds 1 and 2 cover it, November's round does not.
    enrollment = set_status(s, "C111", "standard_unit")
    finalise(s, 1, 2)
    with pytest.raises(ApplicationError):
        attach(world, enrollment, [s["items"]["A1"]])
    assert not Evidence.objects.exists()
    round_reopen(actor=world.users["city_admin"], round_=round_(s, 2), reason="A1 录入错误")
    attach(world, enrollment, [s["items"]["A1"]])
    assert Evidence.objects.count() == 1


def test_it_accepts_evidence_while_it_is_gathered_and_while_an_open_round_covers_it(scoring, world):
    s = scoring
    for state in ("enrolled", "self_assessing", "returned"):
        attach(world, set_status(s, "C111", state), [s["items"]["A1"]])
    # Reported to the city: the county round is signed off, the July round still open.
    finalise(s, 1)
    attach(world, set_status(s, "C111", "reported"), [s["items"]["A1"]])
    # Not reached in July: November's round covers it and is open.
    finalise(s, 2)
    attach(world, set_status(s, "C111", "rectifying"), [s["items"]["A1"]])
    assert Evidence.objects.count() == 5


def test_it_refuses_evidence_after_submission_while_no_round_covers_it(scoring, world):
    s = scoring
    for r in s["campaign"].rounds.all():
        r.covers.clear()  # the default coverage: the town has not reviewed it yet
    enrollment = set_status(s, "C111", "submitted")
    with pytest.raises(ApplicationError):
        attach(world, enrollment, [s["items"]["A1"]])
    # Reviewed by the town: the county round covers it now.
    attach(world, set_status(s, "C111", "town_reviewed"), [s["items"]["A1"]])
    assert Evidence.objects.count() == 1


# --- Evidence: a later upload is a new version ------------------------------------------------


def test_a_later_upload_is_a_new_version_and_the_judged_one_stays_downloadable(
    scoring, world, client_for
):
    s = scoring
    enrollment = set_status(s, "C111", "rectifying")
    first = attach(world, enrollment, [s["items"]["A1"], s["items"]["B1"]], name="台账v1.pdf")
    finalise(s, 1, 2)
    # The new version proves the same items unless others are chosen.
    second = attach(world, enrollment, [], name="台账v2.pdf", supersedes=first)
    assert second.supersedes == first and first.superseded_by == second
    assert sorted(second.items.values_list("code", flat=True)) == ["A1", "B1"]
    assert Evidence.objects.count() == 2
    event = AuditEvent.objects.filter(action="evidence.added").latest("id")
    assert event.after["supersedes"] == str(first.public_id)
    assessor = client_for(s["assessors"][0])
    old = assessor.get(reverse("evidence_file", args=["c", first.public_id]))
    assert old.status_code == 200 and b"".join(old.streaming_content) == PDF
    # A version is superseded once: a third upload supersedes the newest.
    with pytest.raises(ApplicationError):
        attach(world, enrollment, [], name="台账v3.pdf", supersedes=first)
    assert Evidence.objects.count() == 2


def test_a_new_version_belongs_to_the_same_community(scoring, world):
    from tests.factories import person

    s = scoring
    theirs = evidence_attach(
        actor=person("c112staff", "community_staff", world.d["C112"]),
        enrollment=s["enrollments"]["C112"],
        items=[s["items"]["A1"]],
        upload=SimpleUploadedFile("x.pdf", PDF),
    )
    with pytest.raises(ApplicationError):
        attach(world, s["enrollments"]["C111"], [s["items"]["A1"]], supersedes=theirs)
    assert Evidence.objects.count() == 1


def test_the_assessors_page_shows_which_version_the_signed_off_round_judged(
    scoring, world, client_for
):
    s = scoring
    enrollment = set_status(s, "C111", "not_reached")
    judged = attach(world, enrollment, [s["items"]["A1"]], name="judged.pdf")
    finalise(s, 2)
    newer = attach(world, enrollment, [], name="newer.pdf", supersedes=judged)
    page = client_for(s["assessors"][0]).get(reverse("score_community", args=["c", 2, "C111"]))
    html = page.content.decode()
    assert page.status_code == 200 and "judged.pdf" in html and "newer.pdf" in html
    assert html.count('data-testid="evidence-after-judgement"') == 1
    marked = html.split('data-testid="evidence-after-judgement"')[0].rsplit("<a ", 1)[1]
    assert str(newer.public_id) in marked
    assert f'data-testid="superseded-by-{newer.public_id}"' in html


# --- Employment figures -------------------------------------------------------------------------


@pytest.fixture
def labour(scoring, world):  # noqa: ANN001, ANN201
    from civicmark.divisions.models import Department
    from tests.factories import person

    department = Department.objects.create(code="LABOUR", name="劳动局", division=world.d["C"])
    scoring["standard"].items.filter(code="B1").update(department=department)
    return person("labour1", "assessor", world.d["C"], department=department)


def test_a_labour_assessor_cannot_sign_figures_into_a_signed_off_round(scoring, world, labour):
    from civicmark.employment.models import IndicatorSnapshot
    from civicmark.employment.services import figures_sign

    s = scoring
    finalise(s, 2)
    events = AuditEvent.objects.count()
    with pytest.raises(ApplicationError):
        figures_sign(
            actor=labour,
            round_=round_(s, 2),
            enrollment=s["enrollments"]["C111"],
            today=dt.date(2026, 7, 15),
        )
    assert not IndicatorSnapshot.objects.exists()
    assert AuditEvent.objects.count() == events
    round_reopen(actor=world.users["city_admin"], round_=round_(s, 2), reason="补签就业数据")
    figures_sign(
        actor=labour,
        round_=round_(s, 2),
        enrollment=s["enrollments"]["C111"],
        today=dt.date(2026, 7, 15),
    )
    assert IndicatorSnapshot.objects.count() == 1


# --- Scores and vetoes, on every channel --------------------------------------------------------


def test_scores_and_vetoes_of_a_signed_off_round_change_on_no_channel(scoring, client_for):
    from civicmark.assessments.sheets import export_sheet, import_sheet
    from civicmark.divisions.models import Department

    s = scoring
    fp0 = s["assessors"][0]
    r2 = round_(s, 2)
    score = score_save(
        actor=fp0,
        round_=r2,
        enrollment=s["enrollments"]["C111"],
        item=s["items"]["A1"],
        points=Decimal(28),
        reason="缺",
    )
    sheet = export_sheet(round_=r2, department=Department.objects.get(code="FP"), assessor=fp0)
    finalise(s, 2)
    r2.refresh_from_db()
    events = AuditEvent.objects.count()
    with pytest.raises(ApplicationError):
        score_save(
            actor=fp0,
            round_=r2,
            enrollment=s["enrollments"]["C111"],
            item=s["items"]["A1"],
            points=Decimal(30),
            expected_version=score.version,
        )
    with pytest.raises(ApplicationError):
        veto_finding_record(
            actor=fp0,
            round_=r2,
            enrollment=s["enrollments"]["C111"],
            veto=s["standard"].vetoes.get(code="V1"),
            reason="x",
        )
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(sheet))
    book["scores"]["F2"] = 30
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(ImportRefused):
        import_sheet(actor=fp0, data=out.getvalue())
    page = client_for(fp0).post(
        reverse("score_community", args=["c", 2, "C111"]),
        {
            f"i{s['items']['A1'].pk}-points": "30",
            f"i{s['items']['A1'].pk}-version": str(score.version),
        },
    )
    assert page.status_code in (200, 302)
    score.refresh_from_db()
    assert (score.points, score.version) == (28, 1)
    assert not VetoFinding.objects.exists()
    assert AuditEvent.objects.count() == events


def test_a_score_save_that_started_before_the_sign_off_is_refused(scoring):
    """The round object a request loaded may be older than the sign-off: the writer checks the
    seal again inside its transaction."""
    s = scoring
    stale = round_(s, 2)  # loaded while open
    finalise(s, 2)
    with pytest.raises(ApplicationError):
        score_save(
            actor=s["assessors"][0],
            round_=stale,
            enrollment=s["enrollments"]["C111"],
            item=s["items"]["A1"],
            points=Decimal(30),
        )
    assert not Score.objects.exists()


def test_the_self_assessment_page_uploads_a_new_version_and_hides_the_form_when_sealed(
    scoring, world, client_for
):
    s = scoring
    enrollment = set_status(s, "C111", "rectifying")
    first = attach(world, enrollment, [s["items"]["A1"]], name="v1.pdf")
    staff = client_for(world.users["community_staff"])
    url = reverse("self_assessment", args=["c"])
    page = staff.get(url + "?community=C111").content.decode()
    assert 'name="supersedes"' in page and str(first.public_id) in page
    # A made-up document to replace: refused with a message, nothing stored.
    staff.post(
        url,
        {
            "community": "C111",
            "action": "evidence",
            "supersedes": "not-a-uuid",
            "file": SimpleUploadedFile("v2.pdf", PDF),
        },
    )
    assert Evidence.objects.count() == 1
    staff.post(
        url,
        {
            "community": "C111",
            "action": "evidence",
            "supersedes": str(first.public_id),
            "file": SimpleUploadedFile("v2.pdf", PDF),
        },
    )
    second = Evidence.objects.exclude(pk=first.pk).get()
    assert second.supersedes == first and second.name == "v2.pdf"
    page = staff.get(url + "?community=C111").content.decode()
    assert f'data-testid="superseded-by-{second.public_id}"' in page
    # Every round that covers it signed off (and it is proposed): no form, and a post is refused.
    set_status(s, "C111", "proposed")
    finalise(s, 1, 2, 3)
    page = staff.get(url + "?community=C111").content.decode()
    assert 'name="supersedes"' not in page and 'name="file"' not in page
    staff.post(
        url,
        {
            "community": "C111",
            "action": "evidence",
            "items": [s["items"]["A1"].pk],
            "file": SimpleUploadedFile("v3.pdf", PDF),
        },
    )
    assert Evidence.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_sign_off_waits_for_score_writes_under_way_and_writers_do_not_wait_for_each_other(
    scoring,
):
    """PostgreSQL: the seal's lock (SQLite runs one write transaction at a time anyway)."""
    import threading

    from django.db import connection, connections, transaction

    from civicmark.assessments import sealing

    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one write transaction at a time")
    r2 = round_(scoring, 2)
    writing, release, signed = threading.Event(), threading.Event(), threading.Event()

    def writer() -> None:
        try:
            with transaction.atomic():
                sealing.hold_for_writing(r2)
                writing.set()
                release.wait(10)
        finally:
            connections.close_all()

    def other_writer() -> None:
        try:
            with transaction.atomic():
                sealing.hold_for_writing(r2)  # shared: does not wait for the first writer
        finally:
            connections.close_all()

    def sign_off() -> None:
        try:
            with transaction.atomic():
                sealing.hold_for_sign_off(r2)
                signed.set()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer)]
    threads[0].start()
    assert writing.wait(10)
    second = threading.Thread(target=other_writer)
    second.start()
    second.join(5)
    assert not second.is_alive()
    threads.append(threading.Thread(target=sign_off))
    threads[1].start()
    assert not signed.wait(0.5)  # the sign-off waits for the write under way
    release.set()
    assert signed.wait(10)
    for t in threads:
        t.join(10)


# --- Coverage ----------------------------------------------------------------------------------


def test_a_signed_off_rounds_coverage_does_not_follow_the_workflow_any_more(scoring, world):
    """A round that lists no communities covers those in its workflow states; once signed off
    it covers the ones it judged, whatever the workflow does with the others since."""
    from civicmark.assessments import panels
    from civicmark.assessments.services import round_finalise
    from civicmark.results.summary import results_for

    s = scoring
    r2 = round_(s, 2)
    r2.covers.clear()  # the default: communities reported to the city
    set_status(s, "C111", "reported")
    for item in s["items"].values():
        score_save(
            actor=s["assessors"][0],
            round_=r2,
            enrollment=s["enrollments"]["C111"],
            item=item,
            points=item.points,
        )
    round_finalise(actor=world.users["city_admin"], round_=round_(s, 2))
    # After the sign-off, C112 is reported to the city too (late).
    c112 = set_status(s, "C112", "reported")
    r2 = round_(s, 2)
    assert set(panels.covered(r2).values_list("community__code", flat=True)) == {"C111"}
    assert not panels.is_covered(round_(s, 2), c112.pk, status=c112.status)
    shown = results_for(round_(s, 2), world.users["city_admin"])
    assert set(shown.values_list("enrollment__community__code", flat=True)) == {"C111"}
    # Reopened, the round follows the workflow again (and C112 may be scored in it).
    round_reopen(actor=world.users["city_admin"], round_=round_(s, 2), reason="补验 C112")
    assert panels.is_covered(round_(s, 2), c112.pk, status=c112.status)


def test_the_page_marks_evidence_after_a_county_parts_sign_off(scoring, world, client_for):
    """The county round of a city's campaign is signed off county by county (ADR 12): a
    document uploaded after K1's part was signed off is marked on that round's page."""
    from civicmark.campaigns.models import RoundPart
    from tests.factories import person

    s = scoring
    enrollment = set_status(s, "C111", "reported")  # July's round (open) covers it
    judged = attach(world, enrollment, [s["items"]["A1"]], name="judged.pdf")
    RoundPart.objects.create(round=round_(s, 1), county=world.d["K1"], finalised_at=timezone.now())
    newer = attach(world, enrollment, [], name="newer.pdf", supersedes=judged)
    k1 = person("k1fp", "assessor", world.d["K1"], department=world.dept["FP"])
    html = client_for(k1).get(reverse("score_community", args=["c", 1, "C111"])).content.decode()
    assert "judged.pdf" in html and html.count('data-testid="evidence-after-judgement"') == 1
    marked = html.split('data-testid="evidence-after-judgement"')[0].rsplit("<a ", 1)[1]
    assert str(newer.public_id) in marked


def test_the_result_page_lists_the_evidence_and_marks_what_came_after_the_sign_off(
    scoring, world, client_for
):
    s = scoring
    enrollment = set_status(s, "C111", "not_reached")  # November's round (open) covers it
    judged = attach(world, enrollment, [s["items"]["A1"]], name="judged.pdf")
    finalise(s, 2)
    newer = attach(world, enrollment, [], name="newer.pdf", supersedes=judged)
    url = reverse("community_result", args=["c", 2, "C111"])
    html = client_for(world.users["city_admin"]).get(url).content.decode()
    table = html.split('data-testid="evidence"')[1].split("</table>")[0]
    assert "judged.pdf" in table and "newer.pdf" in table
    assert table.count('data-testid="evidence-after-judgement"') == 1
    marked = table.split('data-testid="evidence-after-judgement"')[0].rsplit("<a ", 1)[1]
    assert str(newer.public_id) in marked and "newer.pdf" in marked
    assert f'data-testid="superseded-by-{newer.public_id}"' in table
