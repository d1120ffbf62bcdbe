"""Every name prints: the PDF documents embed a font that draws any CJK Unified Ideograph and any
Extension A character, so a community, town or person named with a rarer character still gets its
report and certificate (issue 16, item 11)."""

from __future__ import annotations

import io
import re
import zlib

import pytest
from django.urls import reverse
from fontTools.ttLib import TTFont

from civicmark.accounts.models import User
from civicmark.divisions.models import Division

# 禕 and 峣 are two of the common name characters the old simplified subset lacked; the rest are
# Extension A (U+3400, U+3447, U+34C1, U+4D18, U+4DB5: its first and its last before Unicode 13).
RARE = "禕峣㐀㑇㓁䴘䶵"
COMMUNITY = f"{RARE[:4]}社区"
TOWN = f"{RARE[4:]}峣街道"


def embedded_fonts(payload: bytes) -> list[TTFont]:
    """The font programs embedded in a PDF written by fpdf2 (zlib-compressed streams)."""
    fonts = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", payload, re.DOTALL):
        try:
            data = zlib.decompress(raw)
        except zlib.error:
            continue
        if data[:4] in (b"\x00\x01\x00\x00", b"OTTO", b"true"):
            fonts.append(TTFont(io.BytesIO(data)))
    return fonts


def drawn(payload: bytes) -> set[str]:
    """The characters the embedded subsets can draw: mapped, and with an outline."""
    chars = set()
    for font in embedded_fonts(payload):
        glyphs = font["glyf"]
        for code, name in font.getBestCmap().items():
            if glyphs[name].numberOfContours != 0:
                chars.add(chr(code))
    return chars


@pytest.fixture
def rare_names(demo):  # noqa: ANN001, ANN201
    """解放路社区 and 新华社区, and the town above them, renamed with rare characters."""
    community = Division.objects.get(code="990121100004")
    Division.objects.filter(code__in=["990121100004", "990121100001"]).update(name=COMMUNITY)
    Division.objects.filter(pk=community.parent_id).update(name=TOWN)
    return demo


def test_it_prints_an_acceptance_report_for_a_community_named_with_rare_characters(
    rare_names, client
):
    client.force_login(User.objects.get(username="city"))
    response = client.get(reverse("community_report", args=[rare_names.slug, 2, "990121100004"]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert set(RARE) <= drawn(response.content)


def test_it_prints_a_certificate_for_a_community_named_with_rare_characters(rare_names, client):
    from civicmark.results.models import Certificate

    client.force_login(User.objects.get(username="city"))
    client.post(reverse("certificates", args=[rare_names.slug, 2]), {"action": "issue"})
    cert = Certificate.objects.get(enrollment__community__code="990121100001")
    response = client.get(reverse("certificate_pdf", args=[rare_names.slug, cert.public_id]))
    assert response.status_code == 200
    # The name is drawn in bold on the certificate: the bold face covers them too.
    assert set(RARE[:4]) <= drawn(response.content)


def test_it_embeds_only_the_glyphs_a_document_uses():
    from civicmark.results.pdf import Document

    doc = Document()
    doc.add_page()
    doc.line_text(f"{COMMUNITY}{TOWN}")
    payload = bytes(doc.output())
    assert set(RARE) <= drawn(payload)
    # Subsets (the regular face and the bold one), not the 30,000 glyphs of the whole font.
    assert all(font["maxp"].numGlyphs < 40 for font in embedded_fonts(payload))
