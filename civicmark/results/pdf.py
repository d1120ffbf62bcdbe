"""PDF documents the municipal office stamps: a community's acceptance report, the certificate of
its title, and a round's summary report.

They are drawn with fpdf2 in Python and embed the Noto Sans SC font shipped in civicmark/fonts, so
Chinese renders on a machine with no font installed. The font is the whole of Noto Sans SC (every
CJK Unified Ideograph and Extension A character, so any name prints), and fpdf2 embeds only the
glyphs a document uses; a character it still lacks raises instead of printing an empty box.
"""

from __future__ import annotations

import copy
import io
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import segno
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace, SubsetMap, TTFFont

from civicmark.core.names import plain_text
from civicmark.core.templatetags.civicmark import points
from civicmark.results.explain import explain
from civicmark.results.summary import OUTCOME_LABELS, OUTCOME_ORDER, Row
from civicmark.scoring.models import Score
from civicmark.scoring.rules import Outcome

FONTS = Path(__file__).resolve().parent.parent / "fonts"
REGULAR = FONTS / "noto-sans-sc-400.woff"
BOLD = FONTS / "noto-sans-sc-700.woff"
RED = (139, 26, 26)
# fpdf2 subsets the embedded font through fontTools, which logs every table it touches at INFO.
logging.getLogger("fontTools").setLevel(logging.WARNING)


class MissingGlyph(ValueError):
    """The text holds a character the embedded font cannot draw."""


@cache
def _parsed_face(path: Path, style: str) -> TTFFont:
    """The face as fpdf2 reads it (metrics, widths, character map), once per process: parsing the
    whole 30,000-glyph font takes seconds, and is the same for every document."""
    return TTFFont(FPDF(), path, f"noto{style}", style)


@cache
def _sfnt(path: Path) -> bytes:
    """The font file decompressed once, for each document's own subset."""
    buffer = io.BytesIO()
    font = TTFont(path, recalcTimestamp=False)
    font.flavor = None
    font.save(buffer)
    return buffer.getvalue()


def load_fonts(progress: Callable[[], object] | None = None) -> None:
    """Parse and decompress both weights now, so that no one's first document waits for it: a
    serving process calls this as it starts (civicmark/config/gunicorn.py); a test or a command
    that never prints does not, and pays nothing. `progress` is called after each step (gunicorn
    counts a booting worker's silence against its timeout)."""
    for style, path in (("", REGULAR), ("B", BOLD)):
        _parsed_face(path, style)
        if progress:
            progress()
        _sfnt(path)
        if progress:
            progress()


def fonts_loaded() -> bool:
    return _parsed_face.cache_info().currsize == 2 and _sfnt.cache_info().currsize == 2


def forget_fonts() -> None:
    """Drop the parsed fonts (the benchmark measures a process's first document with it)."""
    _parsed_face.cache_clear()
    _sfnt.cache_clear()


def unprintable(text: str) -> str:
    """The characters of `text` the embedded font cannot draw, in order ("" when it prints): what
    a person types into a document is checked before it is kept (ADR 25)."""
    cmap = _parsed_face(REGULAR, "").cmap
    shown = plain_text(text, keep_lines=True)
    return "".join(sorted({c for c in shown if ord(c) not in cmap and c not in "\n\r\t"}))


class Document(FPDF):
    def __init__(self, *, landscape: bool = False, footer_text: str = "") -> None:
        super().__init__(orientation="L" if landscape else "P", unit="mm", format="A4")
        self._add_face("", REGULAR)
        self._add_face("B", BOLD)
        self.set_font("noto", size=10.5)
        self.set_auto_page_break(True, margin=18)
        self.set_margins(18, 16, 18)
        self.footer_text = footer_text

    def _add_face(self, style: str, path: Path) -> None:
        """What add_font("noto", style, path) does, from the face parsed once per process. The
        parsed data is shared read-only; what a document changes is its own: the glyphs it uses
        and the font that fpdf2 cuts down to them when it writes the file (a fresh, lazily read
        copy, which gets the glyph order so that it need not rebuild 30,000 glyph names)."""
        parsed = _parsed_face(path, style)
        face = copy.copy(parsed)
        face.i = len(self.fonts) + 1
        face.ttfont = TTFont(io.BytesIO(_sfnt(path)), lazy=True, recalcTimestamp=False)
        face.ttfont.setGlyphOrder(parsed.ttfont.getGlyphOrder())
        face.is_compressed = False
        face.missing_glyphs = []
        face.biggest_size_pt = 0
        face.subset = SubsetMap(face)
        self.fonts[f"noto{style}"] = face

    def normalize_text(self, text: str) -> str:
        # No control or bidi characters from a name typed by someone reach the page.
        text = plain_text(text, keep_lines=True)
        font = self.current_font
        cmap = getattr(font, "cmap", None)
        if cmap:
            missing = sorted({c for c in text if ord(c) not in cmap and c not in "\n\r\t"})
            if missing:
                raise MissingGlyph("".join(missing))
        return super().normalize_text(text)

    def footer(self) -> None:
        if not self.footer_text:
            return
        self.set_y(-12)
        self.set_font("noto", size=8)
        self.set_text_color(110, 110, 110)
        self.cell(0, 5, f"{self.footer_text}  {self.page_no()}/{{nb}}", align="C")
        self.set_text_color(0, 0, 0)

    # --- building blocks ---------------------------------------------------------------

    def heading(self, text: str, size: float = 16) -> None:
        self.set_font("noto", "B", size)
        self.multi_cell(0, size * 0.55, text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font("noto", size=10.5)
        self.ln(2)

    def subheading(self, text: str) -> None:
        self.ln(2)
        self.set_font("noto", "B", 12)
        self.cell(0, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font("noto", size=10.5)

    def line_text(self, text: str, size: float = 10.5) -> None:
        self.set_font("noto", size=size)
        self.multi_cell(0, size * 0.55, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def grid(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[Any]],
        widths: Sequence[float],
        align: str = "LEFT",
        size: float = 9.5,
    ) -> None:
        self.set_font("noto", size=size)
        with self.table(
            col_widths=tuple(widths),
            text_align=align,
            line_height=size * 0.55,
            headings_style=FontFace(emphasis="BOLD", fill_color=(238, 238, 238)),
            first_row_as_headings=True,
        ) as table:
            head = table.row()
            for h in header:
                head.cell(str(h))
            for values in rows:
                row = table.row()
                for v in values:
                    row.cell("" if v is None else str(v))
        self.ln(2)

    def qr(self, text: str, x: float, y: float, size: float) -> None:
        """A QR code drawn as vector squares (no image library, sharp at any print size)."""
        code = segno.make(text, error="m")
        matrix = list(code.matrix)
        module = size / len(matrix)
        self.set_fill_color(0, 0, 0)
        for r, line in enumerate(matrix):
            for c, dark in enumerate(line):
                if dark:
                    self.rect(x + c * module, y + r * module, module, module, style="F")

    def bytes(self) -> bytes:
        return bytes(self.output())


def _fmt(value: Decimal | None) -> str:
    return points(value)


def _outcome(result: Any) -> str:
    return str(OUTCOME_LABELS[Outcome(result.outcome)])


def acceptance_report(round_: Any, enrollment: Any) -> bytes:
    """One community, one round: identity, scores by category, lost points with reasons, vetoes,
    the outcome, the panel, and places for signatures and the seal."""
    campaign = round_.campaign
    community = enrollment.community
    e = explain(round_, enrollment)
    pdf = Document(footer_text=f"{campaign.name} · {round_.name} · {community.name}")
    pdf.add_page()
    pdf.heading(
        _("%(community)s: demonstration community acceptance report")
        % {"community": community.name}
    )
    pdf.line_text(f"{campaign.name}　{round_.name}", 10)
    pdf.ln(2)
    town = community.parent
    county = town.parent if town else None
    profile = getattr(community, "profile", None)
    pdf.grid(
        [_("item"), _("content"), _("item"), _("content")],
        [
            [
                _("community"),
                f"{community.name}（{community.code}）",
                _("part of"),
                f"{county.name if county else ''}{town.name if town else ''}",
            ],
            [
                _("households"),
                getattr(profile, "households", None) or "",
                _("residents"),
                getattr(profile, "residents", None) or "",
            ],
            [
                _("acceptance dates"),
                f"{round_.opens_on:%Y-%m-%d} – {round_.closes_on:%Y-%m-%d}",
                _("standard"),
                _("%(name)s (version %(version)s)")
                % {"name": campaign.standard.name, "version": campaign.standard.version},
            ],
        ],
        (22, 58, 22, 72),
    )
    result = e.result
    pdf.subheading(_("Conclusion"))
    verdict = _(
        "Total %(total)s of %(max)s (%(threshold)s makes the standard). Outcome: %(outcome)s"
    ) % {
        "total": _fmt(result.total),
        "max": campaign.standard.total_points,
        "threshold": campaign.standard.pass_threshold,
        "outcome": _outcome(result),
    }
    if result.level:
        verdict += "　" + _("Level: %s") % result.level
    if result.outcome == Outcome.STANDARD:
        verdict += "　" + (
            _("May be proposed for commendation.") if result.commendable else _("Not commendable.")
        )
    pdf.set_font("noto", "B", 12)
    pdf.multi_cell(0, 7, verdict, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("noto", size=10.5)
    pdf.subheading(_("Scores by category"))
    pdf.grid(
        [_("category"), _("points"), _("maximum"), _("minimum"), _("note")],
        [
            [
                f"{c['category'].code} {c['category'].name}",
                _fmt(c["subtotal"]),
                c["category"].points,
                c["category"].min_points if c["category"].min_points is not None else "",
                _("below the minimum") if c["below_minimum"] else "",
            ]
            for c in e.categories
        ],
        (70, 22, 22, 22, 38),
        align="LEFT",
    )
    pdf.subheading(_("Lost points and reasons"))
    if e.lost:
        pdf.grid(
            [_("item"), _("lost"), _("assessor, points and reason")],
            [
                [
                    f"{lost.item.code} {lost.item.title}",
                    f"-{_fmt(lost.lost)}",
                    "\n".join(
                        f"{s.assessor.full_name or s.assessor.username}：{s.points}/{lost.item.points} {s.reason}"
                        for s in lost.scores
                        if not s.not_applicable
                    ),
                ]
                for lost in e.lost
            ],
            (72, 16, 86),
            size=9,
        )
    else:
        pdf.line_text(_("No points lost."))
    if e.not_applicable:
        pdf.line_text(
            _("Not applicable (left out of the total):")
            + " "
            + "；".join(f"{s.item.code}（{s.reason}）" for s in e.not_applicable),
            9.5,
        )
    pdf.subheading(_("One-vote veto"))
    if e.vetoes:
        pdf.grid(
            [_("veto"), _("state"), _("finding or reason"), _("by, on")],
            [
                [
                    f"{v.status.code} {v.veto.condition if v.veto else ''}",
                    veto_state_text(v),
                    v.status.reason,
                    f"{v.status.by}\n{v.status.at:%Y-%m-%d}",
                ]
                for v in e.vetoes
            ],
            (56, 40, 52, 26),
            size=9,
        )
    else:
        pdf.line_text(_("None."))
    if e.gates:
        pdf.subheading(_("Gates that tripped"))
        pdf.grid(
            [_("item"), _("effect")],
            [
                [
                    f"{getattr(g.item, 'code', g.item)} {getattr(g.item, 'title', '')}",
                    gate_effect_text(g.effect),
                ]
                for g in e.gates
            ],
            (110, 64),
            size=9,
        )
    pdf.subheading(_("Panel"))
    panel = (
        Score.objects.filter(round=round_, enrollment=enrollment)
        .values_list("assessor__full_name", "assessor__username", "item__department__name")
        .distinct()
        .order_by("item__department__name")
    )
    members: dict[str, list[str]] = {}
    for full_name, username, department in panel:
        members.setdefault(department or "", [])
        name = full_name or username
        if name not in members[department or ""]:
            members[department or ""].append(name)
    pdf.grid(
        [_("department"), _("assessors")],
        [[d, "、".join(n)] for d, n in members.items()] or [["", ""]],
        (60, 114),
    )
    pdf.ln(6)
    if pdf.will_page_break(50):
        pdf.add_page()
    pdf.set_font("noto", size=11)
    y = pdf.get_y()
    pdf.cell(
        0,
        9,
        _("Head of the panel (signature): ____________________    Date: ____________"),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.cell(
        0,
        9,
        _("Panel members (signatures): ________________________________________"),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.set_draw_color(*RED)
    pdf.ellipse(pdf.w - 18 - 42, y + 20, 40, 40)
    pdf.set_xy(pdf.w - 18 - 42, y + 36)
    pdf.set_text_color(*RED)
    pdf.cell(40, 8, _("(seal)"), align="C")
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(0, 0, 0)
    return pdf.bytes()


def certificate(cert: Any, verify_url: str, issuer: str) -> bytes:
    """The certificate of a standard or advanced unit, with its code and a QR code that opens the
    public verification page."""
    enrollment = cert.enrollment
    campaign = enrollment.campaign
    pdf = Document(landscape=True)
    pdf.set_auto_page_break(False)
    pdf.add_page()
    w, h = pdf.w, pdf.h
    pdf.set_draw_color(*RED)
    pdf.set_line_width(1.6)
    pdf.rect(10, 10, w - 20, h - 20)
    pdf.set_line_width(0.4)
    pdf.rect(14, 14, w - 28, h - 28)
    pdf.set_text_color(*RED)
    pdf.set_xy(14, 34)
    pdf.set_font("noto", "B", 34)
    pdf.cell(w - 28, 16, _("CERTIFICATE OF HONOUR"), align="C")
    pdf.set_text_color(0, 0, 0)
    pdf.set_xy(40, 66)
    pdf.set_font("noto", "B", 20)
    pdf.cell(w - 80, 12, _("%s:") % enrollment.community.name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_xy(52, 84)
    pdf.set_font("noto", size=16)
    pdf.multi_cell(
        w - 104,
        10,
        _(
            "In %(campaign)s, after assessment and acceptance with a total of %(total)s points, was awarded the title “%(level)s”."
        )
        % {"campaign": campaign.name, "total": cert.total, "level": cert.level},
    )
    pdf.set_font("noto", "B", 26)
    pdf.set_text_color(*RED)
    pdf.set_xy(14, 118)
    pdf.cell(w - 28, 14, _("Urban demonstration community: %s") % cert.level, align="C")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("noto", size=14)
    pdf.set_xy(w - 150, h - 58)
    pdf.cell(120, 8, issuer, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_xy(w - 150, h - 48)
    pdf.cell(
        120,
        8,
        date_format(cert.awarded_on, "DATE_FORMAT"),
        align="C",
    )
    pdf.qr(verify_url, 26, h - 62, 32)
    pdf.set_font("noto", size=9)
    pdf.set_xy(60, h - 44)
    pdf.cell(80, 5, _("Certificate code: %s") % cert.code, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.cell(
        80, 5, _("Scan the code or open this address to verify:"), new_x=XPos.LEFT, new_y=YPos.NEXT
    )
    pdf.cell(80, 5, verify_url)
    return pdf.bytes()


def round_summary(round_: Any, rows: list[Row], progress: Any = None) -> bytes:
    """The round's summary report for the municipal office: the outcome counts per county and
    town, then every community with its total, category subtotals, vetoes, outcome and level."""
    campaign = round_.campaign
    categories = list(campaign.standard.categories.all())
    pdf = Document(landscape=True, footer_text=f"{campaign.name} · {round_.name}")
    pdf.add_page()
    pdf.heading(
        _("%(campaign)s\n%(round)s: summary of the acceptance")
        % {"campaign": campaign.name, "round": round_.name}
    )
    pdf.line_text(
        _("Generated %(at)s. Communities accepted in this round: %(n)s. %(state)s")
        % {
            "at": f"{timezone.localtime():%Y-%m-%d %H:%M}",
            "n": len(rows),
            "state": _("Finalised.")
            if round_.finalised_at
            else _("Not finalised yet (the figures may still change)."),
        },
        10,
    )
    counts = Counter(r.outcome for r in rows)
    pdf.subheading(_("Outcomes"))
    pdf.grid(
        [str(OUTCOME_LABELS[o]) for o in OUTCOME_ORDER] + [_("total")],
        [[counts.get(o.value, 0) for o in OUTCOME_ORDER] + [len(rows)]],
        (40, 40, 40, 40, 40),
        align="CENTER",
    )
    by_town: dict[tuple[str, str], Counter[str]] = {}
    for r in rows:
        by_town.setdefault((r.county, r.town), Counter())[r.outcome] += 1
    pdf.subheading(_("By county and town"))
    pdf.grid(
        [_("county"), _("town"), *[str(OUTCOME_LABELS[o]) for o in OUTCOME_ORDER], _("total")],
        [
            [county, town, *[c.get(o.value, 0) for o in OUTCOME_ORDER], sum(c.values())]
            for (county, town), c in sorted(by_town.items())
        ],
        (40, 50, 32, 32, 32, 32, 24),
    )
    pdf.add_page()
    pdf.subheading(_("Every community"))
    header = [
        _("rank"),
        _("community"),
        _("town"),
        _("total"),
        *[c.code for c in categories],
        _("vetoes"),
        _("outcome"),
        _("level"),
    ]
    fixed = 12 + 34 + 30 + 16 + 10 + 24 + 20
    each = max(9.0, (pdf.w - 36 - fixed) / max(1, len(categories)))
    widths = (12, 34, 30, 16, *[each] * len(categories), 10, 24, 20)
    chunk = 200
    for start in range(0, max(1, len(rows)), chunk):
        part = rows[start : start + chunk]
        pdf.grid(
            header,
            [
                [
                    r.rank or "—",
                    r.name,
                    r.town,
                    _fmt(r.total),
                    *[_fmt(s) for s in r.subtotals],
                    r.vetoes or "",
                    r.outcome_label,
                    r.level,
                ]
                for r in part
            ],
            widths,
            size=8,
        )
        if progress is not None:
            progress(min(100, int(100 * (start + len(part)) / max(1, len(rows)))))
    pdf.ln(4)
    pdf.line_text(
        _("Categories:") + " " + "; ".join(f"{c.code} {c.name} ({c.points})" for c in categories), 9
    )
    return pdf.bytes()


def veto_state_text(v: Any) -> str:
    """Found here, standing since round n, or lifted in round m (the reason beside it)."""
    status = v.status
    if status.state == "found":
        return _("found in this round")
    if status.state == "standing":
        return _("standing (found in round %(n)s)") % {"n": status.found_in_round}
    return _("lifted in round %(m)s (found in round %(n)s)") % {
        "m": status.lifted_in_round,
        "n": status.found_in_round,
    }


def gate_effect_text(effect: str) -> str:
    if effect == "veto":
        return _("vetoes the community")
    if effect == "no_commendation":
        return _("bars commendation")
    return _("caps the level at %(level)s") % {"level": effect.split(":", 1)[-1]}
