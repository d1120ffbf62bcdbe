"""Who may score what (ADR 17): the workflow's answer, beside the workflow it guards.

`score_refusal` says why an assessor may not score an item (or record a veto) of a community in
a round; `ACCESS` hands the same answer, the seal and the sign-off lock to the one writer of
scores (`civicmark.scoring.writer`), which imports no workflow app.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.assessments import panels, sealing
from civicmark.campaigns import parts
from civicmark.campaigns.models import AcceptanceRound


def departments_of(subject: Any) -> set[int]:
    """The departments that score an item: its own and the others it names (a veto: its own)."""
    ids = {subject.department_id}
    others = getattr(subject, "other_departments", None)
    if others is not None and subject.pk is not None:
        ids.update(d.pk for d in others.all())
    return ids


def score_refusal(
    user: Any, round_: Any, enrollment: Any, item: Any = None, veto: Any = None
) -> str | None:
    """Why this assessor may not score this item of this community in this round, or None.

    On top of `authz.can_score` for any of the item's departments: he sits on the round's
    panel, the round covers the community, and a round that re-scores only what was rectified
    lists the item.

    Only the department and the re-scored items depend on the item: the rest is answered once
    per person, round and community and kept on the round for the request (`_standing`), so a
    page of items, and the writer checking it again, ask it once (issue 19: the save's profile)."""
    standing = _standing(user, round_, enrollment)
    community = enrollment.community
    if standing.conflicted:
        return (
            _("You hold a role in %s or its town, or live or work there: someone else scores it.")
            % community.name
        )
    subject = item if item is not None else veto
    if departments_of(subject).isdisjoint(standing.departments):
        return _("You may not score %(item)s for %(community)s.") % {
            "item": subject.code,
            "community": community.name,
        }
    refusal = standing.refusal()
    if refusal is not None:
        return refusal
    to_score = standing.to_score()
    if item is not None and to_score is not None and item.pk not in to_score:
        return _(
            "%(item)s kept its score from the earlier round; this round does not re-score it."
        ) % {"item": item.code}
    return None


class _Standing:
    """What `score_refusal` asks of a person, a round and a community whatever the item, each
    part asked when first needed (in the order the refusals are given) and then kept."""

    def __init__(self, user: Any, round_: Any, enrollment: Any, grants: list[Any]) -> None:
        self.user, self.round, self.enrollment = user, round_, enrollment
        self.grants = grants  # the grants it was answered from (see `_standing`)
        community = enrollment.community
        self.conflicted = authz.conflicted_over(user, community)
        self.departments = set() if self.conflicted else authz.score_departments(user, community)
        self._refusal: tuple[str | None] | None = None
        self._to_score: tuple[set[int] | None] | None = None

    def refusal(self) -> str | None:
        """The earlier round not finalised, not on the panel, or the community not covered."""
        if self._refusal is None:
            self._refusal = (self._ask(),)
        return self._refusal[0]

    def _ask(self) -> str | None:
        round_, enrollment, community = self.round, self.enrollment, self.enrollment.community
        earlier = panels.earlier_round(round_)
        if earlier is not None and not panels.round_sealed_for(earlier, community):
            return _(
                "%(round)s re-scores what %(earlier)s found; that round is not finalised yet."
            ) % {"round": round_.name, "earlier": earlier.name}
        if not panels.on_panel(self.user, round_, community):
            return _("You are not on the panel of %s.") % round_.name
        if not panels.is_covered(round_, enrollment.pk, status=enrollment.status):
            return _("%(round)s does not cover %(community)s.") % {
                "round": round_.name,
                "community": community.name,
            }
        return None

    def to_score(self) -> set[int] | None:
        if self._to_score is None:
            self._to_score = (panels.items_to_score(self.round, self.enrollment),)
        return self._to_score[0]


def _standing(user: Any, round_: Any, enrollment: Any) -> _Standing:
    """The kept answer for this person and community in this round object, while it holds: the
    same grants (a person whose grants were read again is asked again), the same workflow state
    and the same community."""
    grants = authz.grants(user)
    memo = round_.__dict__.setdefault("_standing_memo", {})
    key = (getattr(user, "pk", None), enrollment.pk, enrollment.status, enrollment.community.path)
    found: _Standing | None = memo.get(key)
    if found is None or found.grants is not grants or found.user is not user:
        found = memo[key] = _Standing(user, round_, enrollment, grants)
    return found


class ScoreAccess:
    """The writer's access object (scoring.writer.Access), and the veto findings'
    (scoring.findings.VetoAccess)."""

    def refusal(self, actor: Any, round_: Any, enrollment: Any, item: Any) -> str | None:
        if (
            enrollment.campaign_id != round_.campaign_id
            or item.standard_id != round_.campaign.standard_id
        ):
            return _("That item or community is not part of this round.")
        if panels.round_sealed_for(round_, enrollment.community):
            return _("The round is finalised: its scores are locked.")
        return score_refusal(actor, round_, enrollment, item)

    def veto_refusal(self, actor: Any, round_: Any, enrollment: Any, veto: Any) -> str | None:
        """For `scoring.findings`: a veto is recorded whatever items the round re-scores."""
        return score_refusal(actor, round_, enrollment, veto=veto)

    def hold(self, round_: Any) -> None:
        """The sign-off lock, then the seal as it stands now (for `sealed` in this write): the
        round's `finalised_at` alone by one short statement, or, for a round split in county
        parts, the round read again with its parts (`round_sealed_for` reads both)."""
        sealing.hold_for_writing(round_)
        if parts.is_split(round_):
            round_.__dict__["_fresh_for_writer"] = AcceptanceRound.objects.select_related(
                "campaign__division"
            ).get(pk=round_.pk)
            return
        with connection.cursor() as cursor:
            # The table's name from the model, the key bound: portable SQL, no query compiled.
            cursor.execute(
                _FINALISED_SQL.format(table=_qn(AcceptanceRound._meta.db_table)), [round_.pk]
            )
            row = cursor.fetchone()
        round_.__dict__["_fresh_for_writer"] = row is None or row[0] is not None

    def sealed(self, round_: Any, enrollment: Any) -> bool:
        """The seal read again inside the writer's transaction: the round a request loaded may
        be older than a sign-off made since."""
        fresh = round_.__dict__.get("_fresh_for_writer", round_)
        if isinstance(fresh, bool):  # a round of one piece: finalised or not, as read in `hold`
            return fresh
        return bool(panels.round_sealed_for(fresh, enrollment.community))


_FINALISED_SQL = "SELECT finalised_at FROM {table} WHERE id = %s"  # noqa: S608


def _qn(name: str) -> str:
    return str(connection.ops.quote_name(name))


ACCESS = ScoreAccess()


def rectification_refusal(user: Any, community: Any) -> str | None:
    """Why the person may not report on (or add evidence to) a rectification of `community`, or
    None: its own staff report what they fixed, and so may any office above it. The services
    refuse with this reason; the page shows its forms only where it is None."""
    if authz.is_community_staff(user, community) or authz.can_change_division(user, community):
        return None
    return _("You may not update this rectification.")
