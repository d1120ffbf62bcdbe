"""The community's self-assessment as a sheet, out and back in (issue 15, item 6):
`self-assessment export SLUG COMMUNITY FILE` and `self-assessment import FILE --user U`.

The workbook has a `campaign` sheet (key, value: campaign, community) and a `自评` sheet with
the columns 项目编号 (item), 考核内容 (title, for reading), 分值 (max_points, for reading),
自评得分 (points) and 说明 (explanation); English headers are accepted as well. Each filled row
is saved through the page's own service (`self_score_save`): all rows or none."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook

from civicmark.core.commands import CivicCommand
from civicmark.core.errors import ApplicationError, ImportRefused, NotAllowed, PlaceError
from civicmark.core.parsing import ParseError, parse_decimal
from civicmark.core.tabular import Column, append_row, read_workbook, table_from_rows

META = "campaign"
SHEET = "自评"
SHEET_NAMES = (SHEET, "self_assessment", "self-assessment")
COLUMNS = [
    Column("item", ("项目编号", "item_code")),
    Column("title", ("考核内容",), required=False),
    Column("max_points", ("分值",), required=False),
    Column("points", ("自评得分",), required=False),
    Column("explanation", ("说明",), required=False),
]
HEADERS = ["项目编号", "考核内容", "分值", "自评得分", "说明"]


class Command(CivicCommand):
    help = (
        "A community's self-assessment sheet: `export SLUG COMMUNITY FILE` writes its items "
        "and its current points; `import FILE --user U` saves the filled points and "
        "explanations as that person, with the same checks as the self-assessment page."
    )

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="write the community's sheet")
        export.add_argument("campaign", help="the campaign's slug")
        export.add_argument("community", help="the community's name or code")
        export.add_argument("file", help="the .xlsx file to write")
        export.add_argument("--user", help="act as this username, within his scope")
        load = sub.add_parser("import", help="save a filled sheet (all rows or none)")
        load.add_argument("file")
        load.add_argument("--user", required=True, help="the community's staff member")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "export":
            self._export(options)
        else:
            self._import(options)

    def _enrollment(self, slug: str, code: str) -> Any:
        from civicmark.campaigns.models import Enrollment

        found = (
            Enrollment.objects.filter(campaign__slug=slug, community__code=code)
            .select_related("campaign__standard", "community")
            .first()
        )
        return found

    def _export(self, options: dict[str, Any]) -> None:
        from civicmark.accounts import authz
        from civicmark.assessments.models import SelfScore
        from civicmark.campaigns.models import Campaign
        from civicmark.campaigns.selectors import enrolled_communities

        actor = self.acting_user(options)
        campaign = Campaign.objects.filter(slug=options["campaign"]).first()
        if campaign is None:
            raise CommandError(f"No campaign {options['campaign']!r}.")
        community = self.named(enrolled_communities(actor, campaign), options["community"])
        enrollment = self._enrollment(campaign.slug, community.code)
        if enrollment is None or (
            actor is not None and not authz.can_see_division(actor, enrollment.community)
        ):
            raise CommandError(
                f"No community {options['community']!r} in a campaign {options['campaign']!r}."
            )
        given = {s.item_id: s for s in SelfScore.objects.filter(enrollment=enrollment).order_by()}
        book = Workbook()
        meta = book.active
        assert meta is not None
        meta.title = META
        for row in (
            ["key", "value"],
            ["campaign", enrollment.campaign.slug],
            ["community", enrollment.community.code],
            ["name", enrollment.community.name],
        ):
            append_row(meta, row)
        sheet = book.create_sheet(SHEET)
        append_row(sheet, HEADERS)
        for item in enrollment.campaign.standard.items.order_by("order"):
            mine = given.get(item.pk)
            append_row(
                sheet,
                [
                    item.code,
                    item.title,
                    float(item.points),
                    float(mine.points) if mine else None,
                    mine.explanation if mine else None,
                ],
            )
        sheet.freeze_panes = "A2"
        for col, width in zip("ABCDE", (10, 60, 8, 10, 40), strict=True):
            sheet.column_dimensions[col].width = width
        buffer = io.BytesIO()
        book.save(buffer)
        Path(options["file"]).write_bytes(buffer.getvalue())
        self.stdout.write(f"wrote {options['file']}")

    def _import(self, options: dict[str, Any]) -> None:
        from civicmark.assessments.services import self_score_save

        actor = self.acting_user(options)
        sheets = read_workbook(self.read_file(options["file"]))
        name = next((n for n in SHEET_NAMES if n in sheets), None)
        if META not in sheets or name is None:
            missing = META if META not in sheets else SHEET
            raise ImportRefused(errors=[PlaceError(_("The workbook has no sheet “%s”.") % missing)])
        meta = {row[0].strip(): row[1].strip() for row in sheets[META][1:] if len(row) > 1}
        enrollment = self._enrollment(meta.get("campaign", ""), meta.get("community", ""))
        if enrollment is None:
            raise ImportRefused(
                errors=[
                    PlaceError(_("The sheet names no community of a known campaign."), sheet=META)
                ]
            )
        rows = table_from_rows(sheets[name], COLUMNS, name).rows
        items = {i.code: i for i in enrollment.campaign.standard.items.all()}
        errors: list[PlaceError] = []
        plan = []
        for number, row in rows:
            code, text = row["item"].strip(), row.get("points", "").strip()
            if not text:
                continue  # not scored yet
            item = items.get(code)
            if item is None:
                errors.append(
                    PlaceError(
                        _("Unknown item %s.") % code, sheet=name, row=number, column="item",
                        value=code,
                    )
                )  # fmt: skip
                continue
            try:
                points = parse_decimal(text, places=1, max_digits=6, exact=True)
            except ParseError as exc:
                errors.append(
                    PlaceError(
                        f"{exc.message} (“{text}”)", sheet=name, row=number, column="points",
                        value=text,
                    )
                )  # fmt: skip
                continue
            if points is not None:
                plan.append((number, item, points, row.get("explanation", "")))
        # Every row is tried, even after an error, so that one run names every mistake; the
        # transaction keeps none of them unless all rows pass.
        with transaction.atomic():
            for number, item, points, explanation in plan:
                try:
                    self_score_save(
                        actor=actor,
                        enrollment=enrollment,
                        item=item,
                        points=points,
                        explanation=explanation,
                    )
                except NotAllowed:
                    raise  # the person, not a row: said once
                except ApplicationError as exc:
                    errors.append(
                        PlaceError(
                            f"{exc.message} (“{points}”)", sheet=name, row=number,
                            column="points", value=str(points),
                        )
                    )  # fmt: skip
            if errors:
                errors.sort(key=lambda e: e.row or 0)
                raise ImportRefused(errors=errors)
        self.stdout.write(f"saved {len(plan)} self-assessed items for {enrollment.community.code}")
