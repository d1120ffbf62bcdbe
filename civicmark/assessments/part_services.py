"""Leading one county's part of a split round (ADR 12): its coverage, panel and rule, and its
sign-off. `services.round_configure`, `round_finalise` and `round_reopen` hand a county officer's
call (or anyone's call that names a county) to the functions here.

A part's entries are the communities under its county's path and the panel members appointed in
it; a change replaces those and leaves every other county's entries exactly as they were.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.accounts.models import RoleAssignment
from civicmark.accounts.roles import Role
from civicmark.assessments import followers, panels, sealing
from civicmark.assessments.models import Rectification
from civicmark.campaigns import parts
from civicmark.campaigns.models import AcceptanceRound, CombineRule, Enrollment, RoundPart
from civicmark.core import audit
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.divisions.models import Division
from civicmark.scoring.models import Score, VetoFinding


def part_for_actor(actor: Any, round_: AcceptanceRound, county: Division | None) -> Division | None:
    """The county whose part a call is about: the one named, or, when none is named and the
    person leads only a part of a split round, his own county's (None: the whole round)."""
    if county is None and parts.is_split(round_) and not authz.can_lead_round(actor, round_):
        return parts.led_county(actor, round_)
    if county is not None and county.pk not in {c.pk for c in parts.counties(round_)}:
        raise ApplicationError(_("%s has no part of this round.") % county.name)
    return county


def _check_leads(actor: Any, round_: AcceptanceRound, county: Division, what: str) -> None:
    if not authz.can_lead_round(actor, round_, county=county):
        raise NotAllowed(
            _("Only the office leading %(county)s's part of the round may %(what)s it.")
            % {"county": county.name, "what": what}
        )
    if refusal := panels.lead_refusal(actor, round_, county):
        raise NotAllowed(refusal)


def _ref(round_: AcceptanceRound, county: Division) -> str:
    return f"{round_.campaign.slug}/{round_.number}/{county.code}"


def _panel_inside(round_: AcceptanceRound, path: str) -> Any:
    """The listed panel members appointed in the county at `path`."""
    return round_.panel.filter(
        roles__role=Role.ASSESSOR, roles__division__path__startswith=path
    ).distinct()


def _part_state(round_: AcceptanceRound, county: Division) -> dict[str, Any]:
    part = RoundPart.objects.filter(round=round_, county=county).first()
    return {
        "combine_rule": parts.rule_of(part, round_),
        "panel": sorted(_panel_inside(round_, county.path).values_list("username", flat=True)),
        "covers": sorted(
            round_.covers.filter(community__path__startswith=county.path).values_list(
                "community__code", flat=True
            )
        ),
    }


def round_part_configure(
    *,
    actor: Any,
    round_: AcceptanceRound,
    county: Division,
    combine_rule: str,
    panel: list[Any],
    covers: list[Enrollment],
    via: str = "web",
) -> RoundPart:
    """The county's part: its rule, the panel members appointed in the county and the county's
    communities covered (empty lists keep the defaults for this county alone)."""
    _check_leads(actor, round_, county, _("change"))
    if parts.part_sealed(round_, county.path):
        raise ApplicationError(
            _("%s's part of the round is finalised: reopen it before changing it.") % county.name
        )
    if combine_rule not in CombineRule.values:
        raise ApplicationError(_("Unknown combining rule %s.") % combine_rule)
    allowed = set(panels.candidates(round_, county).values_list("pk", flat=True))
    if any(u.pk not in allowed for u in panel):
        raise ApplicationError(
            _("Only assessors appointed in %s sit on its part of the panel.") % county.name
        )
    ids = [e.pk for e in covers]
    inside = round_.campaign.enrollments.filter(pk__in=ids, community__path__startswith=county.path)
    if inside.count() != len(set(ids)):
        raise ApplicationError(_("%s's part covers only its own communities.") % county.name)
    scored = Score.objects.filter(round=round_, enrollment__community__path__startswith=county.path)
    if covers and scored.exclude(enrollment__in=ids).exists():
        raise ApplicationError(
            _("Communities already scored in this round stay covered: keep them in the list.")
        )
    with transaction.atomic():
        before = _part_state(round_, county)
        part, _created = RoundPart.objects.select_for_update().get_or_create(
            round=round_, county=county
        )
        if part.finalised_at is not None:  # finalised meanwhile
            raise ApplicationError(
                _("%s's part of the round is finalised: reopen it before changing it.")
                % county.name
            )
        rule_changed = parts.rule_of(part, round_) != combine_rule
        part.combine_rule = combine_rule
        part.save(update_fields=["combine_rule"])
        round_.panel.remove(*_panel_inside(round_, county.path))
        round_.panel.add(*panel)
        round_.covers.remove(*round_.covers.filter(community__path__startswith=county.path))
        round_.covers.add(*covers)
        parts.forget(round_)
        if rule_changed:
            _refresh(round_)
        audit.record(
            actor=actor,
            via=via,
            action="round.part_configured",
            object_type="round",
            object_ref=_ref(round_, county),
            scope_path=county.path,
            summary=f"{round_.name} · {county.name}",
            before=before,
            after=_part_state(round_, county),
        )
    return part


def check_whole_change(round_: AcceptanceRound, panel: list[Any], covers: list[Enrollment]) -> None:
    """The city changes a split round's lists as a whole, but never a finalised part's entries."""
    for path, part in parts.part_map(round_).items():
        if part.finalised_at is None:
            continue
        old_covers = set(
            round_.covers.filter(community__path__startswith=path).values_list("pk", flat=True)
        )
        new_covers = set(
            round_.campaign.enrollments.filter(
                pk__in=[e.pk for e in covers], community__path__startswith=path
            ).values_list("pk", flat=True)
        )
        old_panel = set(_panel_inside(round_, path).values_list("pk", flat=True))
        appointed = set(
            RoleAssignment.objects.filter(
                user__in=[u.pk for u in panel],
                role=Role.ASSESSOR,
                division__path__startswith=path,
            ).values_list("user_id", flat=True)
        )
        if old_covers != new_covers or old_panel != appointed:
            raise ApplicationError(
                _("%s's part of the round is finalised: reopen it before changing it.")
                % part.county.name
            )


def unscored(round_: AcceptanceRound, enrollments: list[Enrollment]) -> list[str]:
    """The communities with applicable items still unscored, each with how many."""
    all_items = set(round_.campaign.standard.items.values_list("pk", flat=True))
    scored: dict[int, set[int]] = {}
    rows = Score.objects.filter(round=round_, enrollment__in=[e.pk for e in enrollments])
    for pk, item in rows.values_list("enrollment", "item").distinct():
        scored.setdefault(pk, set()).add(item)
    found = []
    for e in enrollments:
        wanted = panels.items_to_score(round_, e)
        missing = (all_items if wanted is None else wanted) - scored.get(e.pk, set())
        if missing:
            found.append(f"{e.community.name} ({len(missing)})")
    return found


def unscored_by_department(
    round_: AcceptanceRound, enrollments: list[Enrollment], county: Any = None
) -> list[str]:
    """Who still has items to score: each department with how many community items wait for
    it, and the assessors of the panel who score for it ("PSB (3: 李四, 王五)"), so that a
    refused sign-off says whom to call, not only which communities wait."""
    items = dict(round_.campaign.standard.items.values_list("pk", "department_id"))
    scored: dict[int, set[int]] = {}
    rows = Score.objects.filter(round=round_, enrollment__in=[e.pk for e in enrollments])
    for pk, item in rows.values_list("enrollment", "item").distinct():
        scored.setdefault(pk, set()).add(item)
    waiting: dict[int, int] = {}
    for e in enrollments:
        wanted = panels.items_to_score(round_, e)
        for item in (set(items) if wanted is None else wanted) - scored.get(e.pk, set()):
            waiting[items[item]] = waiting.get(items[item], 0) + 1
    if not waiting:
        return []
    from civicmark.divisions.models import Department

    names = dict(Department.objects.filter(pk__in=waiting).values_list("pk", "name"))
    assessors: dict[int, list[str]] = {}
    for dept, full_name, username in (
        RoleAssignment.objects.filter(
            role=Role.ASSESSOR,
            department_id__in=waiting,
            user__in=panels.panel(round_, county=county),
        )
        .order_by("user__username")
        .values_list("department_id", "user__full_name", "user__username")
    ):
        assessors.setdefault(dept, []).append(full_name or username)
    found = []
    for dept in sorted(waiting, key=lambda d: names.get(d, "")):
        who = assessors.get(dept)
        found.append(
            _("%(department)s (%(n)d: %(who)s)")
            % {
                "department": names.get(dept, "?"),
                "n": waiting[dept],
                "who": ", ".join(who) if who else _("no assessor on the panel"),
            }
        )
    return found


def still_unscored(
    round_: AcceptanceRound, enrollments: list[Enrollment], county: Any = None
) -> str:
    """The refusal of a sign-off while items are unscored: the communities, and the departments
    and assessors who still have to score them."""
    return _("Items are still unscored for: %(communities)s. Still to score by: %(by)s.") % {
        "communities": ", ".join(unscored(round_, enrollments)),
        "by": "; ".join(unscored_by_department(round_, enrollments, county)),
    }


def round_part_finalise(
    *, actor: Any, round_: AcceptanceRound, county: Division, via: str = "web"
) -> RoundPart:
    """Sign off the county's part: when every applicable item of every community of the county
    that the round covers is scored. Every lost point and veto becomes a rectification; the
    round is finalised as a whole once every part that covers communities is."""
    from civicmark.scoring.rounds import round_results

    _check_leads(actor, round_, county, _("finalise"))
    if parts.part_sealed(round_, county.path):
        raise ApplicationError(_("%s's part of the round is already finalised.") % county.name)
    enrollments = list(
        panels.covered(round_)
        .filter(community__path__startswith=county.path)
        .select_related("community")
    )
    if not enrollments:
        raise ApplicationError(_("%s's part of the round covers no community.") % county.name)
    if unscored(round_, enrollments):
        raise ApplicationError(still_unscored(round_, enrollments, county))
    covered = {e.pk for e in enrollments}
    results = round_results(round_, enrollments=sorted(covered))  # every lost point, in detail
    with transaction.atomic():
        sealing.hold_for_sign_off(round_)  # the score writes under way commit first
        part, _created = RoundPart.objects.select_for_update().get_or_create(
            round=round_, county=county
        )
        if part.finalised_at is not None:
            raise ApplicationError(_("%s's part of the round is already finalised.") % county.name)
        now = timezone.now()
        # The rule in force is kept with the part: a later change of the round's default
        # never changes what this part judged.
        part.combine_rule = parts.rule_of(part, round_)
        part.finalised_at, part.finalised_by = now, actor if getattr(actor, "pk", None) else None
        part.save(update_fields=["combine_rule", "finalised_at", "finalised_by"])
        created = rectifications_for(round_, results, covered)
        parts.forget(round_)
        whole = _finalise_whole_if_complete(round_, now)
        followers.follow_county_round(actor=actor, round_=round_, via=via)
        audit.record(
            actor=actor,
            via=via,
            action="round.part_finalised",
            object_type="round",
            object_ref=_ref(round_, county),
            scope_path=county.path,
            summary=f"{round_.name} · {county.name}",
            after={
                "communities": len(covered),
                "rectifications": created,
                "round_finalised": whole,
            },
        )
    return part


def _finalise_whole_if_complete(round_: AcceptanceRound, now: datetime) -> bool:
    """The round counts as finalised once every county part that covers communities is."""
    paths = panels.covered(round_).values_list("community__path", flat=True)
    needed = parts.covering_counties(round_, list(paths))
    done = set(
        RoundPart.objects.filter(round=round_, finalised_at__isnull=False).values_list(
            "county__path", flat=True
        )
    )
    if not needed <= done:
        return False
    round_.finalised_at = now
    round_.save(update_fields=["finalised_at"])
    return True


def seal_parts(actor: Any, round_: AcceptanceRound, at: datetime) -> int:
    """When a split round is finalised as a whole, every part that covers communities is
    finalised with it (each keeps the rule in force); returns how many were sealed now."""
    if not parts.is_split(round_):
        return 0
    paths = parts.covering_counties(
        round_, list(panels.covered(round_).values_list("community__path", flat=True))
    )
    existing = {
        p.county.path: p for p in RoundPart.objects.filter(round=round_).select_related("county")
    }
    by_path = {c.path: c for c in parts.counties(round_)}
    sealed = 0
    for path in sorted(paths):
        part = existing.get(path) or RoundPart(round=round_, county=by_path[path])
        if part.finalised_at is not None:
            continue
        part.combine_rule = parts.rule_of(part, round_)
        part.finalised_at, part.finalised_by = at, actor if getattr(actor, "pk", None) else None
        part.save()
        sealed += 1
    parts.forget(round_)
    return sealed


def round_part_reopen(
    *, actor: Any, round_: AcceptanceRound, county: Division, reason: str, via: str = "web"
) -> RoundPart:
    """Reopen the county's part, with a reason (audited); the round is then no longer finalised
    as a whole, and every other part stays as it was."""
    _check_leads(actor, round_, county, _("reopen"))
    if not parts.part_sealed(round_, county.path):
        raise ApplicationError(_("%s's part of the round is not finalised.") % county.name)
    if not reason.strip():
        raise ApplicationError(_("Say why the round is reopened."))
    with transaction.atomic():
        whole = round_.finalised_at
        if whole is not None:
            # Finalised as a whole: every other part stays sealed when this one reopens.
            seal_parts(None, round_, whole)
            round_.finalised_at = None
            round_.save(update_fields=["finalised_at"])
        part = RoundPart.objects.select_for_update().get(round=round_, county=county)
        before = {
            "finalised_at": part.finalised_at.isoformat() if part.finalised_at else None,
            "round_finalised_at": whole.isoformat() if whole else None,
        }
        part.finalised_at, part.finalised_by = None, None
        part.save(update_fields=["finalised_at", "finalised_by"])
        parts.forget(round_)
        followers.follow_county_round(actor=actor, round_=round_, via=via)
        audit.record(
            actor=actor,
            via=via,
            action="round.part_reopened",
            object_type="round",
            object_ref=_ref(round_, county),
            scope_path=county.path,
            summary=reason.strip()[:255],
            before=before,
            after={"reason": reason.strip()},
        )
    return part


def unseal_parts(round_: AcceptanceRound) -> None:
    """The whole round reopened: every part with it."""
    RoundPart.objects.filter(round=round_).update(finalised_at=None, finalised_by=None)
    parts.forget(round_)


def _refresh(round_: AcceptanceRound) -> None:
    from civicmark.scoring.materialize import refresh

    refresh(round_)


def rectifications_for(round_: AcceptanceRound, results: dict[int, Any], covered: set[int]) -> int:
    """Every item that lost points and every veto finding of the covered communities becomes a
    task to rectify before the next round (reopening and finalising again does not duplicate
    them)."""
    following = round_.campaign.rounds.filter(number__gt=round_.number).order_by("number").first()
    due = following.opens_on - timedelta(days=1) if following else None
    items = {i.code: i for i in round_.campaign.standard.items.all()}
    reasons: dict[tuple[int, int], str] = {}
    for s in Score.objects.filter(round=round_).exclude(reason="").order_by("id"):
        reasons.setdefault((s.enrollment_id, s.item_id), s.reason)
    existing = set(
        Rectification.objects.filter(round=round_).values_list("enrollment", "item", "veto")
    )
    new = []
    for enrollment_id in covered:
        for code, lost in results[enrollment_id].lost:
            item = items[code]
            if (enrollment_id, item.pk, None) not in existing:
                new.append(
                    Rectification(
                        round=round_,
                        enrollment_id=enrollment_id,
                        item=item,
                        points_lost=lost,
                        reason=reasons.get((enrollment_id, item.pk), ""),
                        due_on=due,
                    )
                )
    for finding in VetoFinding.objects.filter(round=round_):
        if finding.enrollment_id not in covered:
            continue  # another county's part, not finalised with this one
        if (finding.enrollment_id, None, finding.veto_id) not in existing:
            new.append(
                Rectification(
                    round=round_,
                    enrollment_id=finding.enrollment_id,
                    veto_id=finding.veto_id,
                    reason=finding.reason,
                    due_on=due,
                )
            )
    Rectification.objects.bulk_create(new)
    return len(new)
