"""Offline score sheets: assessors score on site in a workbook and upload it afterwards.

Export: one round, one department (optionally one community). Each row carries the exporting
assessor's score as it stands and its version (empty when he has not scored the item yet).

Import: every row is checked first (unknown community or item, another department's item,
points out of range or not a multiple of 0.5, a missing reason, another round, a round sealed
for the community); then, under the lock of the assessor's scores, every row that would change
a score must carry the version the score is at (no silent overwrite: a row exported before a
change made on the page or by another upload is a conflict naming who changed it and when). A
sheet without the version column (exported before it existed) may only add first scores. A
file with any error or conflict changes nothing; uploading the same file twice changes nothing
the second time (a row equal to the stored score is left alone, whatever its version).

A community outside the importer's scope is "unknown", exactly like a code that does not exist:
a refusal never names what he may not see.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from civicmark.accounts import authz
from civicmark.assessments import panels, sealing
from civicmark.assessments.access import score_refusal
from civicmark.assessments.services import veto_finding_record
from civicmark.campaigns.models import AcceptanceRound, Campaign
from civicmark.campaigns.selectors import enrollments_by_code
from civicmark.core import audit
from civicmark.core.errors import ImportRefused, PlaceError
from civicmark.core.parsing import ParseError, parse_decimal
from civicmark.core.tabular import Column, append_row, read_workbook, table_from_rows
from civicmark.scoring.models import Score, VetoFinding

SCORE_COLUMNS = [
    Column(k) for k in ("community_code", "community", "item_code", "item", "max_points")
] + [
    Column("points", required=False),
    Column("reason", required=False),
    Column("not_applicable", required=False),
    Column("version", ("版本",), required=False),
]
VETO_COLUMNS = [Column("community_code"), Column("veto_code"), Column("finding", required=False)]
YES = {"1", "y", "yes", "true", "是", "x", "✓"}
CHUNK = 2000


def export_sheet(
    *, round_: AcceptanceRound, department: Any, community: Any = None, assessor: Any = None
) -> bytes:
    """The sheet of `department`'s items for the communities the round covers, with the
    assessor's current scores and their versions (none when no assessor is named)."""
    campaign = round_.campaign
    enrollments = panels.covered(round_).select_related("community").order_by("community__code")
    if community is not None:
        enrollments = enrollments.filter(community=community)
    if assessor is not None:
        # His sheet lists the communities he may see, never another county's.
        enrollments = enrollments.filter(authz.within_scope(assessor, "community__path"))
    items = list(campaign.standard.items.filter(department=department).order_by("order"))
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
                    *given.get((e.pk, item.pk), (None, None, None, None)),
                ],
            )
    scores.freeze_panes = "A2"
    for col, width in zip("ABCDEFGHI", (14, 16, 9, 50, 10, 8, 40, 14, 8), strict=True):
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


def _given_by(
    assessor: Any, round_: AcceptanceRound, items: list[Any], community: Any
) -> dict[tuple[int, int], tuple[Any, ...]]:
    """(enrollment, item) -> the sheet's points, reason, not applicable and version cells for the
    assessor's scores in this round (one query, plain values: a province's sheet stays light)."""
    if assessor is None or getattr(assessor, "pk", None) is None:
        return {}
    scores = Score.objects.filter(round=round_, assessor=assessor, item__in=items)
    if community is not None:
        scores = scores.filter(enrollment__community=community)
    return {
        (enrollment, item): (
            None if na else float(points),
            reason or None,
            "是" if na else None,
            version,
        )
        for enrollment, item, points, na, reason, version in scores.values_list(
            "enrollment_id", "item_id", "points", "not_applicable", "reason", "version"
        )
    }


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
    items = {i.code: i for i in round_.campaign.standard.items.all()}
    panels.covered_ids(round_)  # one query for the whole sheet, then set lookups per row
    vetoes = {v.code: v for v in round_.campaign.standard.vetoes.all()}
    errors: list[PlaceError] = []
    sealed: set[int] = set()  # communities already named as sealed: one error each, not per row
    plan: list[_Planned] = []

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

        points_text, na = (
            row.get("points", ""),
            row.get("not_applicable", "").strip().lower() in YES,
        )
        if not points_text and not na:
            continue  # not scored on site
        enrollment, item = known(row["community_code"]), items.get(row["item_code"])
        if enrollment is None:
            err("community_code", _("Unknown community code %s.") % row["community_code"])
            continue
        if item is None:
            err("item_code", _("Unknown item %s.") % row["item_code"])
            continue
        if is_sealed(enrollment, "scores", number):
            continue
        refusal = score_refusal(actor, round_, enrollment, item)
        if refusal:
            err("item_code", refusal)
            continue
        try:
            points = None if na else parse_decimal(points_text, places=1, exact=True)
        except ParseError as exc:  # NaN, "1E+200000", "²": never compared, never stored
            err("points", exc.message, value=points_text)
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
            version = int(version_text) if version_text else None
            plan.append(_Planned(number, enrollment, item, points, na, reason, version))
    veto_plan = []
    for number, row in veto_rows:
        enrollment, veto = known(row["community_code"]), vetoes.get(row["veto_code"])
        if enrollment is None:
            errors.append(
                PlaceError(
                    _("Unknown community code %s.") % row["community_code"],
                    sheet="vetoes",
                    row=number,
                    column="community_code",
                )
            )
        elif veto is None:
            errors.append(
                PlaceError(
                    _("Unknown veto code %s.") % row["veto_code"],
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
        elif is_sealed(enrollment, "vetoes", number):
            continue
        elif refusal := score_refusal(actor, round_, enrollment, veto=veto):
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
    try:
        return _write(actor, round_, plan, veto_plan, versioned=versioned)
    except IntegrityError:
        # A first score saved on the page while this sheet was written: the unique constraint
        # stopped the insert, and the whole import was rolled back.
        raise ImportRefused(
            errors=[
                PlaceError(
                    _(
                        "Some of these scores were saved elsewhere while the sheet was imported: "
                        "nothing was imported; export a fresh sheet."
                    ),
                    sheet="scores",
                )
            ]
        ) from None


class _Planned(NamedTuple):
    """One checked row of the sheet, to be written (or found unchanged, or a conflict)."""

    number: int
    enrollment: Any
    item: Any
    points: Decimal | None
    na: bool
    reason: str
    version: int | None


def _is_count(text: str) -> bool:
    """ASCII digits only ("²" is a digit to str.isdigit but no number to int), nine at most."""
    return text.isascii() and text.isdigit() and len(text) <= 9


def _sealed_message(round_: AcceptanceRound, enrollment: Any) -> str:
    return _(
        "%(round)s is signed off for %(community)s: its scores are locked until its lead "
        "reopens it."
    ) % {"round": round_.name, "community": enrollment.community.code}


def _conflict(row: _Planned, existing: Score | None, actor: Any, *, versioned: bool) -> str | None:
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


def _write(
    actor: Any,
    round_: AcceptanceRound,
    plan: list[_Planned],
    veto_plan: list[tuple[Any, Any, str]],
    *,
    versioned: bool,
) -> SheetImported:
    """Write the checked rows in one transaction: all of them, or none when one is sealed or a
    conflict."""
    result = SheetImported()
    with transaction.atomic():
        # The seal's lock before the round's row, in the order a sign-off takes them: a sign-off
        # waits for this import, and the veto service's own hold below cannot deadlock with it.
        sealing.hold_for_writing(round_)
        locked = AcceptanceRound.objects.select_for_update().get(pk=round_.pk)
        # Signed off while the sheet was being checked?
        touched_enrollments = {r.enrollment.pk: r.enrollment for r in plan}
        touched_enrollments.update((e.pk, e) for e, _v, _f in veto_plan)
        now_sealed = [
            PlaceError(_sealed_message(round_, e), sheet="round")
            for e in touched_enrollments.values()
            if panels.round_sealed_for(locked, e.community)
        ]
        if now_sealed:
            raise ImportRefused(errors=now_sealed)
        # The assessor's own scores of this round, locked: no other assessor writes them, and a
        # second upload or a page save by the same person waits for this one (SQLite: the write
        # lock does).
        current = {
            (s.enrollment_id, s.item_id): s
            for s in Score.objects.select_for_update().filter(round=round_, assessor=actor)
        }
        new: list[Score] = []
        created = 0
        touched: set[int] = set()
        changed: list[Score] = []
        changes: list[list[Any]] = []
        conflicts: list[PlaceError] = []
        for row in plan:
            existing = current.get((row.enrollment.pk, row.item.pk))
            values = (None if row.na else row.points, row.na, row.reason)
            if (
                existing is not None
                and (existing.points, existing.not_applicable, existing.reason) == values
            ):
                result.unchanged += 1  # nothing to write: no version to compare
                continue
            conflict = _conflict(row, existing, actor, versioned=versioned)
            if conflict is not None:
                conflicts.append(
                    PlaceError(
                        conflict,
                        sheet="scores",
                        row=row.number,
                        column="version",
                        value=None if row.version is None else str(row.version),
                    )
                )
                continue
            if conflicts:
                continue  # the import is refused: only the other conflicts are still sought
            before = None if existing is None else str(existing.points)
            if existing is None:
                new.append(
                    Score(
                        round=round_,
                        enrollment_id=row.enrollment.pk,
                        item_id=row.item.pk,
                        assessor=actor,
                        points=values[0],
                        not_applicable=row.na,
                        reason=row.reason,
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
                [
                    row.enrollment.community.code,
                    row.item.code,
                    before,
                    None if row.na else str(row.points),
                ]
            )
        if conflicts:
            raise ImportRefused(errors=conflicts)  # rolls back the chunks already written
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
            from civicmark.scoring.materialize import mark

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
                # The veto service: its own checks, its own audit event, in this transaction.
                veto_finding_record(
                    actor=actor, round_=round_, enrollment=enrollment, veto=veto, reason=finding
                )
                result.vetoes += 1
    return result
