"""Dynamic management of titles (动态管理, issue 17 item 4): a title given is re-checked, and one
that fails and is not put right is withdrawn.

- A title is a certificate (`Certificate`): one stands per enrollment, and the public page
  (`/v/<code>/`) says whether it still does. So the re-checks live here, in results, beside the
  certificates they act on (ADR 20 had planned them in quality, which sits above results).
- Each year the city draws a sample of the campaign's standing titles (`recheck_draw`): a pure,
  seeded draw (`draw`), stratified by title (standard or commended unit) and county, the sizes
  as a share or a count per stratum, the seed and each stratum's list kept.
- A drawn title's re-check is recorded (`recheck_record`): passed, or failed with a finding and
  a deadline, which opens a rectification in the community's own list
  (`assessments.services.rectification_open`, so its to-do and the overdue rule apply).
- The follow-up (`recheck_follow_up`): passed, the title stands and the re-check closes (the
  rectification is closed with it); failed, which is only said after the deadline.
- The withdrawal (`title_withdraw`): only once a follow-up dated after the deadline failed
  (whether the community left the rectification open or reports it done). The certificate is
  revoked as a withdrawal (`withdrawn`), which the public page words apart from a revocation for an error, and the enrollment moves to
  the workflow's "title withdrawn" in the same transaction (the one step only this service
  takes, `workflow.TITLE_WITHDRAWAL`), so the commendation, the lists and the certificates
  follow it (ADR 20).

Who may: the municipal office (a city administrator over the campaign, not a county officer
named lead of its municipal rounds) that may issue the campaign's certificates (not tied to a
community its rounds cover: `certificates_issue`'s checks), for every page and write here.
"""

from __future__ import annotations

import math
import random
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.accounts.roles import Role
from civicmark.assessments import panels
from civicmark.assessments.models import Rectification, RectificationStatus
from civicmark.assessments.services import rectification_open, rectification_update
from civicmark.assessments.workflow import TITLE_WITHDRAWAL, State, step_for, transition_apply
from civicmark.campaigns.models import Campaign
from civicmark.core import audit
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.core.files import store_upload
from civicmark.divisions.models import Division, Level
from civicmark.results.models import (
    Certificate,
    RecheckDraw,
    RecheckEvidence,
    RecheckSizeKind,
    RecheckStatus,
    TitleKind,
    TitleRecheck,
)

SEED_MAX = 2**63 - 1  # what a BigIntegerField keeps
TEXT_MAX = 2000


# --- the pure draw --------------------------------------------------------------------------


def stratum_size(population: int, kind: str, size: int) -> int:
    """How many of a stratum's `population` titles are drawn: `size` of them, or `size` percent
    rounded up; at least one of a stratum that has any, unless its size is nought."""
    if population <= 0 or size <= 0:
        return 0
    if kind == RecheckSizeKind.SHARE:
        return min(population, max(1, math.ceil(population * size / 100)))
    return min(population, size)


def draw(
    seed: int, strata: Mapping[str, Sequence[int]], sizes: Mapping[str, int]
) -> dict[str, list[int]]:
    """Draw `sizes[key]` of each stratum's ids without replacement, reproducibly from `seed`.
    Each stratum's generator is seeded from the seed and its key, and its ids are sorted first,
    so the order the lists come in changes nothing and one stratum never moves another's."""
    drawn: dict[str, list[int]] = {}
    for key in sorted(strata):
        population = sorted(set(strata[key]))
        # Reproducible on purpose (anyone may draw again from the recorded seed); the seed
        # itself comes from `secrets` when the city gives none.
        rng = random.Random(f"{seed}/{key}")  # noqa: S311
        drawn[key] = sorted(rng.sample(population, min(sizes.get(key, 0), len(population))))
    return drawn


# --- who may --------------------------------------------------------------------------------


def city_refusal(user: Any, campaign: Campaign) -> str | None:
    """Why the person may not re-check the campaign's titles (None: he may): the municipal
    office, which leads every municipal round and is tied to no community one covers."""
    rounds = list(campaign.rounds.filter(level=Level.CITY).order_by("number"))
    if not rounds:
        return _("The campaign has no municipal round: it gives no title to re-check.")
    # The municipal office, not a county officer named lead of the municipal rounds: he would
    # pass or withdraw his own county's titles, which no community or town tie catches (as
    # the public notice, `assessments.notice.lead_refusal`).
    path = campaign.division.path
    if not authz.is_super(user) and not any(
        g.role == Role.CITY_ADMIN and path.startswith(g.path) for g in authz.grants(user)
    ):
        return _("Only the municipal office re-checks titles.")
    for round_ in rounds:
        if not authz.can_lead_round(user, round_):
            return _("Only the municipal office re-checks titles.")
        if refusal := panels.lead_refusal(user, round_):
            return refusal
    return None


# --- the population -------------------------------------------------------------------------


def counties(campaign: Campaign) -> list[Division]:
    """The campaign's own county, or the counties of its city, in path order."""
    if campaign.division.level == Level.COUNTY:
        return [campaign.division]
    return list(
        Division.objects.filter(level=Level.COUNTY, path__startswith=campaign.division.path)
    )


def standing(campaign: Campaign) -> QuerySet[Certificate]:
    return Certificate.objects.filter(
        enrollment__campaign=campaign, revoked_at__isnull=True
    ).select_related("enrollment__community")


def kind_of(certificate: Certificate) -> str:
    """A commended community's title is a commended unit's; every other, a standard unit's."""
    if certificate.enrollment.status == "commended":
        return TitleKind.COMMENDED
    return TitleKind.STANDARD


def county_of(certificate: Certificate, found: Sequence[Division]) -> Division | None:
    path = certificate.enrollment.community.path
    return next((c for c in found if path.startswith(c.path)), None)


def stratum_key(kind: str, county: Division | None) -> str:
    return f"{kind}/{county.code if county else '-'}"


# --- writes ---------------------------------------------------------------------------------


def sizes_refusal(kind: str, standard_size: int, commended_size: int) -> tuple[str, str] | None:
    """What is wrong with these sizes, as (the field it belongs beside, the sentence)."""
    if kind not in RecheckSizeKind.values:
        return "kind", _("Choose a share or a number of titles.")
    for name, size in (("standard_size", standard_size), ("commended_size", commended_size)):
        if size < 0:
            return name, _("A size is nought or more.")
        if kind == RecheckSizeKind.SHARE and size > 100:
            return name, _("A share is at most 100 percent.")
    if standard_size == 0 and commended_size == 0:
        return "standard_size", _("Draw at least one kind of title: both sizes are nought.")
    return None


def year_refusal(campaign: Campaign, year: int, today: date) -> str | None:
    if not campaign.year <= year <= today.year + 1:
        return _("The year of a re-check is from %(first)d (the campaign's) to %(last)d.") % {
            "first": campaign.year,
            "last": today.year + 1,
        }
    return None


def recheck_draw(
    *,
    actor: Any,
    campaign: Campaign,
    year: int,
    kind: str,
    standard_size: int,
    commended_size: int,
    seed: int | None = None,
    via: str = "web",
) -> RecheckDraw:
    """Draw the year's re-checks among the campaign's standing titles (once a year), record the
    seed and every stratum's list, and open a pending re-check for each title drawn."""
    if refusal := city_refusal(actor, campaign):
        raise NotAllowed(refusal)
    if refused := year_refusal(campaign, year, timezone.localdate()):
        raise ApplicationError(refused)
    if refused_sizes := sizes_refusal(kind, standard_size, commended_size):
        raise ApplicationError(refused_sizes[1])
    if seed is not None and not 0 <= seed <= SEED_MAX:
        raise ApplicationError(_("The seed is a whole number from 0 to %d.") % SEED_MAX)
    if RecheckDraw.objects.filter(campaign=campaign, year=year).exists():
        raise ApplicationError(_("The re-checks of %d are drawn already: once a year.") % year)
    found = counties(campaign)
    titles = {c.pk: c for c in standing(campaign)}
    if not titles:
        raise ApplicationError(_("No title of the campaign stands: there is nothing to re-check."))
    strata: dict[str, list[int]] = {}
    where: dict[int, tuple[str, Division | None]] = {}
    for cert in titles.values():
        kind_, county = kind_of(cert), county_of(cert, found)
        strata.setdefault(stratum_key(kind_, county), []).append(cert.pk)
        where[cert.pk] = (kind_, county)
    sizes = {
        key: stratum_size(
            len(ids), kind, standard_size if key.startswith("standard/") else commended_size
        )
        for key, ids in strata.items()
    }
    if not any(sizes.values()):
        raise ApplicationError(_("No title stands of the kind these sizes draw."))
    seed = secrets.randbelow(SEED_MAX) if seed is None else seed
    drawn = draw(seed, strata, sizes)
    with transaction.atomic():
        record = RecheckDraw.objects.create(
            campaign=campaign,
            year=year,
            seed=seed,
            kind=kind,
            standard_size=standard_size,
            commended_size=commended_size,
            strata={k: {"population": len(strata[k]), "size": sizes[k]} for k in sorted(strata)},
            drawn_by=actor if getattr(actor, "pk", None) else None,
        )
        TitleRecheck.objects.bulk_create(
            TitleRecheck(
                draw=record, certificate=titles[pk], kind=where[pk][0], county=where[pk][1]
            )
            for ids in drawn.values()
            for pk in ids
        )
        audit.record(
            actor=actor,
            via=via,
            action="recheck.drawn",
            object_type="campaign",
            object_ref=f"{campaign.slug}/{year}",
            scope_path=campaign.division.path,
            summary=f"{year}: seed {seed}",
            after={
                "seed": str(seed),
                "kind": kind,
                "standard_size": standard_size,
                "commended_size": commended_size,
                "strata": {
                    key: {
                        "population": len(strata[key]),
                        "size": sizes[key],
                        "drawn": [titles[pk].enrollment.community.code for pk in drawn[key]],
                    }
                    for key in sorted(strata)
                },
            },
        )
    return record


def _checks(actor: Any, recheck: TitleRecheck, *states: str) -> tuple[TitleRecheck, Certificate]:
    """The checks every step of a re-check shares, on the row read again and locked inside the
    step's transaction (two people recording the same re-check at once do not both succeed,
    and an object loaded before another step is never trusted): who, the certificate still
    standing (a revocation for an error closes its re-check), the state the step starts from."""
    fresh = (
        TitleRecheck.objects.select_for_update(of=("self",))
        .select_related("certificate__enrollment__community", "certificate__round", "rectification")
        .get(pk=recheck.pk)
    )
    certificate = fresh.certificate
    if refusal := city_refusal(actor, certificate.enrollment.campaign):
        raise NotAllowed(refusal)
    if not certificate.stands:
        raise ApplicationError(_("The certificate no longer stands: its re-check is closed."))
    if fresh.status not in states:
        raise ApplicationError(
            _("This re-check is “%s”: that step is not open to it.")
            % RecheckStatus(fresh.status).label
        )
    return fresh, certificate


def _text(value: str, refusal: str, field: str) -> str:
    """A finding or a reason; a refusal's `code` names the field it is shown beside."""
    text = value.strip()
    if not text:
        raise ApplicationError(refusal, code=field)
    if len(text) > TEXT_MAX:
        raise ApplicationError(_("At most %d characters.") % TEXT_MAX, code=field)
    return text


def _day(on: date, after: date, refusal: str) -> None:
    """A date typed for a step: not in the future, not before what it follows."""
    if on > timezone.localdate():
        raise ApplicationError(
            _("The date is in the future: record a re-check once it is done."), code="checked_on"
        )
    if on < after:
        raise ApplicationError(refusal, code="checked_on")


def _attach(actor: Any, recheck: TitleRecheck, upload: UploadedFile | None, step: str) -> str:
    if upload is None:
        return ""
    community = recheck.certificate.enrollment.community
    try:
        stored = store_upload(
            upload,
            folder=f"recheck/{recheck.certificate.enrollment.campaign.slug}/{community.code}",
        )
    except ApplicationError as exc:
        raise ApplicationError(exc.message, code="file") from exc
    RecheckEvidence.objects.create(
        recheck=recheck,
        step=step,
        uploaded_by=actor if getattr(actor, "pk", None) else None,
        **stored.fields(),
    )
    return stored.sha256


def recheck_record(
    *,
    actor: Any,
    recheck: TitleRecheck,
    passed: bool,
    checked_on: date,
    finding: str,
    due_on: date | None = None,
    upload: UploadedFile | None = None,
    via: str = "web",
    entered_on: date | None = None,
) -> TitleRecheck:
    """A drawn title's re-check: passed (the title stands), or failed with what was found and
    the deadline to put it right, which opens the community's rectification. The deadline comes
    after the day it is entered (today; `entered_on`, a day between the re-check and today, is
    for the demo's story told after the fact, and no page passes it): a deadline already past
    leaves the community no day to rectify."""
    today = timezone.localdate()
    entered = today if entered_on is None else entered_on
    with transaction.atomic():
        recheck, certificate = _checks(actor, recheck, RecheckStatus.PENDING)
        finding = _text(finding, _("Say what the re-check found."), "finding")
        _day(
            checked_on,
            certificate.round.closes_on,
            _("A re-check comes after the round that gave the title (it closed on %s).")
            % certificate.round.closes_on.isoformat(),
        )
        if not passed:
            if due_on is None:
                raise ApplicationError(_("Set the deadline for the rectification."), code="due_on")
            if due_on <= checked_on:
                raise ApplicationError(
                    _("The deadline comes after the day of the re-check."), code="due_on"
                )
            if not checked_on <= entered <= today:
                raise ApplicationError(
                    _("A re-check is entered on or after its day, and not in the future."),
                    code="checked_on",
                )
            if due_on <= entered:
                raise ApplicationError(
                    _(
                        "The deadline comes after the day it is set (%s): the community must "
                        "have time to put it right."
                    )
                    % entered.isoformat(),
                    code="due_on",
                )
        recheck.status = RecheckStatus.PASSED if passed else RecheckStatus.FAILED
        recheck.checked_on, recheck.finding = checked_on, finding
        recheck.recorded_by = actor if getattr(actor, "pk", None) else None
        if not passed:
            recheck.rectification = rectification_open(
                actor=actor,
                round_=certificate.round,
                enrollment=certificate.enrollment,
                reason=finding,
                due_on=due_on,
                via=via,
            )
        recheck.save(
            update_fields=["status", "checked_on", "finding", "recorded_by", "rectification"]
        )
        sha = _attach(actor, recheck, upload, "checked")
        audit.record(
            actor=actor,
            via=via,
            action="recheck.recorded",
            object_type="certificate",
            object_ref=certificate.code,
            scope_path=certificate.enrollment.community.path,
            summary=finding[:255],
            before={"status": RecheckStatus.PENDING},
            after={
                "status": recheck.status,
                "checked_on": checked_on.isoformat(),
                "finding": finding,
                **({"due_on": due_on.isoformat()} if due_on and not passed else {}),
                **({"sha256": sha} if sha else {}),
            },
        )
    return recheck


def recheck_follow_up(
    *,
    actor: Any,
    recheck: TitleRecheck,
    passed: bool,
    checked_on: date,
    finding: str,
    upload: UploadedFile | None = None,
    via: str = "web",
) -> TitleRecheck:
    """The city re-checks a failed title again: passed, the title stands and the re-check (and
    its rectification) closes; failed, which is only said once the deadline has passed (until
    then the community still has time), and opens the way to the withdrawal."""
    with transaction.atomic():
        recheck, certificate = _checks(actor, recheck, RecheckStatus.FAILED)
        rectification = recheck.rectification
        assert recheck.checked_on is not None and rectification is not None
        finding = _text(finding, _("Say what the follow-up found."), "finding")
        _day(
            checked_on,
            recheck.checked_on,
            _("The follow-up comes after the re-check of %s.") % recheck.checked_on.isoformat(),
        )
        due = rectification.due_on
        if not passed and due is not None and checked_on <= due:
            raise ApplicationError(
                _(
                    "The rectification is due on %s: a follow-up that fails it is dated after that "
                    "day (until then the community still has time)."
                )
                % due.isoformat(),
                code="checked_on",
            )
        recheck.status = RecheckStatus.PASSED if passed else RecheckStatus.FAILED_AGAIN
        recheck.follow_up_on, recheck.follow_up_finding = checked_on, finding
        recheck.recorded_by = actor if getattr(actor, "pk", None) else None
        recheck.save(update_fields=["status", "follow_up_on", "follow_up_finding", "recorded_by"])
        if passed and rectification.status == RectificationStatus.OPEN:
            # The title stands: the community's task is closed with the city's finding, so
            # that it is not counted overdue ever after.
            rectification_update(
                actor=actor,
                rectification=rectification,
                status=RectificationStatus.DONE,
                note=finding,
            )
        sha = _attach(actor, recheck, upload, "follow_up")
        audit.record(
            actor=actor,
            via=via,
            action="recheck.followed_up",
            object_type="certificate",
            object_ref=certificate.code,
            scope_path=certificate.enrollment.community.path,
            summary=finding[:255],
            before={"status": RecheckStatus.FAILED},
            after={
                "status": recheck.status,
                "follow_up_on": checked_on.isoformat(),
                "follow_up_finding": finding,
                **({"sha256": sha} if sha else {}),
            },
        )
    return recheck


def withdrawal_refusal(recheck: TitleRecheck, today: date) -> str | None:
    """Why the title may not be withdrawn yet (None: it may): only once the city's follow-up,
    dated after the deadline, has failed (`recheck_follow_up`); a rectification left open past
    its deadline is re-checked first too, so that a withdrawal always rests on a recorded
    finding after the community's time ran out."""
    if recheck.status == RecheckStatus.FAILED_AGAIN:
        return None
    if recheck.status != RecheckStatus.FAILED:
        return _("Only a title that failed its re-check is withdrawn.")
    rectification = recheck.rectification
    assert rectification is not None
    if rectification.due_on is not None and today <= rectification.due_on:
        return (
            _("The rectification is due on %s: a title is withdrawn only after its deadline.")
            % rectification.due_on.isoformat()
        )
    if rectification.status == RectificationStatus.DONE:
        return _(
            "The community reports the rectification done: re-check it (the follow-up) before "
            "withdrawing the title."
        )
    return _(
        "The deadline has passed: re-check it (the follow-up) and record that it failed before "
        "withdrawing the title."
    )


def title_withdraw(
    *,
    actor: Any,
    recheck: TitleRecheck,
    reason: str,
    upload: UploadedFile | None = None,
    via: str = "web",
) -> TitleRecheck:
    """Withdraw a title that failed its re-check and was not put right by the deadline: its
    certificate is revoked as a withdrawal, with the reason, and the public page says so."""
    with transaction.atomic():
        recheck, certificate = _checks(
            actor, recheck, RecheckStatus.FAILED, RecheckStatus.FAILED_AGAIN
        )
        reason = _text(reason, _("Say why the title is withdrawn."), "reason")
        if refusal := withdrawal_refusal(recheck, timezone.localdate()):
            raise ApplicationError(refusal, code="reason")
        before = recheck.status
        certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
        certificate.revoked_at = timezone.now()
        certificate.revoked_reason = reason
        certificate.withdrawn = True
        certificate.save(update_fields=["revoked_at", "revoked_reason", "withdrawn"])
        recheck.status = RecheckStatus.WITHDRAWN
        recheck.recorded_by = actor if getattr(actor, "pk", None) else None
        recheck.save(update_fields=["status", "recorded_by"])
        enrollment = certificate.enrollment
        if step_for(enrollment.status, State.TITLE_WITHDRAWN) is not None:
            # The workflow follows (standard unit, proposed or commended -> title withdrawn):
            # the community is no longer named anywhere, nor commended (ADR 20).
            transition_apply(
                actor=actor,
                campaign=enrollment.campaign,
                enrollments=[enrollment],
                to=State.TITLE_WITHDRAWN,
                comment=reason,
                via=via,
                service=TITLE_WITHDRAWAL,
            )
        sha = _attach(actor, recheck, upload, "withdrawn")
        audit.record(
            actor=actor,
            via=via,
            action="title.withdrawn",
            object_type="certificate",
            object_ref=certificate.code,
            scope_path=certificate.enrollment.community.path,
            summary=reason[:255],
            before={"status": before, "stands": True},
            after={
                "status": RecheckStatus.WITHDRAWN,
                "stands": False,
                "reason": reason,
                **({"sha256": sha} if sha else {}),
            },
        )
    return recheck


# --- reads ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """A drawn title on the city's page, with the steps open to it today."""

    recheck: TitleRecheck
    today: date

    @property
    def rectification(self) -> Rectification | None:
        return self.recheck.rectification

    @property
    def deadline_passed(self) -> bool:
        r = self.rectification
        return r is not None and r.due_on is not None and r.due_on < self.today

    @property
    def awaits_follow_up(self) -> bool:
        return self.recheck.status == RecheckStatus.FAILED

    @property
    def withdraw_refusal(self) -> str | None:
        """Why the title may not be withdrawn today, in the service's own words."""
        return withdrawal_refusal(self.recheck, self.today)

    @property
    def may_withdraw(self) -> bool:
        return self.withdraw_refusal is None

    @property
    def late(self) -> bool:
        """Past its deadline with nothing decided: the city's to-do marks it."""
        return (self.awaits_follow_up and self.deadline_passed) or (
            self.recheck.status == RecheckStatus.FAILED_AGAIN
        )


def draws_of(campaign: Campaign) -> list[RecheckDraw]:
    return list(RecheckDraw.objects.filter(campaign=campaign))


def rows_of(draw_: RecheckDraw, today: date) -> list[Row]:
    rechecks = draw_.rechecks.select_related(
        "certificate__enrollment__community__parent",
        "certificate__round",
        "county",
        "rectification",
    ).prefetch_related("evidence")
    return [Row(r, today) for r in rechecks]


@dataclass(frozen=True)
class Stratum:
    kind: str
    county: str
    population: int
    size: int

    @property
    def kind_label(self) -> str:
        return str(TitleKind(self.kind).label)


def strata_of(draw_: RecheckDraw) -> list[Stratum]:
    """The draw's strata as recorded, with their counties' names."""
    names = dict(
        Division.objects.filter(code__in=[k.split("/", 1)[1] for k in draw_.strata]).values_list(
            "code", "name"
        )
    )
    return [
        Stratum(
            key.split("/", 1)[0],
            names.get(key.split("/", 1)[1], "—"),
            int(v.get("population", 0)),
            int(v.get("size", 0)),
        )
        for key, v in sorted(draw_.strata.items())
    ]
