"""One entry of a person's to-do list (the home page's 待办).

Each app answers "what is open for this person in my area" with a list of these, built on its
own access checks, so that a to-do never names something the person could not open; the home
app gathers them (ADR 18). A plain value: core knows no app.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Line:
    """One thing inside an entry: a community, an item, a round; a link when it has a page."""

    text: str
    url: str = ""
    note: str = ""
    late: bool = False


@dataclass(frozen=True)
class Todo:
    """A kind of work with how much of it there is and one link to where it is done.

    `key` names the kind for tests and the page (stable, not translated); `count` is how many
    things wait; `late` marks work past its date, shown first."""

    key: str
    title: str
    count: int
    url: str
    detail: str = ""
    lines: tuple[Line, ...] = field(default_factory=tuple)
    late: bool = False


@dataclass(frozen=True)
class Figure:
    """A key figure of a campaign at a glance (for those who read and do not act)."""

    label: str
    value: int
    url: str = ""
    late: bool = False
