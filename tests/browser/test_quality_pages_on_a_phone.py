"""The quality pages an official's walk of issue 17 found too wide for a phone, at 390x844 in the
demo city: the certificates (the city's and the county's), a community's own appeals, the
calibration detail, the titles' re-checks, the round's public notices, one notice and its public
page. The phone walk (test_every_role_on_a_phone.py) reaches pages two clicks from home; these
lie deeper, so they are listed here by role and held to the same rule: the document is no wider
than the phone, and nothing in the page's main part lies beyond its right edge."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from civicmark.assessments.models import PublicNotice
from civicmark.quality.models import CalibrationExercise

from .tour import PASSWORD, PHONE, C, sign_in

SHOTS = Path(os.environ.get("CIVICMARK_SHOTS", "/tmp/quality-phone"))
DONGGUAN = "990121001001"

# What lies beyond the right edge in the main part (a button that does not wrap), and a table
# that hides columns behind a sideways scroll (the calibration's "points given" was cut off).
OUTSIDE_JS = """() => [...document.querySelectorAll('main *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
    || (e.matches('.table-responsive') && e.scrollWidth > e.clientWidth + 1))
  .filter(e => !e.parentElement.closest('.table-responsive'))
  .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + (e.innerText || '').trim().slice(0, 40))"""


def _pages() -> dict[str, list[str]]:
    notice = PublicNotice.objects.filter(round__campaign__slug="anping-2026").first()
    exercise = CalibrationExercise.objects.filter(round__campaign__slug="anping-2026").first()
    assert notice is not None and exercise is not None
    return {
        "city": [
            f"{C}/rounds/2/certificates/",
            f"{C}/titles/",
            f"{C}/rounds/{notice.round.number}/notices/",
            f"{C}/notices/{notice.public_id}/",
            f"{C}/rounds/{exercise.round.number}/calibration/{exercise.public_id}/",
            f"/notice/{notice.public_id}/",
        ],
        "county": [f"{C}/rounds/1/certificates/", f"{C}/rounds/2/certificates/"],
        "dongguan": [f"{C}/appeals/{DONGGUAN}/"],
    }


@pytest.mark.django_db(transaction=True)
def test_the_quality_pages_fit_a_phone(demo, browser, live_server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    # The community's staff account is made without a usable password (demo/appeals.py).
    staff = get_user_model().objects.get(username="dongguan")
    staff.set_password(PASSWORD)
    staff.save(update_fields=["password"])
    wide = []
    for username, paths in _pages().items():
        context = browser.new_context(
            locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True
        )
        page = context.new_page()
        page.set_default_timeout(30000)
        sign_in(page, live_server.url, username, PASSWORD)
        for path in paths:
            response = page.goto(f"{live_server.url}{path}")
            assert response is not None and response.ok, (username, path)
            width = page.evaluate("document.documentElement.scrollWidth")
            outside = page.evaluate(OUTSIDE_JS)
            name = path.strip("/").replace("/", "-")[-60:]
            page.screenshot(path=str(SHOTS / f"{username}-{name}.png"), full_page=True)
            if width > PHONE["width"] or outside:
                wide.append(f"{username} {path}: {width}px {outside}")
        context.close()
    assert not wide, "pages wider than a 390 px phone:\n" + "\n".join(wide)
