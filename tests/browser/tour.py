"""The main pages of each demo role: what the accessibility test checks and the gallery shows.

Paths in the demo city (civicmark/demo): the campaign anping-2026, community staff's community
990121100001 (signed off in rounds 1 and 2); `zhaoyang`'s 朝阳社区 (990121001003), still
self-assessing, and `town2`'s 东关街道 with 滨河社区 submitted to it (civicmark/demo/everyday.py). Shared by tests/browser/test_accessibility_in_browser.py
and scripts/gallery.py, so the pictures reviewers see are the pages the test checked.
"""

from __future__ import annotations

from pathlib import Path

C = "/campaigns/anping-2026"
COMMUNITY = "990121100001"
CHAOYANG = "990121001003"
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
# civicmark.demo.loader.DEMO_PASSWORD, spelt out: the gallery reads this module without Django.
PASSWORD = "CivicMark-demo-2026"  # noqa: S105

# (username, [(name, path)]) in the order a reviewer would walk them.
TOUR: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "community",
        [
            ("home", "/"),
            ("overview", f"{C}/"),
            ("self-assessment", f"{C}/self-assessment/"),
            ("tasks", f"{C}/tasks/"),
            ("result", f"{C}/rounds/2/communities/{COMMUNITY}/"),
            ("rectification", f"{C}/rectification/"),
            ("employment-ledger", f"/employment/{COMMUNITY}/"),
        ],
    ),
    (
        "zhaoyang",
        [
            ("home", "/"),
            ("self-assessment", f"{C}/self-assessment/?community={CHAOYANG}"),
        ],
    ),
    (
        "town2",
        [
            ("home", "/"),
            ("to-review", f"{C}/acceptance/?state=submitted"),
        ],
    ),
    (
        "town",
        [
            ("home", "/"),
            ("acceptance", f"{C}/acceptance/"),
            ("dashboard", f"{C}/dashboard/"),
            ("rectification", f"{C}/rectification/"),
            ("checklist", f"{C}/communities/{COMMUNITY}/"),
            ("employment-posts", f"/employment/{COMMUNITY}/jobs/"),
        ],
    ),
    (
        "county",
        [
            ("home", "/"),
            ("overview", f"{C}/"),
            ("round-1", f"{C}/rounds/1/"),
            ("results", f"{C}/results/"),
            ("reports-to-city", f"{C}/reports-to-city/"),
        ],
    ),
    (
        "city",
        [
            ("home", "/"),
            ("overview", f"{C}/"),
            ("round-2", f"{C}/rounds/2/"),
            ("results", f"{C}/results/"),
            ("reports-to-city", f"{C}/reports-to-city/"),
            ("dashboard", f"{C}/dashboard/"),
            ("audit-log", "/audit/"),
            ("people", "/people/"),
            ("divisions", "/divisions/"),
            ("departments", "/departments/"),
        ],
    ),
    (
        "assessor",
        [
            ("home", "/"),
            ("scoring", f"{C}/rounds/2/score/"),
            ("scoring-community", f"{C}/rounds/2/score/{COMMUNITY}/"),
            ("scoring-open-round", f"{C}/rounds/3/score/"),
        ],
    ),
    (
        "viewer",
        [
            ("home", "/"),
            ("overview", f"{C}/"),
            ("dashboard", f"{C}/dashboard/"),
            ("results", f"{C}/results/"),
        ],
    ),
]

# Run in the page after axe.min.js: the serious and critical violations, one line each.
AXE_RUN = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.impact} ${v.id}: ${v.help} — ` +
      v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
}"""


def sign_in(page, base: str, username: str, password: str) -> None:  # noqa: ANN001
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button.btn-primary")
    page.wait_for_selector("[data-testid=whoami]", state="attached")
