"""What one save of the score page asks of the database (issue 19 item 2: the save against the
fair baseline). The count is asserted, never the time (speed is measured in civicmark/bench):
each statement below is one the save needs, and one more is a regression to explain."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from civicmark.assessments import access, panels
from civicmark.core.models import AuditEvent
from civicmark.scoring.models import Score
from tests.test_score_page import _page

pytestmark = pytest.mark.django_db

# Session, user, grants; the round (with whether the lead listed a panel or communities and
# whether a later round started), the community's enrollment, whether the lead's list covers the
# community; then the write, in the test's savepoint and its release: the round's seal read again
# (`finalised_at` alone), his scores in the community locked, the insert (its keys returned by
# it), the stale mark, the audit events; on PostgreSQL also the shared sign-off lock
# (`sealing.hold_for_writing`). Not asked any more (issue 19, branch `save`): the assessor's
# items and their other departments (kept per published version, `standards.published`), his
# scores before the save (the writer's lock says what he holds), the keys after the insert.
SAVE_STATEMENTS = 13


def _statements() -> int:
    return SAVE_STATEMENTS + (connection.vendor == "postgresql")


def _save_and_count(client, s, code: str, values: dict) -> list[str]:  # noqa: ANN001
    url = reverse("score_community", args=["c", 2, code])
    client.get(url)  # the session, the language and the memo warmed alike
    with CaptureQueriesContext(connection) as queries:
        assert client.post(url, _page(s["items"], values)).status_code == 302
    return [q["sql"] for q in queries.captured_queries]


def test_a_save_costs_a_fixed_number_of_statements(scoring, client_for):
    s = scoring
    assessor = client_for(s["assessors"][0])
    one = _save_and_count(assessor, s, "C111", {"A1": ("30", "")})
    three = _save_and_count(
        assessor, s, "C112", {"A1": ("30", ""), "B1": ("19", "少一次活动"), "A2": ("30", "")}
    )
    assert Score.objects.count() == 4
    assert AuditEvent.objects.filter(action="score.saved").count() == 4
    assert len(one) == len(three) == _statements(), "\n".join(three)
    # The usual case in acceptance week: the lead lists no communities and the round covers
    # those its workflow state brings in. That asks nothing more (the covers list's query goes;
    # whether a later round started came with the round).
    s["round"].covers.clear()
    s["campaign"].enrollments.update(status=panels.default_states(s["round"])[0])
    default = _save_and_count(assessor, s, "C121", {"A1": ("30", ""), "B1": ("19", "少")})
    assert Score.objects.count() == 6
    assert len(default) == _statements() - 1, "\n".join(default)
    # executemany counts once however many rows: the count does not grow with the page.
    # Nothing asked per item or twice: no statement repeats but the test's savepoints.
    reads = [q for q in three if q.startswith("SELECT") and "FOR UPDATE" not in q]
    assert len(reads) == len(set(reads)), "\n".join(reads)


def test_the_checks_that_do_not_depend_on_the_item_are_asked_once_per_save(
    scoring, client_for, monkeypatch
):
    """The page's check of each item and the writer's check again share one answer for the
    person, round and community (`access._standing`); the department and re-scored items are
    still asked per item, so a refusal of one item still names it (tests/test_score_page.py)."""
    s = scoring
    made: list[object] = []
    real = access._Standing.__init__

    def counting(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        made.append(self)
        real(self, *args, **kwargs)

    monkeypatch.setattr(access._Standing, "__init__", counting)
    assessor = client_for(s["assessors"][0])
    url = reverse("score_community", args=["c", 2, "C112"])
    page = _page(s["items"], {"A1": ("30", ""), "B1": ("19", "少一次活动"), "A2": ("30", "")})
    assert assessor.post(url, page).status_code == 302
    assert Score.objects.count() == 3
    assert len(made) == 1


def test_the_kept_items_equal_the_query_and_a_draft_is_never_kept(
    scoring, django_assert_num_queries
):
    """`standards.published` answers the assessor's items of a published version from memory:
    the same items, in the same order, with the same other departments as the query, for every
    set of departments; a draft version is asked every time."""
    from civicmark.divisions.models import Department
    from civicmark.standards import published
    from civicmark.standards.models import Status

    standard = scoring["standard"]
    every = list(Department.objects.values_list("pk", flat=True))
    for departments in [set(), {every[0]}, set(every[:2]), set(every)]:
        published.forget()
        asked = published.items_scored_by(standard, departments)
        with django_assert_num_queries(0):
            kept = published.items_scored_by(standard, departments)
        queried = published._query(standard, frozenset(departments))
        assert [i.pk for i in kept] == [i.pk for i in asked] == [i.pk for i in queried]
        assert [sorted(d.pk for d in i.other_departments.all()) for i in kept] == [
            sorted(d.pk for d in i.other_departments.all()) for i in queried
        ]
    standard.status = Status.DRAFT
    published.items_scored_by(standard, every)
    with django_assert_num_queries(2):  # the items and their other departments, again
        published.items_scored_by(standard, every)


def test_the_progress_after_a_save_counts_what_he_held_before_it(scoring, client_for):
    """The success message's progress comes from the writer's lock of his scores in the
    community, not from a read before the save: an item scored earlier (here, in another tab,
    so not on the page posted) still counts, and each item counts once."""
    from django.contrib.messages import get_messages

    s = scoring
    assessor = client_for(s["assessors"][0])
    url = reverse("score_community", args=["c", 2, "C111"])
    assert assessor.post(url, _page(s["items"], {"A1": ("30", "")})).status_code == 302
    answer = assessor.post(url, _page(s["items"], {"B1": ("19", "少一次活动")}))
    assert answer.status_code == 302
    said = [str(m) for m in get_messages(answer.wsgi_request)]  # the first save's, then this
    name = s["enrollments"]["C111"].community.name
    assert said[-1] == f"{name}的分数已保存：已评分 2 项，共 {len(s['items'])} 项。"
