"""The documents of a county's report to the city (ADR 25): the formal PDF the county stamps and
its list as a workbook, both drawn from the report's record alone (its lines, names, statement
and date as they stood when reported), never from the live data: made again from the same
record, they say the same.

The PDF: the title, the addressee, the campaign, the county's statement, the table of the
communities reported with their pre-acceptance round, score and outcome, the count, and a place
for the seal, the signature and the date. The workbook: one row per community, in the same
order, and a notes sheet with what the PDF says around the table.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from fpdf.enums import WrapMode, XPos, YPos

from civicmark.core.tabular import write_table
from civicmark.core.templatetags.civicmark import points
from civicmark.results.models import ReportedCommunity, UpwardReport
from civicmark.results.pdf import RED, Document
from civicmark.results.summary import OUTCOME_LABELS
from civicmark.scoring.rules import Outcome

# The table's columns (millimetres of the A4 page's 174 between its margins).
WIDTHS = (12, 58, 34, 34, 16, 20)


def title(report: UpwardReport) -> str:
    return _(
        "%(county)s: report to the city of the communities that passed the county pre-acceptance"
    ) % {"county": report.county_name}


def result_text(line: ReportedCommunity) -> str:
    """What the county's round found: the level reached (a standard unit's), or the outcome."""
    if line.level:
        return line.level
    return str(OUTCOME_LABELS[Outcome(line.outcome)]) if line.outcome else "—"


def header() -> list[str]:
    return [_("no."), _("community"), _("town"), _("pre-acceptance round"), _("score"), _("result")]


def row(line: ReportedCommunity) -> list[Any]:
    return [
        line.position,
        f"{line.name}（{line.code}）",
        line.town,
        line.round_name,
        points(line.total) if line.total is not None else "—",
        result_text(line),
    ]


def reported_on(report: UpwardReport) -> str:
    return date_format(timezone.localtime(report.reported_at).date(), "DATE_FORMAT")


def report_pdf(report: UpwardReport, lines: Sequence[ReportedCommunity]) -> bytes:
    """The formal report, A4 portrait; a long list runs on to further pages, its header
    repeated, and the place for the seal follows the table."""
    reference = _("Report no. %(n)s of %(county)s") % {
        "n": report.number,
        "county": report.county_name,
    }
    pdf = Document(footer_text=f"{report.county_name} · {report.campaign_name} · {reference}")
    # The document's own date is the report's: made again from the record, it is the same file.
    pdf.set_creation_date(report.reported_at)
    pdf.add_page()
    pdf.heading(title(report))
    pdf.line_text(f"{report.campaign_name}　{reference}", 10)
    pdf.ln(3)
    pdf.set_font("noto", "B", 11)
    pdf.multi_cell(
        0,
        7,
        _("To the office of the %(city)s community-building leading group:")
        % {"city": report.addressee},
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.set_font("noto", size=11)
    for paragraph in report.statement.splitlines():
        if paragraph.strip():
            # Chinese has no spaces to break at: the two-character indent would be a line's
            # only break and leave a blank line above a long paragraph.
            pdf.multi_cell(
                0,
                6.5,
                "　　" + paragraph.strip(),
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
                wrapmode=WrapMode.CHAR,
            )
    pdf.ln(2)
    pdf.line_text(
        _(
            "The following %(n)s communities passed the county pre-acceptance and are reported "
            "to the city for its acceptance:"
        )
        % {"n": len(lines)},
        10.5,
    )
    pdf.ln(1)
    pdf.grid(header(), [row(line) for line in lines], WIDTHS, size=9.5)
    pdf.line_text(_("Communities reported: %(n)s.") % {"n": len(lines)}, 10.5)
    _seal(pdf, report)
    return pdf.bytes()


def _seal(pdf: Document, report: UpwardReport) -> None:
    """The county's signature, seal and date, at the foot of the report (on a page of their
    own when the table leaves no room)."""
    pdf.ln(8)
    if pdf.will_page_break(62):
        pdf.add_page()
    y = pdf.get_y()
    left = pdf.w - 18 - 84
    pdf.set_font("noto", size=11)
    pdf.set_xy(left, y + 6)
    pdf.cell(84, 8, _("%(county)s (seal)") % {"county": report.county_name}, align="C")
    pdf.set_xy(left, y + 16)
    pdf.cell(84, 8, reported_on(report), align="C")
    pdf.set_xy(18, y + 34)
    pdf.cell(0, 8, _("Head (signature): ____________________"))
    pdf.set_draw_color(*RED)
    pdf.ellipse(left + 22, y - 4, 40, 40)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_xy(18, y + 48)
    pdf.set_font("noto", size=8)
    pdf.set_text_color(110, 110, 110)
    pdf.multi_cell(
        0,
        4,
        _("Reported by %(who)s at %(at)s; record %(id)s.")
        % {
            "who": report.reporter_name or "—",
            "at": f"{timezone.localtime(report.reported_at):%Y-%m-%d %H:%M}",
            "id": report.public_id,
        },
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.set_text_color(0, 0, 0)


def report_xlsx(report: UpwardReport, lines: Sequence[ReportedCommunity]) -> bytes:
    """The list: the header and one row per community, as the PDF's table has them (the score a
    number, so that the city can sort and sum it), and a notes sheet."""
    buffer = io.BytesIO()
    write_table(
        buffer,
        [
            _("no."),
            _("community code"),
            _("community"),
            _("town"),
            _("pre-acceptance round"),
            _("score"),
            _("result"),
        ],
        (
            [
                line.position,
                line.code,
                line.name,
                line.town,
                line.round_name,
                line.total,
                result_text(line),
            ]
            for line in lines
        ),
        fmt="xlsx",
        sheet=_("communities reported"),
        number_formats={5: "0.00"},
        notes=[
            (_("report"), title(report)),
            (_("campaign"), report.campaign_name),
            (_("county"), report.county_name),
            (_("report number"), report.number),
            (_("reported on"), reported_on(report)),
            (_("reported by"), report.reporter_name),
            (_("the county's statement"), report.statement),
            (_("communities"), len(lines)),
            (_("record"), str(report.public_id)),
        ],
    )
    return buffer.getvalue()
