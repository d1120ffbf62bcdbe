"""Offline score sheets: assessors score on site in a workbook and upload it afterwards.

Export: one round, one department (optionally one community). Import: every row is checked
first (unknown community or item, another department's item, points out of range or not a
multiple of 0.5, a missing reason, another round, a finalised round); a file with any error
changes nothing; uploading the same file twice changes nothing the second time.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from civicmark.accounts import authz
from civicmark.assessments import panels
from civicmark.assessments.models import Score, VetoFinding
from civicmark.assessments.services import veto_finding_record
from civicmark.campaigns.models import AcceptanceRound, Campaign
from civicmark.campaigns.selectors import enrollments_by_code
from civicmark.core import audit
from civicmark.core.errors import ImportRefused, PlaceError
from civicmark.core.tabular import Column, append_row, read_workbook, table_from_rows

SCORE_COLUMNS = [
    Column(k) for k in ("community_code", "community", "item_code", "item", "max_points")
] + [
    Column("points", required=False),
    Column("reason", required=False),
    Column("not_applicable", required=False),
]
VETO_COLUMNS = [Column("community_code"), Column("veto_code"), Column("finding", required=False)]
YES = {"1", "y", "yes", "true", "是", "x", "✓"}
CHUNK = 2000


def export_sheet(*, round_: AcceptanceRound, department: Any, community: Any = None) -> bytes:
    campaign = round_.campaign
    enrollments = panels.covered(round_).select_related("community").order_by("community__code")
    if community is not None:
        enrollments = enrollments.filter(community=community)
    items = list(campaign.standard.items.filter(department=department).order_by("order"))
    vetoes = list(campaign.standard.vetoes.filter(department=department))
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
    append_row(scores, [c.key for c in SCORE_COLUMNS])
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
                    float(item.points),
                    None,
                    None,
                    None,
                ],
            )
    scores.freeze_panes = "A2"
    for col, width in zip("ABCDEFGH", (14, 16, 9, 50, 10, 8, 40, 14), strict=True):
        scores.column_dimensions[col].width = width
    sheet = book.create_sheet("vetoes")
    append_row(sheet, [c.key for c in VETO_COLUMNS])
    sheet.freeze_panes = "A2"
    codes = book.create_sheet("veto codes")
    for veto in vetoes:
        append_row(codes, [veto.code, veto.condition])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@dataclass
class SheetImported:
    saved: int = 0
    unchanged: int = 0
    vetoes: int = 0


def import_sheet(*, actor: Any, data: bytes) -> SheetImported:
    sheets = read_workbook(data)
    for name in ("round", "scores", "vetoes"):
        if name not in sheets:
            raise ImportRefused(errors=[PlaceError(_("The workbook has no sheet “%s”.") % name)])
    meta = {row[0]: row[1] for row in sheets["round"][1:] if len(row) > 1}
    campaign = Campaign.objects.filter(slug=meta.get("campaign", "")).first()
    round_ = (
        campaign.rounds.filter(number=int(meta["round"])).first()
        if campaign and meta.get("round", "").isdigit()
        else None
    )
    if round_ is None:
        raise ImportRefused(
            errors=[PlaceError(_("The sheet names no round of a known campaign."), sheet="round")]
        )
    if round_.finalised_at is not None:
        raise ImportRefused(
            errors=[PlaceError(_("The round is finalised: its scores are locked."), sheet="round")]
        )
    score_rows = table_from_rows(sheets["scores"], SCORE_COLUMNS, "scores").rows
    veto_rows = table_from_rows(sheets["vetoes"], VETO_COLUMNS, "vetoes").rows
    del sheets  # the cell text is in the rows now: a 100,000-row sheet is not kept twice
    # Only the communities the sheet names (a county's sheet names hundreds of a province's
    # ten thousand), a thousand codes per query.
    enrollments = enrollments_by_code(
        round_.campaign,
        sorted({row.get("community_code", "") for _n, row in [*score_rows, *veto_rows]}),
    )
    items = {i.code: i for i in round_.campaign.standard.items.all()}
    panels.covered_ids(round_)  # one query for the whole sheet, then set lookups per row
    vetoes = {v.code: v for v in round_.campaign.standard.vetoes.all()}
    errors: list[PlaceError] = []
    plan: list[tuple[Any, Any, Decimal | None, bool, str]] = []
    for number, row in score_rows:

        def err(column: str, message: str, number: int = number) -> None:
            errors.append(PlaceError(message, sheet="scores", row=number, column=column))

        points_text, na = (
            row.get("points", ""),
            row.get("not_applicable", "").strip().lower() in YES,
        )
        if not points_text and not na:
            continue  # not scored on site
        enrollment, item = enrollments.get(row["community_code"]), items.get(row["item_code"])
        if enrollment is None:
            err(
                "community_code",
                _("Unknown community %s in this campaign.") % row["community_code"],
            )
            continue
        if item is None:
            err("item_code", _("Unknown item %s.") % row["item_code"])
            continue
        refusal = authz.score_refusal(actor, round_, enrollment, item)
        if refusal:
            err("item_code", refusal)
            continue
        try:
            points = None if na else Decimal(points_text)
        except InvalidOperation:
            err("points", _("“%s” is not a number of points.") % points_text)
            continue
        reason = row.get("reason", "").strip()
        if na and not reason:
            err("reason", _("Say why the item does not apply."))
        elif points is not None and (not (0 <= points <= item.points) or points % Decimal("0.5")):
            err(
                "points",
                _("Points for %(code)s go from 0 to %(max)s in steps of 0.5.")
                % {"code": item.code, "max": item.points},
            )
        elif points is not None and points < item.points and not reason:
            err("reason", _("Say why points were deducted."))
        else:
            plan.append((enrollment, item, points, na, reason))
    veto_plan = []
    for number, row in veto_rows:
        enrollment, veto = enrollments.get(row["community_code"]), vetoes.get(row["veto_code"])
        if enrollment is None or veto is None:
            errors.append(
                PlaceError(
                    _("Unknown community or veto code."),
                    sheet="vetoes",
                    row=number,
                    column="veto_code",
                )
            )
        elif not row.get("finding", "").strip():
            errors.append(
                PlaceError(
                    _("Describe the finding that brings the veto."),
                    sheet="vetoes",
                    row=number,
                    column="finding",
                )
            )
        elif refusal := authz.score_refusal(actor, round_, enrollment, veto=veto):
            errors.append(
                PlaceError(
                    refusal,
                    sheet="vetoes",
                    row=number,
                    column="veto_code",
                )
            )
        else:
            veto_plan.append((enrollment, veto, row["finding"].strip()))
    if errors:
        raise ImportRefused(errors=errors)
    del score_rows, veto_rows  # the plan holds what is written
    result = SheetImported()
    with transaction.atomic():
        if AcceptanceRound.objects.select_for_update().get(pk=round_.pk).finalised_at:
            raise ImportRefused(
                errors=[
                    PlaceError(_("The round is finalised: its scores are locked."), sheet="round")
                ]
            )
        # The assessor's own scores of this round, locked: no other assessor writes them, and a
        # second upload by the same person waits for this one (SQLite: the write lock does).
        current = {
            (s.enrollment_id, s.item_id): s
            for s in Score.objects.select_for_update().filter(round=round_, assessor=actor)
        }
        new: list[Score] = []
        created = 0
        touched: set[int] = set()
        changed: list[Score] = []
        changes: list[list[Any]] = []
        for enrollment, item, points, na, reason in plan:
            existing = current.get((enrollment.pk, item.pk))
            values = (None if na else points, na, reason)
            if (
                existing is not None
                and (
                    existing.points,
                    existing.not_applicable,
                    existing.reason,
                )
                == values
            ):
                result.unchanged += 1
                continue
            before = None if existing is None else str(existing.points)
            if existing is None:
                new.append(
                    Score(
                        round=round_,
                        enrollment_id=enrollment.pk,
                        item_id=item.pk,
                        assessor=actor,
                        points=values[0],
                        not_applicable=na,
                        reason=reason,
                    )
                )
                if len(new) >= CHUNK:  # written as it goes: memory stays flat for big sheets
                    Score.objects.bulk_create(new)
                    created += len(new)
                    touched.update(x.enrollment_id for x in new)
                    new = []
            else:
                existing.points, existing.not_applicable, existing.reason = values
                existing.version += 1
                existing.updated_at = timezone.now()
                changed.append(existing)
            changes.append(
                [enrollment.community.code, item.code, before, None if na else str(points)]
            )
        Score.objects.bulk_create(new, batch_size=CHUNK)
        created += len(new)
        touched.update(x.enrollment_id for x in new)
        Score.objects.bulk_update(
            changed,
            ["points", "not_applicable", "reason", "version", "updated_at"],
            batch_size=CHUNK,
        )
        result.saved = created + len(changed)
        if result.saved:
            from civicmark.results.materialize import mark

            mark(round_, touched | {x.enrollment_id for x in changed})
        if changes:
            # One import is one write: one audit event that lists every change it made.
            audit.record(
                actor=actor,
                via="sheet",
                action="scores.imported",
                object_type="round",
                object_ref=f"{round_.campaign.slug}/{round_.number}",
                scope_path=round_.campaign.division.path,
                summary=f"{created} new, {len(changed)} changed",
                after={"columns": ["community", "item", "before", "after"], "changes": changes},
            )
        recorded = set(
            VetoFinding.objects.filter(round=round_, assessor=actor).values_list(
                "enrollment", "veto"
            )
        )
        for enrollment, veto, finding in veto_plan:
            if (enrollment.pk, veto.pk) not in recorded:
                veto_finding_record(
                    actor=actor, round_=round_, enrollment=enrollment, veto=veto, reason=finding
                )
                result.vetoes += 1
    return result
