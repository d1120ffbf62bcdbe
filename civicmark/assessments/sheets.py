"""Offline score sheets: assessors score on site in a workbook and upload it afterwards.

Export: one round, one department (optionally one community). The `scores` sheet has one row
per community and item, with the exporting assessor's score as it stands and its version (empty
when he has not scored the item yet); the `vetoes` sheet lists the vetoes that stand for the
communities (found in this round or before and not lifted). Headers are written in Chinese;
English or Chinese headers are read.

Import: each row is read at its sheet, row and column (unknown community or item, a number that
is none, a version that is none); then every score goes through the one writer of scores
(`scoring.writer.write`, with `assessments.access`), exactly as a page save: the same checks and
messages (`scoring.validate`), the version compare (a row exported before a change made since is
a conflict naming who changed it and when), one audit event per score changed. A sheet without
the version column (exported before it existed) may only add first scores. Vetoes are recorded
or lifted through `scoring.findings.veto_record`. A file with any error or conflict changes
nothing; uploading the same file twice changes nothing the second time (a row equal to the
stored score is left alone, whatever its version). Sheets without the newer columns (method,
occurrences, lift) still import.

A community outside the importer's scope is "unknown", exactly like a code that does not exist:
a refusal never names what he may not see.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from civicmark.accounts import authz
from civicmark.assessments import panels
from civicmark.assessments.access import ACCESS
from civicmark.campaigns.models import AcceptanceRound, Campaign
from civicmark.campaigns.selectors import enrollments_by_code
from civicmark.core.errors import ApplicationError, ImportRefused, NotAllowed, PlaceError
from civicmark.core.parsing import ParseError, parse_decimal, parse_int
from civicmark.core.tabular import Column, append_row, read_workbook, table_from_rows
from civicmark.scoring import vetoes as standing_vetoes
from civicmark.scoring.models import Score
from civicmark.scoring.validate import Invalid
from civicmark.scoring.writer import Conflict, ScoreEntry, ScoreErrors, write

# (key, Chinese header): the Chinese is written, either is read.
SCORE_COLUMNS = [
    Column("community_code", ("社区代码",)),
    Column("community", ("社区名称",)),
    Column("item_code", ("项目编号",)),
    Column("item", ("考核内容",)),
    Column("method", ("评分标准",), required=False),
    Column("max_points", ("分值",)),
    Column("points", ("得分",), required=False),
    Column("occurrences", ("扣分次数",), required=False),
    Column("reason", ("扣分理由",), required=False),
    Column("not_applicable", ("不适用",), required=False),
    Column("version", ("版本",), required=False),
]
VETO_COLUMNS = [
    Column("community_code", ("社区代码",)),
    Column("veto_code", ("否决编号",)),
    Column("finding", ("否决情形说明",), required=False),
    Column("lift", ("解除",), required=False),
]
YES = {"1", "y", "yes", "true", "是", "x", "✓"}
CHUNK = 2000


def _headers(columns: list[Column]) -> list[str]:
    return [c.aliases[0] if c.aliases else c.key for c in columns]


def _department_items(campaign: Campaign, department: Any) -> list[Any]:
    """The items `department` scores: its own and those it shares with another department."""
    from django.db.models import Q

    return list(
        campaign.standard.items.filter(Q(department=department) | Q(other_departments=department))
        .distinct()
        .select_related("standard")
        .order_by("order")
    )


def export_sheet(
    *, round_: AcceptanceRound, department: Any, community: Any = None, assessor: Any = None
) -> bytes:
    """The sheet of `department`'s items for the communities the round covers, with the
    assessor's current scores and their versions (none when no assessor is named), and the
    department's vetoes that stand for those communities."""
    campaign = round_.campaign
    covered = panels.covered(round_).select_related("community").order_by("community__code")
    if community is not None:
        covered = covered.filter(community=community)
    if assessor is not None:
        # His sheet lists the communities he may see, never another county's.
        covered = covered.filter(authz.within_scope(assessor, "community__path"))
    enrollments = list(covered)
    items = _department_items(campaign, department)
    vetoes = list(campaign.standard.vetoes.filter(department=department))
    given = _given_by(assessor, round_, items, community)
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "round"
    for row in (
        ["key", "value"],
        ["campaign", campaign.slug],
        ["round", round_.number],
        ["department", department.code],
    ):
        append_row(ws, row)
    scores = book.create_sheet("scores")
    append_row(scores, _headers(SCORE_COLUMNS))
    for e in enrollments:
        to_score = panels.items_to_score(round_, e)
        for item in items:
            if to_score is not None and item.pk not in to_score:
                continue  # carries over from the earlier round
            append_row(
                scores,
                [
                    e.community.code,
                    e.community.name,
                    item.code,
                    item.title,
                    item.method or None,
                    float(item.points),
                    *given.get((e.pk, item.pk), (None, None, None, None, None)),
                ],
            )
    scores.freeze_panes = "A2"
    widths = (14, 16, 9, 50, 30, 8, 8, 10, 40, 8, 8)
    for col, width in zip("ABCDEFGHIJK", widths, strict=True):
        scores.column_dimensions[col].width = width
    sheet = book.create_sheet("vetoes")
    append_row(sheet, _headers(VETO_COLUMNS))
    mine = {v.pk for v in vetoes}
    by_id = {e.pk: e for e in enrollments}
    # The vetoes that stand: the assessor sees them, and lifts one by writing 是 under 解除 with
    # the reason as the finding.
    for enrollment_id, stand in standing_vetoes.standing(round_, list(by_id)).items():
        for status in stand:
            if status.veto_id in mine:
                append_row(
                    sheet,
                    [by_id[enrollment_id].community.code, status.code, status.reason, None],
                )
    sheet.freeze_panes = "A2"
    codes = book.create_sheet("veto codes")
    for veto in vetoes:
        append_row(codes, [veto.code, veto.condition])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _given_by(
    assessor: Any, round_: AcceptanceRound, items: list[Any], community: Any
) -> dict[tuple[int, int], tuple[Any, ...]]:
    """(enrollment, item) -> the sheet's points, occurrences, reason, not applicable and version
    cells for the assessor's scores in this round (one query, plain values: a province's sheet
    stays light)."""
    if assessor is None or getattr(assessor, "pk", None) is None:
        return {}
    scores = Score.objects.filter(round=round_, assessor=assessor, item__in=items)
    if community is not None:
        scores = scores.filter(enrollment__community=community)
    return {
        (enrollment, item): (
            None if na else float(points),
            occurrences,
            reason or None,
            "是" if na else None,
            version,
        )
        for enrollment, item, points, occurrences, na, reason, version in scores.values_list(
            "enrollment_id",
            "item_id",
            "points",
            "occurrences",
            "not_applicable",
            "reason",
            "version",
        )
    }


@dataclass
class SheetImported:
    saved: int = 0
    unchanged: int = 0
    vetoes: int = 0


@dataclass
class _Row:
    """Where an entry of the sheet came from, for its errors."""

    number: int
    enrollment: Any
    item: Any
    version: int | None


def import_sheet(*, actor: Any, data: bytes) -> SheetImported:
    sheets = read_workbook(data)
    for name in ("round", "scores", "vetoes"):
        if name not in sheets:
            raise ImportRefused(errors=[PlaceError(_("The workbook has no sheet “%s”.") % name)])
    meta = {row[0]: row[1] for row in sheets["round"][1:] if len(row) > 1}
    campaign = Campaign.objects.filter(slug=meta.get("campaign", "")).first()
    round_ = (
        campaign.rounds.filter(number=int(meta["round"])).first()
        if campaign and _is_count(meta.get("round", ""))
        else None
    )
    if round_ is None:
        raise ImportRefused(
            errors=[PlaceError(_("The sheet names no round of a known campaign."), sheet="round")]
        )
    score_rows = table_from_rows(sheets["scores"], SCORE_COLUMNS, "scores").rows
    veto_rows = table_from_rows(sheets["vetoes"], VETO_COLUMNS, "vetoes").rows
    del sheets  # the cell text is in the rows now: a 100,000-row sheet is not kept twice
    # A sheet exported before rows carried their version: it may only add first scores.
    versioned = not score_rows or "version" in score_rows[0][1]
    # Only the communities the sheet names (a county's sheet names hundreds of a province's
    # ten thousand), a thousand codes per query.
    enrollments = enrollments_by_code(
        round_.campaign,
        sorted({row.get("community_code", "") for _n, row in [*score_rows, *veto_rows]}),
    )
    items = {
        i.code: i
        for i in round_.campaign.standard.items.select_related("standard").prefetch_related(
            "other_departments"
        )
    }
    panels.covered_ids(round_)  # one query for the whole sheet, then set lookups per row
    vetoes = {v.code: v for v in round_.campaign.standard.vetoes.all()}
    errors: list[PlaceError] = []
    sealed: set[int] = set()  # communities already named as sealed: one error each, not per row
    entries: list[ScoreEntry] = []
    rows: dict[int, _Row] = {}

    def known(code: str) -> Any:
        """The enrollment of a community code, or None: unknown in the campaign and outside the
        importer's scope read the same, so a refusal never names what he may not see."""
        enrollment = enrollments.get(code)
        if enrollment is None or not authz.can_see_division(actor, enrollment.community):
            return None
        return enrollment

    def is_sealed(enrollment: Any, sheet: str, number: int) -> bool:
        if not panels.round_sealed_for(round_, enrollment.community):
            return False
        if enrollment.pk not in sealed:
            sealed.add(enrollment.pk)
            errors.append(
                PlaceError(
                    _sealed_message(round_, enrollment),
                    sheet=sheet,
                    row=number,
                    column="community_code",
                )
            )
        return True

    for number, row in score_rows:

        def err(column: str, message: str, number: int = number, value: str = "") -> None:
            errors.append(
                PlaceError(message, sheet="scores", row=number, column=column, value=value or None)
            )

        points_text = row.get("points", "")
        count_text = row.get("occurrences", "")
        na = row.get("not_applicable", "").strip().lower() in YES
        if (
            not any(
                row.get(key, "").strip() for key in ("points", "occurrences", "reason", "version")
            )
            and not na
        ):
            continue  # not scored on site (a scored row emptied is refused: empty is not 0)
        enrollment, item = known(row["community_code"]), items.get(row["item_code"])
        if enrollment is None:
            err("community_code", _("Unknown community code %s.") % row["community_code"])
            continue
        if item is None:
            err("item_code", _("Unknown item %s.") % row["item_code"])
            continue
        if is_sealed(enrollment, "scores", number):
            continue
        try:
            # Negative points are the validator's to refuse (a penalty item takes them).
            points = parse_decimal(points_text, places=1, max_digits=6, min_value=None, exact=True)
        except ParseError as exc:  # NaN, "1E+200000", "²": never compared, never stored
            err("points", exc.message, value=points_text)
            continue
        try:
            occurrences = parse_int(count_text, min_value=None)
        except ParseError as exc:
            err("occurrences", exc.message, value=count_text)
            continue
        version_text = row.get("version", "")
        if version_text and not _is_count(version_text):
            err(
                "version",
                _("“%s” is not a version: keep the version as the sheet was exported.")
                % version_text,
                value=version_text,
            )
            continue
        version = int(version_text) if version_text else None
        entries.append(
            ScoreEntry(
                item,
                points,
                na,
                row.get("reason", ""),
                version,
                occurrences,
                enrollment=enrollment,
                key=number,
            )
        )
        rows[number] = _Row(number, enrollment, item, version)
    veto_plan: list[tuple[int, Any, Any, str, bool]] = []
    for number, row in veto_rows:

        def verr(column: str, message: str, number: int = number) -> None:
            errors.append(PlaceError(message, sheet="vetoes", row=number, column=column))

        if not any(v.strip() for v in row.values()):
            continue
        enrollment, veto = known(row["community_code"]), vetoes.get(row["veto_code"])
        lifts = row.get("lift", "").strip().lower() in YES
        if enrollment is None:
            verr("community_code", _("Unknown community code %s.") % row["community_code"])
        elif veto is None:
            verr("veto_code", _("Unknown veto code %s.") % row["veto_code"])
        elif not row.get("finding", "").strip():
            verr(
                "finding",
                _("Say why the veto is lifted.")
                if lifts
                else _("Describe the finding that brings the veto."),
            )
        elif is_sealed(enrollment, "vetoes", number):
            continue
        elif refusal := ACCESS.veto_refusal(actor, round_, enrollment, veto):
            verr("veto_code", refusal)
        else:
            veto_plan.append((number, enrollment, veto, row["finding"].strip(), lifts))
    del score_rows, veto_rows  # the entries hold what is written
    try:
        with transaction.atomic():
            result = _write(actor, round_, entries, veto_plan, errors)
    except ScoreErrors as exc:
        raise ImportRefused(
            errors=errors + _placed(exc.errors, rows, actor, round_, versioned=versioned)
        ) from None
    return result


def _write(
    actor: Any,
    round_: AcceptanceRound,
    entries: list[ScoreEntry],
    veto_plan: list[tuple[int, Any, Any, str, bool]],
    errors: list[PlaceError],
) -> SheetImported:
    """The scores through the one writer, then the vetoes, in the caller's transaction: all or
    nothing. Errors found while reading the sheet still let the writer check every entry, so one
    refusal lists every row at fault."""
    if errors:
        from civicmark.scoring.writer import check

        _checked, found = check(
            actor=actor, round_=round_, enrollment=None, entries=entries, access=ACCESS
        )
        raise ScoreErrors(found)
    written = write(
        actor=actor, round_=round_, enrollment=None, entries=entries, access=ACCESS, via="sheet"
    )
    result = SheetImported(saved=len(written.saved), unchanged=written.unchanged)
    stand = standing_vetoes.standing(round_, list({e.pk for _n, e, _v, _f, _l in veto_plan}))
    veto_errors: list[PlaceError] = []
    for number, enrollment, veto, finding, lifts in veto_plan:
        if not lifts and any(s.veto_id == veto.pk for s in stand.get(enrollment.pk, [])):
            continue  # it stands already (a listed veto, or this file uploaded again)
        from civicmark.scoring.findings import veto_record

        try:
            veto_record(
                actor=actor,
                round_=round_,
                enrollment=enrollment,
                veto=veto,
                reason=finding,
                lifts=lifts,
                access=ACCESS,
                via="sheet",
            )
        except ApplicationError as exc:
            veto_errors.append(
                PlaceError(
                    exc.message,
                    sheet="vetoes",
                    row=number,
                    column="lift" if lifts else "veto_code",
                )
            )
        else:
            result.vetoes += 1
    if veto_errors:
        raise ImportRefused(errors=veto_errors)  # rolls back the scores written above
    return result


def _placed(
    found: dict[Any, ApplicationError],
    rows: dict[int, _Row],
    actor: Any,
    round_: AcceptanceRound,
    *,
    versioned: bool,
) -> list[PlaceError]:
    """The writer's refusals at their sheet, row and column; a conflict says who changed the
    score and when (read now: the write was rolled back)."""
    placed = []
    for number in sorted(found):
        exc, row = found[number], rows[number]
        if isinstance(exc, Conflict):
            existing = Score.objects.filter(
                round=round_,
                enrollment=row.enrollment,
                item=row.item,
                assessor_id=actor.pk,
            ).first()
            message = _conflict(row, existing, actor, versioned=versioned) or exc.message
            column = "version"
            value = None if row.version is None else str(row.version)
        else:
            message = exc.message
            column = (
                exc.field
                if isinstance(exc, Invalid)
                else "item_code"
                if isinstance(exc, NotAllowed)
                else "community_code"
            )
            value = None
        placed.append(PlaceError(message, sheet="scores", row=number, column=column, value=value))
    return placed


def _is_count(text: str) -> bool:
    """ASCII digits only ("²" is a digit to str.isdigit but no number to int), nine at most."""
    return text.isascii() and text.isdigit() and len(text) <= 9


def _sealed_message(round_: AcceptanceRound, enrollment: Any) -> str:
    return _(
        "%(round)s is signed off for %(community)s: its scores are locked until its lead "
        "reopens it."
    ) % {"round": round_.name, "community": enrollment.community.code}


def _conflict(row: _Row, existing: Score | None, actor: Any, *, versioned: bool) -> str | None:
    """Why this row may not be written over the score as it stands, or None.

    Only the assessor himself writes his scores (one row per assessor and item, whatever the
    channel), so `who` is the account that changed it; `when` is the score's last change."""
    names: dict[str, Any] = {
        "community": row.enrollment.community.code,
        "item": row.item.code,
        "sheet": row.version,
    }
    if existing is None:
        if row.version is None:
            return None  # a first score
        return (
            _(
                "The sheet holds version %(sheet)s of your score of %(community)s %(item)s, but "
                "you have no such score: export a fresh sheet."
            )
            % names
        )
    names.update(
        who=str(actor),
        when=timezone.localtime(existing.updated_at).strftime("%Y-%m-%d %H:%M"),
        now=existing.version,
    )
    if not versioned:
        return (
            _(
                "%(community)s %(item)s already has a score, changed by %(who)s on %(when)s, and "
                "this sheet carries no versions: export a fresh sheet to change it."
            )
            % names
        )
    if row.version is None:
        return (
            _(
                "%(community)s %(item)s was scored by %(who)s on %(when)s, after this sheet was "
                "exported: export a fresh sheet."
            )
            % names
        )
    if row.version != existing.version:
        return (
            _(
                "%(community)s %(item)s was changed by %(who)s on %(when)s, after this sheet was "
                "exported (version %(sheet)s in the sheet, %(now)s now): export a fresh sheet."
            )
            % names
        )
    return None
