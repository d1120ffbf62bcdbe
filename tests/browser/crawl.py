"""Walk a signed-in person's pages the way he would: from his home, every page linked from there,
and every page linked from those (two clicks deep), at whatever size the browser has.

Shared by the phone tests (tests/browser/test_every_role_on_a_phone.py); it reads no Django, so a
reviewer can point it at a running demo too. Pages of one shape (the same path with other codes,
uuids or numbers, the same query keys) are visited at most PER_SHAPE times: the city's eight
communities' pages are one template, and walking all of them multiplies the time, not what is
seen.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

# Sign-out, files and downloads are not pages; the language switch is a form, not a link.
SKIP = (
    "/accounts/logout",
    "/files/",
    "/evidence/",
    "/export",
    "/sheet",
    ".xlsx",
    ".pdf",
    ".csv",
    "/i18n/",
)
SKIP_QUERY = ("format", "page")
PER_SHAPE = 2
LIMIT = 150
# The POST forms every page carries: the language switch and sign-out, in the menu.
MENU_FORMS = ("/i18n/setlang/", "/accounts/logout/")

FORMS_JS = """() => [...document.forms]
  .filter(f => (f.getAttribute('method') || 'get').toLowerCase() === 'post')
  .map(f => new URL(f.getAttribute('action') || location.href, location.href).pathname
    + ' [' + ([...f.querySelectorAll('button, input[type=submit]')]
      .map(b => (b.innerText || b.value || '').trim()).filter(Boolean).join(' | ')) + ']')"""


@dataclass
class Visit:
    path: str
    status: int
    width: int
    post_forms: list[str] = field(default_factory=list)
    came_from: str = ""


def shape(link: str) -> str:
    """The path with every segment holding a digit replaced, and the query's keys only."""
    parts = urlsplit(link)
    path = "/".join("#" if re.search(r"\d", s) else s for s in parts.path.split("/"))
    keys = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return path + ("?" + "&".join(keys) if keys else "")


def _links(page, base: str) -> list[str]:  # noqa: ANN001
    found = []
    for href in page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)"):
        parts = urlsplit(href)
        if parts.netloc != urlsplit(base).netloc or parts.path.startswith("/admin"):
            continue
        link = parts.path + (f"?{parts.query}" if parts.query else "")
        keys = {k for k, _ in parse_qsl(parts.query, keep_blank_values=True)}
        if any(s in link for s in SKIP) or keys & set(SKIP_QUERY):
            continue
        found.append(link)
    return found


def crawl(
    page,  # noqa: ANN001
    base: str,
    *,
    depth: int = 2,
    on_page: Callable[[Visit], None] | None = None,
) -> list[Visit]:
    """Every page reached from "/" within `depth` clicks: its status, the document's width and
    its POST forms (beside the menu's). `on_page` is called on each, the page still open."""
    visits: list[Visit] = []
    seen: set[str] = set()
    shapes: Counter[str] = Counter()
    queue: list[tuple[str, int, str]] = [("/", 0, "")]
    while queue and len(visits) < LIMIT:
        path, level, came_from = queue.pop(0)
        if path in seen or shapes[shape(path)] >= PER_SHAPE:
            continue
        seen.add(path)
        shapes[shape(path)] += 1
        response = page.goto(f"{base}{path}")
        if response is None or "text/html" not in (response.headers.get("content-type") or ""):
            continue
        forms = [f for f in page.evaluate(FORMS_JS) if not f.startswith(MENU_FORMS)]
        width = page.evaluate("document.documentElement.scrollWidth")
        visits.append(Visit(path, response.status, width, forms, came_from))
        if on_page is not None:
            on_page(visits[-1])
        if level < depth and response.ok:
            queue += [(link, level + 1, path) for link in _links(page, base)]
    return visits
