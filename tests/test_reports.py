"""Dashboards, rankings, spreadsheets, PDFs, certificates and the public verification page, on
the demo campaign, each number checked against a direct computation."""

from __future__ import annotations

import io
import shutil
import subprocess
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from civicmark.accounts.models import User
from civicmark.assessments import panels
from civicmark.assessments.models import Rectification
from civicmark.campaigns.models import Task
from civicmark.core.models import AuditEvent
from civicmark.results import dashboards
from civicmark.scoring.models import Score, Settlement, VetoFinding
from civicmark.scoring.rules import (
    CategoryInput,
    ItemInput,
    Outcome,
    Rule,
    TableInput,
    score,
)


def direct_result(round_, enrollment):  # noqa: ANN001, ANN201
    """The reference rules on the raw scores of one community, read one by one: no aggregate
    query, no carry-over (used for rounds that carry nothing). A settlement (a lead's, or an
    appeal's decision: the demo changes 东关社区's I2 in July) replaces its item's combination."""
    standard = round_.campaign.standard
    table = TableInput(
        standard.total_points,
        standard.pass_threshold,
        tuple(CategoryInput(c.code, c.points, c.min_points) for c in standard.categories.all()),
        tuple((lv.name, lv.min_score) for lv in standard.levels.all()),
    )
    by_item = defaultdict(list)
    na = defaultdict(list)
    for s in Score.objects.filter(round=round_, enrollment=enrollment):
        (na if s.not_applicable else by_item)[s.item_id].append(s.points)
    settled = {t.item_id: t for t in Settlement.objects.filter(round=round_, enrollment=enrollment)}
    items = [
        ItemInput(
            i.code,
            i.category.code,
            i.points,
            tuple(by_item[i.pk]),
            bool(na[i.pk]) and not by_item[i.pk],
            settled=settled[i.pk].points if i.pk in settled else None,
            settled_na=i.pk in settled and settled[i.pk].not_applicable,
        )
        for i in standard.items.select_related("category")
    ]
    vetoes = VetoFinding.objects.filter(round=round_, enrollment=enrollment).count()
    return score(table, items, vetoes=vetoes, rule=Rule(round_.combine_rule))


@pytest.fixture
def city_user(demo):  # noqa: ANN001, ANN201
    return User.objects.get(username="city")


@pytest.fixture
def town_user(demo):  # noqa: ANN001, ANN201
    return User.objects.get(username="town")


def test_acceptance_and_distribution_charts_equal_a_direct_computation(demo, city_user):
    for number in (1, 2):
        round_ = demo.rounds.get(number=number)
        covered = set(panels.covered_ids(round_))
        expected: dict[str, Counter] = defaultdict(Counter)
        totals = []
        for e in demo.enrollments.select_related("community__parent"):
            if e.pk not in covered:
                continue
            result = direct_result(round_, e)
            expected[e.community.parent.name][str(result.outcome)] += 1
            if result.outcome != Outcome.INCOMPLETE:
                totals.append(result.total)
        chart = dashboards.acceptance_chart(round_, city_user)
        got = {row[0]: row[1:5] for row in chart.rows}
        assert got == {
            town: [c["standard_unit"], c["not_reached"], c["vetoed"], c["incomplete"]]
            for town, c in expected.items()
        }
        distribution = dashboards.distribution_chart(round_, city_user)
        bands = Counter(min(int(t) // 5 * 5, 95) for t in totals)
        assert {r[0]: r[1] for r in distribution.rows if r[1]} == {
            f"{b}–{b + 5}": n for b, n in bands.items()
        }
    # The demo's own story: round 2 has four standard units, one below 80, one vetoed.
    r2 = dashboards.acceptance_chart(demo.rounds.get(number=2), city_user)
    assert sum(row[1] for row in r2.rows) == 4 and sum(row[3] for row in r2.rows) == 1


def test_progress_rectification_and_department_charts_equal_a_direct_count(demo, city_user):
    today = date(2026, 7, 1)
    charts = {c.key: c for c in dashboards.progress_charts(city_user, demo, today)}
    per_town: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for t in Task.objects.filter(campaign=demo).select_related("division__parent"):
        if t.division.level not in ("town", "community"):
            continue
        town = t.division.name if t.division.level == "town" else t.division.parent.name
        row = per_town[town]
        row[0] += 1
        if t.status == "done":
            row[1] += 1
        elif t.due_on < today:
            row[3] += 1
        else:
            row[2] += 1
    assert {r[0]: r[1:] for r in charts["towns"].rows} == dict(per_town)

    rect = dashboards.rectification_chart(demo, city_user, date(2026, 11, 1))
    expected: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in Rectification.objects.filter(round__campaign=demo).select_related(
        "enrollment__community__parent"
    ):
        row = expected[r.enrollment.community.parent.name]
        if r.status == "done":
            row[1] += 1
        elif r.due_on and r.due_on < date(2026, 11, 1):
            row[2] += 1
        else:
            row[0] += 1
    assert {r[0]: r[1:] for r in rect.rows} == dict(expected)

    round_ = demo.rounds.get(number=2)
    departments = dashboards.department_chart(round_, city_user)
    covered = panels.covered_ids(round_)
    items = list(demo.standard.items.select_related("department"))
    direct = {}
    for dept in {i.department for i in items}:
        mine = [i for i in items if i.department_id == dept.pk]
        done = {
            (s.enrollment_id, s.item_id)
            for s in Score.objects.filter(round=round_, item__in=mine, enrollment__in=covered)
        }
        direct[dept.name] = [len(done), len(mine) * len(covered)]
    assert {r[0]: r[1:3] for r in departments.rows} == direct


def test_the_radar_compares_a_community_with_the_average_and_the_maxima(demo, city_user):
    round_ = demo.rounds.get(number=2)
    chart = dashboards.radar_chart(round_, city_user, "990121100004")
    complete = [
        direct_result(round_, e)
        for e in demo.enrollments.all()
        if direct_result(round_, e).outcome != Outcome.INCOMPLETE
    ]
    mine = direct_result(round_, demo.enrollments.get(community__code="990121100004"))
    for (label, own, average, maximum), category in zip(
        chart.rows, demo.standard.categories.all(), strict=True
    ):
        assert label.startswith(category.code) and maximum == category.points
        assert own == mine.category_subtotals[category.code]
        expected = sum(r.category_subtotals[category.code] for r in complete) / len(complete)
        assert average == expected.quantize(Decimal("0.01"))


def test_the_dashboard_page_and_its_csv(demo, client, city_user, town_user):
    url = reverse("dashboard", args=[demo.slug])
    client.force_login(city_user)
    page = client.get(url).content.decode()
    for key in ("towns", "acceptance-2", "distribution-2", "departments-2", "rectification"):
        assert f'data-testid="chart-{key}"' in page
    csv = client.get(url, {"chart": "acceptance-2", "format": "csv", "round": 2})
    assert csv.status_code == 200 and "城关镇" in csv.content.decode("utf-8-sig")
    assert AuditEvent.objects.filter(action="report.downloaded").exists()
    assert client.get(url, {"chart": "nope", "format": "csv"}).status_code == 404
    # The town officer sees his town only.
    client.force_login(town_user)
    page = client.get(url).content.decode()
    assert "城关镇" in page and "东关街道" not in page and "站前社区" not in page


def test_the_ranking_filters_sorts_pages_and_downloads_what_is_shown(demo, client, city_user):
    url = reverse("ranking", args=[demo.slug, 2])
    client.force_login(city_user)
    page = client.get(url).content.decode()
    assert page.index("解放路社区") < page.index("和平里社区")  # 99.5 before 86.5
    town = client.get(url, {"town": "990121001000"}).content.decode()
    assert "东关社区" in town and "解放路社区" not in town
    by_name = client.get(url, {"sort": "-rank"}).content.decode()
    assert by_name.index("新华社区") < by_name.index("解放路社区")
    response = client.get(url, {"outcome": "standard_unit", "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[:6] == ["名次", "社区代码", "社区", "镇（街道）", "县（区）", "总分"]
    assert sheet.freeze_panes == "A2"
    names = [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names == ["解放路社区", "东关社区", "文昌社区", "和平里社区"]
    assert sheet.cell(row=2, column=6).number_format == "0.00"
    english = client.get(url, {"format": "csv", "headers": "en"}).content.decode("utf-8-sig")
    assert english.splitlines()[0].startswith("rank,community code,community")
    # A page of one row exports that row only.
    from civicmark.results import views

    views.PER_PAGE, old = 2, views.PER_PAGE
    try:
        paged = client.get(url, {"format": "csv", "page": 2}).content.decode("utf-8-sig")
    finally:
        views.PER_PAGE = old
    assert len(paged.strip().splitlines()) == 3


def test_the_gap_planner_on_the_result_page(demo, client, city_user):
    client.force_login(city_user)
    page = client.get(
        reverse("community_result", args=[demo.slug, 2, "990121100004"])
    ).content.decode()
    assert 'data-testid="planner"' in page and "J1" in page and "85.50" in page
    vetoed = client.get(
        reverse("community_result", args=[demo.slug, 2, "990121001002"])
    ).content.decode()
    assert "考核年度内辖区发生一起重大刑事案件" in vetoed.split('data-testid="planner"')[1]


def test_the_community_scoring_sheet(demo, client, city_user):
    client.force_login(city_user)
    response = client.get(reverse("community_sheet", args=[demo.slug, 2, "990121100004"]))
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[:6] == ["项目编号", "项目", "类别", "责任部门", "满分", "自评分"]
    assert "清源市民政局考核员" in header and header[-2:] == ["合成得分", "扣分理由"]
    rows = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["J1"][-2] == 0 and "满意率百分之六十八" in rows["J1"][-1]
    assert "notes" in book.sheetnames


def pdf_text(payload: bytes, tmp_path) -> str:  # noqa: ANN001
    path = tmp_path / "doc.pdf"
    path.write_bytes(payload)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


def pdf_ink(payload: bytes, tmp_path) -> float:  # noqa: ANN001
    """The share of dark pixels on page 1 rendered at 40 dpi: missing glyphs leave a blank page."""
    path = tmp_path / "ink.pdf"
    path.write_bytes(payload)
    subprocess.run(
        ["pdftoppm", "-r", "40", "-f", "1", "-l", "1", "-gray", str(path), str(tmp_path / "p")],
        check=True,
    )
    image = next(tmp_path.glob("p*.pgm")).read_bytes()
    # A binary PGM: "P5\n<w> <h>\n<max>\n" then one byte per pixel.
    header_end = image.index(b"\n", image.index(b"\n", image.index(b"\n") + 1) + 1) + 1
    pixels = image[header_end:]
    return sum(1 for p in pixels if p < 128) / len(pixels)


needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils is installed by .ci/run"
)


@needs_poppler
def test_the_acceptance_report_pdf_renders_its_chinese(demo, client, city_user, tmp_path):
    client.force_login(city_user)
    response = client.get(reverse("community_report", args=[demo.slug, 2, "990121100004"]))
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content, tmp_path)
    for words in ("新华社区示范社区创建考核验收报告", "未达标", "满意率百分之六十八", "盖章"):
        assert words in text.replace(" ", ""), words
    assert pdf_ink(response.content, tmp_path) > 0.01
    fonts = subprocess.run(
        ["pdffonts", str(tmp_path / "doc.pdf")], capture_output=True, text=True, check=True
    ).stdout
    assert "NotoSansSC" in fonts.replace(" ", "") and " yes " in fonts  # embedded


def test_a_character_the_font_lacks_is_refused_not_printed_as_a_box():
    from civicmark.results.pdf import Document, MissingGlyph

    doc = Document()
    doc.add_page()
    with pytest.raises(MissingGlyph):
        doc.line_text("社区\U0001f600")


@needs_poppler
def test_certificates_are_issued_verified_and_revoked(demo, client, city_user, tmp_path):
    from civicmark.results.models import Certificate

    round_ = demo.rounds.get(number=2)
    url = reverse("certificates", args=[demo.slug, 2])
    # The demo issued the round's certificates (before re-checking titles, demo/titles.py).
    issued = {c.enrollment.community.code: c for c in Certificate.objects.all()}
    assert set(issued) == {"990121100001", "990121100002", "990121100003", "990121001001"}
    assert issued["990121100001"].level == "先进单位" and issued["990121100002"].level == "达标单位"
    client.force_login(User.objects.get(username="town"))
    assert client.post(url, {"action": "issue"}).status_code == 404
    client.force_login(city_user)
    # Again changes nothing: every title stands, but 文昌社区's, withdrawn, which is not given again.
    client.post(url, {"action": "issue"})
    assert Certificate.objects.count() == 4
    cert = issued["990121100001"]
    pdf = client.get(reverse("certificate_pdf", args=[demo.slug, cert.public_id]))
    text = pdf_text(pdf.content, tmp_path).replace(" ", "")
    assert "荣誉证书" in text and "解放路社区" in text and cert.code in text
    assert pdf_ink(pdf.content, tmp_path) > 0.01
    # The public page, without logging in: only name, campaign, title, date, standing.
    client.logout()
    verify = reverse("verify", args=[cert.code])
    assert verify == f"/v/{cert.code}/"
    page = client.get(verify).content.decode()
    assert "解放路社区" in page and "先进单位" in page and "99.50" not in page
    unknown = client.get(reverse("verify", args=["0000000000"]))
    assert unknown.status_code == 404 and "0000000000" in unknown.content.decode()
    # Revoked: says so plainly.
    client.force_login(city_user)
    client.post(url, {"action": "revoke", "id": str(cert.public_id), "reason": ""})
    cert.refresh_from_db()
    assert cert.stands
    client.post(url, {"action": "revoke", "id": str(cert.public_id), "reason": "复查发现材料造假"})
    cert.refresh_from_db()
    assert not cert.stands and AuditEvent.objects.filter(action="certificate.revoked").exists()
    client.logout()
    assert "称号已不再有效" in client.get(verify).content.decode()
    assert round_.finalised_at is not None


@needs_poppler
def test_the_round_summary_runs_as_a_job_and_waits_for_its_owner(
    demo, client, city_user, tmp_path, django_capture_on_commit_callbacks
):
    from civicmark.results.models import ExportJob

    client.force_login(city_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("round_export", args=[demo.slug, 2]), {"kind": "summary-pdf"}
        )
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"{job.public_id}/")
    page = client.get(response["Location"]).content.decode()
    assert 'data-status="done"' in page
    pdf = client.get(reverse("export_file", args=[job.public_id]))
    text = pdf_text(b"".join(pdf.streaming_content), tmp_path).replace(" ", "")
    assert "验收情况汇总" in text and "解放路社区" in text and "东关街道" in text
    # Only its owner may take the file.
    client.force_login(User.objects.get(username="county"))
    assert client.get(reverse("export_file", args=[job.public_id])).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("round_export", args=[demo.slug, 2]), {"kind": "summary-xlsx"})
    xlsx_job = ExportJob.objects.filter(kind="summary-xlsx").get()
    data = b"".join(client.get(reverse("export_file", args=[xlsx_job.public_id])).streaming_content)
    names = [
        r[2]
        for r in load_workbook(io.BytesIO(data))
        .worksheets[0]
        .iter_rows(min_row=2, values_only=True)
    ]
    assert len(names) == 6


@pytest.mark.django_db(transaction=True)
def test_an_export_waits_in_the_database_for_the_worker_and_the_request_does_not_wait(
    demo, client, city_user, settings
):
    """On the database task backend (the embedded default) the request only records the job and
    its task; `civicmark worker` writes the file, and the page polls until it is ready."""
    from io import StringIO

    from django.core.files.storage import default_storage
    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    from civicmark.results.models import ExportJob

    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": [settings.TASKS_QUEUE]}
    }
    client.force_login(city_user)
    response = client.post(reverse("round_export", args=[demo.slug, 2]), {"kind": "summary-xlsx"})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and job.status == "queued"
    waiting = DBTaskResult.objects.get()
    assert waiting.status == "READY" and waiting.task_path == "civicmark.results.jobs.run_export"
    assert waiting.args_kwargs == {"args": [str(job.public_id)], "kwargs": {}}
    page = client.get(reverse("export_job", args=[job.public_id]), HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 1s"' in page.content.decode()
    out = StringIO()
    call_command("worker", "--batch", stdout=out)
    assert out.getvalue().strip().endswith("1 tasks run")
    job.refresh_from_db()
    assert job.status == "done" and job.filename.endswith(".xlsx") and job.attempts == 1
    assert default_storage.exists(job.path)
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    page = client.get(reverse("export_job", args=[job.public_id]), HTTP_HX_REQUEST="true")
    assert 'data-status="done"' in page.content.decode() and "every 1s" not in page.content.decode()
