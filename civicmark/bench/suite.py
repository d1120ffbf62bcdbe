"""One benchmark run against the database DATABASE_URL names (a fresh one: the orchestrator in
`civicmark.bench.__main__` makes it). Prints one JSON object per figure on stdout.

Each figure is paired with a baseline measured here, on the same data, in the same run:
the product's round results against one hand-written SQL query; score entry through the real
endpoint against a minimal authenticated, audited write in the same gunicorn (civicmark/bench/
entry.py); one application server against two behind HAProxy (servers.py, PostgreSQL only); a
score-sheet import against openpyxl's own parse; pages at N=100 against N; the PDF report and the
summary spreadsheet stand alone.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from pathlib import Path
from typing import Any

from civicmark.bench.load import default_workers, emit


def timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """The median wall time of `repeat` runs (after one warm-up), and the last result."""
    fn()
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def timed_pair(
    first: Callable[[], Any], second: Callable[[], Any], repeat: int = 5
) -> tuple[float, Any, float, Any]:
    """`timed` for two sides of a comparison, their runs taken in turn after one warm-up each:
    on a shared machine both sides then meet the same load (timed one block after the other,
    the side measured second met whatever the first left: autovacuum after the seed, a
    neighbour's benchmark)."""
    first(), second()
    times: tuple[list[float], list[float]] = ([], [])
    results: list[Any] = [None, None]
    for _ in range(repeat):
        for n, fn in enumerate((first, second)):
            start = time.perf_counter()
            results[n] = fn()
            times[n].append(time.perf_counter() - start)
    return statistics.median(times[0]), results[0], statistics.median(times[1]), results[1]


# --- round results --------------------------------------------------------------------------

HAND_SQL = """
WITH combined AS (
  SELECT enrollment_id AS e, item_id AS i, AVG(points) AS v
  FROM assessments_score WHERE round_id = %s AND NOT not_applicable
  GROUP BY enrollment_id, item_id
), percat AS (
  SELECT c.e, it.category_id AS cat, SUM(ROUND(c.v, 2)) AS got, COUNT(*) AS n
  FROM combined c JOIN standards_item it ON it.id = c.i
  GROUP BY c.e, it.category_id
), per AS (
  SELECT p.e, SUM(p.got) AS got, SUM(p.n) AS n,
         SUM(CASE WHEN k.min_points IS NOT NULL AND p.got < k.min_points THEN 1 ELSE 0 END) AS below
  FROM percat p JOIN standards_category k ON k.id = p.cat
  GROUP BY p.e
), vet AS (
  SELECT enrollment_id AS e, COUNT(*) AS k FROM assessments_vetofinding WHERE round_id = %s
  GROUP BY enrollment_id
)
SELECT en.id, per.got,
  CASE WHEN COALESCE(per.n, 0) < %s THEN 'incomplete'
       WHEN vet.k IS NOT NULL THEN 'vetoed'
       WHEN per.got < %s OR per.below > 0 THEN 'not_reached'
       ELSE 'standard_unit' END
FROM campaigns_enrollment en
LEFT JOIN per ON per.e = en.id
LEFT JOIN vet ON vet.e = en.id
WHERE en.campaign_id = %s
"""


def bench_results(campaign: Any) -> None:
    from django.db import connection

    from civicmark.scoring.rounds import round_results

    round_ = campaign.rounds.get(number=2)
    standard = campaign.standard
    assert standard.total_points == 100  # the hand query leaves the total unscaled
    n_items = standard.items.count()

    def hand() -> dict[int, tuple[Decimal, str]]:
        with connection.cursor() as cursor:
            cursor.execute(
                HAND_SQL,
                [round_.pk, round_.pk, n_items, float(standard.pass_threshold), campaign.pk],
            )
            return {
                pk: (Decimal(str(got or 0)).quantize(Decimal("0.01"), ROUND_HALF_UP), outcome)
                for pk, got, outcome in cursor.fetchall()
            }

    def product() -> dict[int, Any]:
        return round_results(round_)

    t_hand, expected, t_product, results = timed_pair(hand, product)
    same = {pk: (r.total, str(r.outcome)) for pk, r in results.items()} == expected
    outcomes: dict[str, int] = {}
    for r in results.values():
        outcomes[str(r.outcome)] = outcomes.get(str(r.outcome), 0) + 1
    emit(
        figure="round results",
        n=len(results),
        product_s=round(t_product, 3),
        baseline="hand-written SQL",
        baseline_s=round(t_hand, 3),
        ratio=round(t_product / t_hand, 2),
        identical=same,
        outcomes=outcomes,
        bar=f"≤ {RESULTS_BAR:g}× hand SQL, identical",
        met="yes" if same and t_product / t_hand <= RESULTS_BAR else "NO",
    )


# --- pages ----------------------------------------------------------------------------------


def bench_pages(campaigns: dict[int, Any]) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from civicmark.accounts.models import RoleAssignment, User

    rows = []
    for n, campaign in sorted(campaigns.items()):
        user, _ = User.objects.get_or_create(username=f"bench-officer-{campaign.slug}")
        RoleAssignment.objects.get_or_create(
            user=user, role="city_admin", division=campaign.division
        )
        client = Client()
        client.force_login(user)
        assessor = importer(campaign)  # on the city's panel, for every department
        scorer = Client()
        scorer.force_login(assessor)
        code = campaign.enrollments.order_by("community__code").first().community.code
        pages = {
            "ranking": (client, reverse("ranking", args=[campaign.slug, 2])),
            "dashboard": (client, reverse("dashboard", args=[campaign.slug]) + "?round=2"),
            "community result": (
                client,
                reverse("community_result", args=[campaign.slug, 2, code]),
            ),
            # Also measured (no bar of their own): the pages every official opens daily.
            "campaign overview": (client, reverse("campaign_overview", args=[campaign.slug])),
            "round page": (client, reverse("round_detail", args=[campaign.slug, 2])),
            "assessor's communities": (scorer, reverse("score_home", args=[campaign.slug, 2])),
        }
        for name, (who, url) in pages.items():

            def get(url: str = url, client: Client = who) -> int:
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
                return len(response.content)

            seconds, _size = timed(get, repeat=5)
            with CaptureQueriesContext(connection) as ctx:
                get()
            rows.append((name, n, seconds, len(ctx.captured_queries)))
    for name in dict.fromkeys(r[0] for r in rows):
        small, large = [r for r in rows if r[0] == name]
        emit(
            figure=f"page: {name}",
            n=large[1],
            product_s=round(large[2], 3),
            queries=large[3],
            baseline=f"same page at N={small[1]}",
            baseline_s=round(small[2], 3),
            baseline_queries=small[3],
            ratio=round(large[2] / small[2], 2),
            same_queries=small[3] == large[3],
            **page_bar(large[2] / small[2], small[3] == large[3]),
        )


# --- pages flat at a country's size (issue 19, ADR 29) ----------------------------------------

PAGE_BAR = 2.0  # a page at N takes at most twice its own time at N=100, in the same run
RESULTS_BAR = 1.5  # round results at most 1.5 times the hand-written SQL


def page_bar(ratio: float, same_queries: bool) -> dict[str, Any]:
    return {
        "bar": f"same queries, ≤ {PAGE_BAR:g}× N=100",
        "met": "yes" if same_queries and ratio <= PAGE_BAR else "NO",
    }


def emit_seed(seeded: Any) -> None:
    """The seed's time and where it went (a shared machine is noisy: the parts say which part
    grew)."""
    emit(
        figure="seed",
        n=seeded.communities,
        product_s=round(seeded.seconds, 1),
        scores=seeded.scores,
        parts=seeded.parts,
        **({"bar": "< 600 s", "met": "yes" if seeded.seconds < 600 else "NO"}),
    )


# --- documents ------------------------------------------------------------------------------


def _first_two(make: Callable[[], Any]) -> tuple[float, float]:
    times = []
    for _ in range(2):
        start = time.perf_counter()
        make()
        times.append(time.perf_counter() - start)
    return times[0], times[1]


def bench_documents(campaign: Any) -> None:
    from civicmark.results import exports, pdf, summary

    round_ = campaign.rounds.get(number=2)
    enrollment = campaign.enrollments.select_related("community__parent__parent").first()
    # The first document of a process that has not loaded the font parses the whole CJK font
    # (kept for the next ones); a gunicorn worker loads it as it starts (config/gunicorn.py).
    pdf.forget_fonts()
    first, second = _first_two(lambda: pdf.acceptance_report(round_, enrollment))
    pdf.forget_fonts()
    start = time.perf_counter()
    pdf.load_fonts()
    t_load = time.perf_counter() - start
    loaded_first, loaded_second = _first_two(lambda: pdf.acceptance_report(round_, enrollment))
    t_pdf, payload = timed(lambda: pdf.acceptance_report(round_, enrollment))
    emit(
        figure="PDF acceptance report (one community)",
        product_s=round(t_pdf, 3),
        first_in_process_s=round(first, 3),
        second_in_process_s=round(second, 3),
        bytes=len(payload),
    )
    emit(
        figure="PDF font loaded as the worker starts, then the first two documents",
        load_fonts_s=round(t_load, 3),
        first_s=round(loaded_first, 3),
        second_s=round(loaded_second, 3),
        baseline="the same documents in a process that had not loaded the font",
        baseline_first_s=round(first, 3),
        baseline_second_s=round(second, 3),
    )

    def sheet() -> bytes:
        rows = summary.to_rows(round_, summary.as_values(summary.ranked(round_, None, sort="town")))
        return exports.table_bytes(round_, rows, chinese=True, fmt="xlsx")

    t_sheet, data = timed(sheet, repeat=1)
    emit(
        figure="round summary spreadsheet",
        n=campaign.enrollments.count(),
        product_s=round(t_sheet, 3),
        bytes=len(data),
    )


def bench_upward(sizes: tuple[int, ...] = (10, 100, 500)) -> None:
    """A county's report to the city (ADR 25): its PDF and list made from the record, in the
    request that reports, for 10, 100 and 500 communities (the baseline is the report of 10)."""
    from django.utils import timezone

    from civicmark.results import pdf, upward_documents
    from civicmark.results.models import ReportedCommunity, UpwardReport

    pdf.load_fonts()
    report = UpwardReport(
        number=1,
        statement="经县级预验收，以下社区总分均达到80分以上，达到示范社区标准，现予上报。" * 4,
        campaign_name="2026年城市示范社区创建",
        county_name="安平县",
        addressee="清源市",
        language="zh-hans",
        reporter_name="李秀英",
        reported_at=timezone.now(),
    )
    base: dict[str, float] = {}
    for n in sizes:
        lines = [
            ReportedCommunity(
                position=i,
                code=f"9901211{i:05d}",
                name=f"第{i}社区",
                town="城关镇",
                round_name="县级预验收",
                total=Decimal("91.50"),
                outcome="standard_unit",
                level="达标单位",
            )
            for i in range(1, n + 1)
        ]
        t_pdf, payload = timed(partial(upward_documents.report_pdf, report, lines), 1)
        t_xlsx, sheet = timed(partial(upward_documents.report_xlsx, report, lines), 1)
        base = base or {"pdf": t_pdf, "xlsx": t_xlsx}
        emit(
            figure="report to the city: its PDF and list made in the request",
            n=n,
            pdf_s=round(t_pdf, 3),
            xlsx_s=round(t_xlsx, 3),
            pdf_bytes=len(payload),
            xlsx_bytes=len(sheet),
            baseline=f"the same report of {sizes[0]} communities",
            pdf_ratio=round(t_pdf / base["pdf"], 1),
            xlsx_ratio=round(t_xlsx / base["xlsx"], 1),
        )


# --- score-sheet import ---------------------------------------------------------------------


def _sheet(campaign: Any, rows: int, user: Any) -> bytes:
    """A filled-in score sheet (the export's layout) with `rows` score rows for `user`."""
    from openpyxl import Workbook

    round_ = campaign.rounds.get(number=2)
    items = list(campaign.standard.items.order_by("order"))
    book = Workbook(write_only=True)
    meta = book.create_sheet("round")
    for row in (["key", "value"], ["campaign", campaign.slug], ["round", 2], ["department", ""]):
        meta.append(row)
    scores = book.create_sheet("scores")
    scores.append(
        [
            "community_code",
            "community",
            "item_code",
            "item",
            "max_points",
            "points",
            "reason",
            "not_applicable",
        ]
    )
    written = 0
    for community, name in campaign.enrollments.order_by("community__code").values_list(
        "community__code", "community__name"
    ):
        for item in items:
            if written >= rows:
                break
            scores.append(
                [
                    community,
                    name,
                    item.code,
                    item.title,
                    float(item.points),
                    float(item.points) - 0.5,
                    "现场核查",
                    "",
                ]
            )
            written += 1
        if written >= rows:
            break
    vetoes = book.create_sheet("vetoes")
    vetoes.append(["community_code", "veto_code", "finding"])
    buffer = io.BytesIO()
    book.save(buffer)
    assert round_.number == 2
    return buffer.getvalue()


def importer(campaign: Any) -> Any:
    """One assessor for every department (a sheet may then hold every item)."""
    from civicmark.accounts.models import RoleAssignment, User
    from civicmark.divisions.models import Department

    user, created = User.objects.get_or_create(username=f"bench-importer-{campaign.slug}")
    if created:
        for dept in Department.objects.filter(pk__in=campaign.standard.items.values("department")):
            RoleAssignment.objects.create(
                user=user, role="assessor", division=campaign.division, department=dept
            )
    return user


def bench_import(campaign: Any, rows: int, big: int, workdir: Path) -> None:
    from openpyxl import load_workbook

    from civicmark.assessments.sheets import import_sheet
    from civicmark.scoring.models import Score

    user = importer(campaign)
    data = _sheet(campaign, rows, user)

    def parse() -> int:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        n = sum(1 for ws in book.worksheets for _row in ws.iter_rows(values_only=True))
        book.close()
        return n

    t_parse, _n = timed(parse, repeat=3)
    # Measured as the parse is: one warm-up, then the median of three, each a first upload into
    # the same state (the importer's scores are deleted before each, outside the timing).
    runs = []
    for n in range(4):
        Score.objects.filter(assessor=user).delete()
        start = time.perf_counter()
        first = import_sheet(actor=user, data=data)
        if n:
            runs.append(time.perf_counter() - start)
    t_import = statistics.median(runs)
    start = time.perf_counter()
    second = import_sheet(actor=user, data=data)
    t_again = time.perf_counter() - start
    saved = Score.objects.filter(assessor=user, round__number=2).count()
    emit(
        figure=f"score sheet import ({rows:,} rows)",
        product_s=round(t_import, 3),
        baseline="openpyxl read-only parse of the same file",
        baseline_s=round(t_parse, 3),
        ratio=round(t_import / t_parse, 2),
        runs_s=[round(r, 3) for r in runs],
        saved=first.saved,
        rows_in_db=saved,
        second_upload_s=round(t_again, 3),
        second_upload_changed=second.saved,
    )
    # Peak memory: a fresh process imports `big` rows (by default the most an import accepts,
    # IMPORT_MAX_ROWS: a larger sheet is refused before it is read); its high-water mark.
    from django.conf import settings

    big = big or settings.IMPORT_MAX_ROWS - 1  # the header row counts towards the limit
    path = workdir / "big-sheet.xlsx"
    Score.objects.filter(assessor=user).delete()
    path.write_bytes(_sheet(campaign, big, user))
    out = subprocess.run(
        [sys.executable, "-m", "civicmark.bench.memory", str(path), user.username],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ.copy(),
    )
    emit(**json.loads(out.stdout.strip().splitlines()[-1]))


# --- escalation --------------------------------------------------------------------------------


def bench_escalation(campaign: Any, sample: int = 500) -> None:
    """The escalation job (ADR 26) over a campaign whose every task is overdue: the steps taken
    for a sample of tasks at once (each a row, an audit event and the notifications), then the
    run of every few minutes once all steps are taken, against one query listing the overdue
    tasks' ids (what any scan must at least read)."""
    from datetime import datetime, timedelta

    from django.utils import timezone

    from civicmark.campaigns import reminders
    from civicmark.campaigns.models import Task, TaskStatus
    from civicmark.notifications.models import Escalation

    now = timezone.make_aware(datetime(campaign.year, 12, 31, 9))
    today = timezone.localdate(now)
    overdue = Task.objects.filter(campaign=campaign, due_on__lt=today - timedelta(days=10))
    overdue.update(status=TaskStatus.OPEN)
    ids = list(overdue.order_by("pk").values_list("pk", flat=True))
    chosen = Task.objects.filter(pk__in=ids[:sample])
    start = time.perf_counter()
    steps = reminders.tasks_overdue(now, among=chosen)
    t_steps = time.perf_counter() - start
    emit(
        figure="escalation: steps taken",
        n=len(steps),
        product_s=round(t_steps, 3),
        per_step_ms=round(1000 * t_steps / max(1, len(steps)), 2),
    )
    # Set-up, not the product: every other task's three steps as rows, as after a month of runs.
    rest = Task.objects.filter(pk__in=ids[sample:]).values_list("public_id", "due_on")
    Escalation.objects.bulk_create(
        (
            Escalation(
                object_type="task",
                object_id=public_id,
                level=level,
                at=now,
                due_on=due_on,
                scope_path=campaign.division.path,
            )
            for public_id, due_on in rest
            for level in (0, 1, 2)
        ),
        batch_size=5000,
    )

    def scan() -> int:
        return len(reminders.tasks_overdue(now))

    def baseline() -> int:
        return len(
            Task.objects.exclude(status=TaskStatus.DONE)
            .filter(due_on__lt=today)
            .values_list("pk", flat=True)
        )

    t_base, n = timed(baseline)
    t_scan, taken = timed(scan)
    emit(
        figure="escalation: a run with every step taken",
        overdue_tasks=n,
        product_s=round(t_scan, 3),
        baseline="the overdue tasks' ids, one query",
        baseline_s=round(t_base, 3),
        ratio=round(t_scan / t_base, 2) if t_base else None,
        steps_taken=taken,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--communities", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--sheet-rows", type=int, default=10_000)
    parser.add_argument(
        "--big-sheet-rows",
        type=int,
        default=0,
        help="rows of the sheet whose import's peak memory is measured (default: IMPORT_MAX_ROWS)",
    )
    parser.add_argument(
        "--clients",
        default="32,64",
        help="score entry: numbers of clients, comma-separated, each measured beside the baseline",
    )
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument(
        "--workers",
        default=os.environ.get("BENCH_WORKERS", ""),
        help="gunicorn workers for score entry, comma-separated for several runs "
        "(default: cores + 1)",
    )
    parser.add_argument(
        "--servers-workers",
        type=int,
        default=4,
        help="one server against two: the workers budget (one server runs them all, two servers "
        "half each)",
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated: results,pages,documents,import,entry,servers,escalation",
    )
    parser.add_argument("--workdir", default="var/bench")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicmark.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from civicmark.bench.seed import seed

    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    call_command("migrate", verbosity=0)
    # The gunicorn of the score-entry figure serves pages as production does (manifest storage).
    call_command("collectstatic", verbosity=0, interactive=False)
    from django.db import connection

    emit(figure="database", vendor=connection.vendor)
    small = seed(args.small, prefix="S")
    emit_seed(small)
    large = seed(args.communities, prefix="P")
    emit_seed(large)
    only = set(filter(None, args.only.split(",")))
    want = lambda name: not only or name in only  # noqa: E731
    if want("results"):
        bench_results(large.campaign)
    if want("pages"):
        bench_pages({small.communities: small.campaign, large.communities: large.campaign})
    if want("documents"):
        bench_documents(large.campaign)
        bench_upward()
    if want("import"):
        bench_import(large.campaign, args.sheet_rows, args.big_sheet_rows, workdir)
    levels = [int(c) for c in args.clients.split(",") if c]
    if want("entry"):
        from civicmark.bench.entry import bench_score_entry

        for workers in [int(w) for w in args.workers.split(",") if w] or [default_workers()]:
            bench_score_entry(large.campaign, levels, args.seconds, workers)
    if want("servers"):
        from civicmark.bench.servers import bench_servers

        bench_servers(large.campaign, levels[0], args.seconds, args.servers_workers)
    if want("escalation"):  # last: it opens the campaign's tasks
        bench_escalation(large.campaign)


if __name__ == "__main__":
    main()
