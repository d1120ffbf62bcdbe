"""The report upward (上报, issue 18 item 6, ADR 25): the county reports its pre-accepted
communities to the city with a statement; the report keeps what it reported and its PDF and list,
made from that record, which the county and the city download, and no one else."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from civicmark.assessments.models import Transition
from civicmark.assessments.services import round_reopen
from civicmark.assessments.workflow import State, TransitionRefused, transition_apply
from civicmark.campaigns.models import Enrollment
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.core.models import AuditEvent
from civicmark.divisions.models import Division
from civicmark.results import upward, upward_documents
from civicmark.results.models import ReportedCommunity, UpwardDocument, UpwardReport
from civicmark.scoring.models import Score
from tests.factories import report_upward
from tests.test_pdf_names import drawn
from tests.test_workflow import pass_round

STATEMENT = "经县级预验收，以下社区总分均达到80分以上，达到示范社区标准。\n现予上报，请组织验收。"


def status(s, code):  # noqa: ANN001, ANN201
    return Enrollment.objects.get(pk=s["enrollments"][code].pk).status


def pre_accepted(s, codes):  # noqa: ANN001, ANN201
    """The communities pre-accepted by the county after its finalised round passed them;
    Community 112 lost ten points on B1 (a total of 90, 100 for the others)."""
    Enrollment.objects.filter(pk__in=[s["enrollments"][c].pk for c in codes]).update(
        status=State.COUNTY_PRE_ACCEPTED
    )
    for code in codes:
        pass_round(s, 1, code)
    Score.objects.filter(
        round__number=1, enrollment=s["enrollments"]["C112"], item=s["items"]["B1"]
    ).update(points=Decimal(10))


def nothing_changed(s, codes, events):  # noqa: ANN001, ANN201
    assert all(status(s, c) == State.COUNTY_PRE_ACCEPTED for c in codes)
    assert not UpwardReport.objects.exists() and not ReportedCommunity.objects.exists()
    assert not UpwardDocument.objects.exists()
    assert AuditEvent.objects.count() == events


def stored(document):  # noqa: ANN001, ANN201
    with default_storage.open(document.path, "rb") as f:
        return f.read()


@pytest.fixture
def ready(scoring, world):  # noqa: ANN001, ANN201
    pre_accepted(scoring, ["C111", "C112", "C121"])
    return scoring


# --- the report and its record -------------------------------------------------------------------


def test_it_reports_the_communities_and_keeps_what_it_reported(ready, world):
    s, officer = ready, world.users["county_officer"]
    report = report_upward(s, officer, ["C121", "C111", "C112"], statement="  " + STATEMENT + " ")
    assert {status(s, c) for c in ("C111", "C112", "C121")} == {State.REPORTED}
    assert (report.number, report.county, report.county_name) == (1, world.d["K1"], "County One")
    assert report.statement == STATEMENT  # trimmed, its lines kept
    assert report.addressee == "City" and report.reported_by == officer
    lines = list(report.lines.values_list("position", "code", "town", "total", "outcome", "level"))
    assert lines == [  # in the order of the tree, whatever the order ticked
        (1, "C111", "Town 11", Decimal("100.00"), "standard_unit", "advanced"),
        (2, "C112", "Town 11", Decimal("90.00"), "standard_unit", "advanced"),
        (3, "C121", "Town 12", Decimal("100.00"), "standard_unit", "advanced"),
    ]
    assert set(report.lines.values_list("round_name", flat=True)) == {
        s["campaign"].rounds.get(number=1).name
    }
    assert report.documents == "ready" and report.failure == ""
    files = {f.kind: f for f in report.files.all()}
    assert set(files) == {"pdf", "xlsx"}
    for f in files.values():
        payload = stored(f)
        assert hashlib.sha256(payload).hexdigest() == f.sha256 and len(payload) == f.size
    assert stored(files["pdf"]).startswith(b"%PDF-")
    steps = Transition.objects.filter(to_status=State.REPORTED)
    assert steps.count() == 3 and {t.actor for t in steps} == {officer}


def test_it_writes_one_audit_event_with_the_communities_statement_and_hashes(ready, world):
    report = report_upward(ready, world.users["county_officer"], ["C111", "C112"])
    event = AuditEvent.objects.get(action="upward.reported")
    assert event.actor == world.users["county_officer"]
    assert event.object_ref == str(report.public_id) and event.scope_path == world.d["K1"].path
    assert event.after["communities"] == ["C111", "C112"]
    assert event.after["statement"] == report.statement and event.after["documents"] == "ready"
    assert event.after["pdf_sha256"] == report.files.get(kind="pdf").sha256
    assert event.after["xlsx_sha256"] == report.files.get(kind="xlsx").sha256
    assert AuditEvent.objects.filter(action="workflow.transition").count() == 2


def test_a_second_report_of_the_county_is_its_number_two(ready, world):
    officer = world.users["county_officer"]
    first = report_upward(ready, officer, ["C111"])
    second = report_upward(ready, officer, ["C112", "C121"])
    assert (first.number, second.number) == (1, 2)
    assert list(second.lines.values_list("code", flat=True)) == ["C112", "C121"]


def test_the_pdf_says_who_reports_what_to_whom_with_the_scores(ready, world):
    report = report_upward(
        ready, world.users["county_officer"], ["C111", "C112", "C121"], statement=STATEMENT
    )
    payload = stored(report.files.get(kind="pdf"))
    # The embedded font draws every character of every name and of the statement.
    text = STATEMENT + "".join(report.lines.values_list("name", flat=True)) + "County One"
    assert set(text.replace("\n", "")) <= drawn(payload) | {" "}
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils is installed by .ci/run")
    shown = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=payload, capture_output=True, check=True
    ).stdout.decode()
    for expected in ("County One", "City", "现予上报，请组织验收。", "Community 111", "Town 12"):
        assert expected in shown
    assert "90.00" in shown and shown.count("100.00") == 2
    assert "2026" in shown  # the date beside the seal


def test_the_list_has_the_rows_of_the_reported_communities(ready, world):
    report = report_upward(
        ready, world.users["county_officer"], ["C111", "C112", "C121"], statement=STATEMENT
    )
    book = load_workbook(io.BytesIO(stored(report.files.get(kind="xlsx"))))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 1 + 3
    assert [(r[0], r[1], r[2], r[3], r[5]) for r in rows[1:]] == [
        (line.position, line.code, line.name, line.town, float(line.total))
        for line in report.lines.order_by("position")
    ]
    notes = dict(book.worksheets[1].iter_rows(values_only=True))
    assert STATEMENT in notes.values() and "County One" in notes.values()


def test_the_same_record_makes_the_same_pdf(ready, world):
    """Documents are made from the record alone: made again, the PDF is the very same file."""
    report = report_upward(ready, world.users["county_officer"], ["C111", "C112"])
    Division.objects.filter(code="C111").update(name="Renamed since")  # the record keeps its name
    lines = list(report.lines.order_by("position"))
    again = upward_documents.report_pdf(report, lines)
    assert hashlib.sha256(again).hexdigest() == report.files.get(kind="pdf").sha256


def test_a_long_name_wraps_in_its_cell_and_prints_whole(ready, world):
    long_name = "滨河新城第一期回迁安置小区东片与西片联合社区居民委员会所辖社区" * 2
    Division.objects.filter(code="C111").update(name=long_name)
    report = report_upward(ready, world.users["county_officer"], ["C111", "C112"])
    payload = stored(report.files.get(kind="pdf"))
    assert set(long_name) <= drawn(payload)
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils is installed by .ci/run")
    shown = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=payload, capture_output=True, check=True
    ).stdout.decode()
    assert long_name not in shown  # not one line running off the page: wrapped in its cell
    assert long_name[:8] in shown and long_name[-8:] in shown


# --- refusals: the step, the county, the statement ---------------------------------------------------


def test_no_page_or_command_takes_the_step_without_the_report(ready, world):
    events = AuditEvent.objects.count()
    with pytest.raises(TransitionRefused) as refused:
        transition_apply(
            actor=world.users["county_officer"],
            campaign=ready["campaign"],
            enrollments=[ready["enrollments"]["C111"]],
            to=State.REPORTED,
        )
    assert "Community 111" in str(refused.value)
    nothing_changed(ready, ["C111"], events)


@pytest.mark.parametrize(
    "who", ["city_admin", "town_officer", "community_staff", "assessor", "viewer", "nobody"]
)
def test_only_the_countys_officer_reports_it(ready, world, who):
    events = AuditEvent.objects.count()
    with pytest.raises(NotAllowed):
        report_upward(ready, world.users[who], ["C111"])
    nothing_changed(ready, ["C111"], events)


def test_another_countys_officer_cannot_report_it(ready, world):
    events = AuditEvent.objects.count()
    with pytest.raises(NotAllowed):
        report_upward(ready, world.users["other_county_officer"], ["C111"])
    with pytest.raises(ApplicationError):  # nor its communities as his county's
        report_upward(ready, world.users["other_county_officer"], ["C111"], county="K2")
    nothing_changed(ready, ["C111"], events)


def test_it_reports_all_or_nothing(ready, world):
    Enrollment.objects.filter(pk=ready["enrollments"]["C121"].pk).update(status=State.TOWN_REVIEWED)
    events = AuditEvent.objects.count()
    with pytest.raises(TransitionRefused) as refused:
        report_upward(ready, world.users["county_officer"], ["C111", "C121"])
    assert [r.community for r in refused.value.refusals] == ["Community 121"]
    nothing_changed(ready, ["C111"], events)


def test_it_refuses_a_community_whose_county_round_was_reopened(ready, world):
    """The report prints the finalised county round's result: reopened, it may still change."""
    round1 = ready["campaign"].rounds.get(number=1)
    round_reopen(actor=world.users["city_admin"], round_=round1, reason="复核")
    events = AuditEvent.objects.count()
    with pytest.raises(TransitionRefused):
        report_upward(ready, world.users["county_officer"], ["C111"])
    nothing_changed(ready, ["C111"], events)


@pytest.mark.parametrize(
    ("statement", "says"),
    [
        ("", "Write the county's statement"),
        ("  \n ", "Write the county's statement"),
        ("报" * (upward.STATEMENT_MAX + 1), "keep it to 2000"),
        ("现予上报 👍", "cannot print"),
    ],
)
def test_it_refuses_a_statement_it_cannot_keep_and_changes_nothing(ready, world, statement, says):
    events = AuditEvent.objects.count()
    with pytest.raises(ApplicationError) as refused, translation.override("en"):
        report_upward(ready, world.users["county_officer"], ["C111"], statement=statement)
    assert refused.value.code == "statement" and says in refused.value.message
    nothing_changed(ready, ["C111"], events)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(alphabet=st.sampled_from("上报社区合格，。 \n\tAb1" + "👍\U00020000"), max_size=2100)
)
def test_a_statement_is_kept_exactly_when_it_has_text_fits_and_prints(text):
    printable = not ({"👍", "\U00020000"} & set(text))
    keeps = bool(text.strip()) and len(text.strip()) <= upward.STATEMENT_MAX and printable
    try:
        kept = upward.clean_statement(text)
    except ApplicationError as refused:
        assert not keeps and refused.code == "statement"
    else:
        assert keeps and kept == text.strip()


# --- documents that could not be made --------------------------------------------------------------


def test_a_report_whose_documents_fail_says_so_and_is_made_good_from_its_record(
    ready, world, monkeypatch
):
    officer = world.users["county_officer"]
    real = upward_documents.report_xlsx

    def full_disk(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(upward_documents, "report_xlsx", full_disk)
    report = report_upward(ready, officer, ["C111", "C112"])
    # The step and the record stand; the report says its documents are missing, and why.
    assert {status(ready, c) for c in ("C111", "C112")} == {State.REPORTED}
    assert report.documents == "failed" and "No space left" in report.failure
    assert not report.files.exists()
    assert not default_storage.exists(f"upward/{report.public_id.hex}")  # no half of them kept
    event = AuditEvent.objects.get(action="upward.reported")
    assert event.after["documents"] == "failed" and "pdf_sha256" not in event.after
    monkeypatch.setattr(upward_documents, "report_xlsx", real)
    Division.objects.filter(code="C111").update(name="Renamed since")
    upward.report_rebuild(actor=world.users["city_admin"], report=report)
    report.refresh_from_db()
    assert report.documents == "ready" and report.failure == ""
    book = load_workbook(io.BytesIO(stored(report.files.get(kind="xlsx"))))
    names = [r[2] for r in book.worksheets[0].iter_rows(min_row=2, values_only=True)]
    assert names == ["Community 111", "Community 112"]  # the record's, not today's
    rebuilt = AuditEvent.objects.get(action="upward.rebuilt")
    assert rebuilt.before["documents"] == "failed" and rebuilt.after["documents"] == "ready"
    # Made, they are kept: never made again.
    events = AuditEvent.objects.count()
    shas = sorted(report.files.values_list("sha256", flat=True))
    with pytest.raises(ApplicationError):
        upward.report_rebuild(actor=officer, report=report)
    assert sorted(report.files.values_list("sha256", flat=True)) == shas
    assert AuditEvent.objects.count() == events


def test_a_name_the_font_cannot_print_leaves_the_report_saying_so(ready, world):
    Division.objects.filter(code="C112").update(name="\U00020000社区")  # Extension B
    report = report_upward(ready, world.users["county_officer"], ["C111", "C112"])
    assert status(ready, "C112") == State.REPORTED
    assert report.documents == "failed" and "\U00020000" in report.failure


def test_only_the_county_and_the_city_make_failed_documents_again(ready, world):
    report = report_upward(ready, world.users["county_officer"], ["C111"])
    UpwardDocument.objects.filter(report=report).delete()
    UpwardReport.objects.filter(pk=report.pk).update(documents="failed", failure="x")
    events = AuditEvent.objects.count()
    for who in ("other_county_officer", "town_officer", "community_staff", "viewer", "nobody"):
        with pytest.raises(NotAllowed):
            upward.report_rebuild(actor=world.users[who], report=report)
    assert not UpwardDocument.objects.exists() and AuditEvent.objects.count() == events


def test_the_command_reports_through_the_same_service(ready, world):
    from io import StringIO

    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError):
        call_command(
            "report-upward", "c", "--county", "K1", "--all", "--statement", " ",
            "--user", "county_officer",
        )  # fmt: skip
    assert not UpwardReport.objects.exists()
    out = StringIO()
    call_command(
        "report-upward", "c", "--county", "County One", "--communities", "C111,Community 112",
        "--statement", STATEMENT, "--user", "county_officer", stdout=out,
    )  # fmt: skip
    report = UpwardReport.objects.get()
    assert list(report.lines.values_list("code", flat=True)) == ["C111", "C112"]
    assert "documents ready" in out.getvalue()
    assert AuditEvent.objects.get(action="upward.reported").via == "cli"
    with pytest.raises(CommandError):  # another county's officer names no county of his
        call_command(
            "report-upward", "c", "--county", "K1", "--all", "--statement", STATEMENT,
            "--user", "other_county_officer",
        )  # fmt: skip
