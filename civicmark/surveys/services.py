"""Every write of the survey module: one function each, checked, audited in one transaction.
Audit events on the answer side name the survey and the community, never a code or a door."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicmark.accounts import authz
from civicmark.core import audit
from civicmark.core.errors import ApplicationError, ImportRefused, NotAllowed, PlaceError
from civicmark.divisions.models import Division, Level
from civicmark.standards.models import CheckMethod
from civicmark.surveys import rules
from civicmark.surveys.models import (
    Collector,
    Draw,
    Drawn,
    FrameHousehold,
    Instrument,
    ItemRule,
    Mode,
    PaperEntry,
    Question,
    Response,
    Slot,
    SubstitutionReason,
    SurveyRound,
    SurveyScore,
    new_code,
    new_tag,
)


def can_run_round(user: Any, round_: Any) -> bool:
    """A round's survey is run by the office that leads the round: draws, door cards, entry,
    exports. The answers become points of that round, so the office being judged never keys
    them: a county runs its own pre-acceptance survey, the city the surveys of its municipal
    rounds (and of a city campaign's county round, which comes in county parts); nobody tied to
    a community the round covers runs it (`panels.lead_refusal`)."""
    from civicmark.assessments import panels

    return authz.can_lead_round(user, round_) and panels.lead_refusal(user, round_) is None


def can_run(user: Any, survey: SurveyRound) -> bool:
    return can_run_round(user, survey.round)


def _runner(user: Any, survey: SurveyRound) -> None:
    if not can_run(user, survey):
        raise NotAllowed(_("Only the office leading the round runs its survey."))


# --- Instruments ----------------------------------------------------------------------------


def instrument_create(
    *, actor: Any, standard: Any, slug: str, name: str, questions: list[dict[str, Any]]
) -> Instrument:
    """A new instrument, or the next version of one: questions with their scales, each mapped
    to an item of the standard that is checked by resident survey."""
    if not authz.is_super(actor) and not (
        standard.division_id and authz.can_manage_standards(actor, standard.division)
    ):
        raise NotAllowed(_("You may not change this standard's instruments."))
    items = {i.code: i for i in standard.items.all()}
    for q in questions:
        code = q.get("item")
        if code and (code not in items or items[code].check_method != CheckMethod.SURVEY):
            raise ApplicationError(
                _("Question %(q)s feeds %(item)s, which is not an item checked by resident survey.")
                % {"q": q.get("code"), "item": code}
            )
        if not q.get("scale") or len({a["code"] for a in q["scale"]}) != len(q["scale"]):
            raise ApplicationError(
                _("Question %s needs a scale of distinct answers.") % q.get("code")
            )
    if len({q["code"] for q in questions}) != len(questions) or not questions:
        raise ApplicationError(_("An instrument needs questions with distinct codes."))
    with transaction.atomic():
        last = Instrument.objects.filter(slug=slug).order_by("-version").first()
        instrument = Instrument.objects.create(
            standard=standard, slug=slug, name=name, version=(last.version + 1) if last else 1
        )
        Question.objects.bulk_create(
            [
                Question(
                    instrument=instrument,
                    code=q["code"],
                    text=q["text"],
                    order=n,
                    item=items.get(q.get("item") or ""),
                    scale=q["scale"],
                )
                for n, q in enumerate(questions)
            ]
        )
        audit.record(
            actor=actor,
            action="survey.instrument_created",
            object_type="instrument",
            object_ref=str(instrument.public_id),
            summary=f"{slug} v{instrument.version}",
        )
    return instrument


def instrument_publish(*, actor: Any, instrument: Instrument) -> Instrument:
    with transaction.atomic():
        if instrument.published_at is not None:
            raise ApplicationError(_("This version is already published."))
        instrument.published_at = timezone.now()
        instrument.save(update_fields=["published_at"])
        audit.record(
            actor=actor,
            action="survey.instrument_published",
            object_type="instrument",
            object_ref=str(instrument.public_id),
            summary=f"{instrument.slug} v{instrument.version}",
        )
    return instrument


def question_edit(*, actor: Any, question: Question, text: str) -> Question:
    if question.instrument.published_at is not None:
        raise ApplicationError(
            _("A published instrument never changes: make a new version instead.")
        )
    with transaction.atomic():
        question.text = text
        question.save(update_fields=["text"])
        audit.record(
            actor=actor,
            action="survey.question_edited",
            object_type="instrument",
            object_ref=str(question.instrument.public_id),
            summary=question.code,
        )
    return question


def rule_set(
    *,
    actor: Any,
    item: Any,
    method: str,
    bands: list[dict[str, Any]],
    satisfied: list[str] | None = None,
    excluded: list[str] | None = None,
    min_sample: int = 50,
) -> ItemRule:
    """A new version of an item's rule (the old ones stay, for the scores made under them)."""
    if item.check_method != CheckMethod.SURVEY:
        raise ApplicationError(_("%s is not checked by resident survey.") % item.code)
    if method not in ("rate", "mean"):
        raise ApplicationError(_("A rule is a satisfaction rate or a weighted mean."))
    if method == "rate" and not satisfied:
        raise ApplicationError(_("Say which answers count as satisfied."))
    rules.check_bands(bands)
    for band in bands:
        if Decimal(str(band["points"])) > item.points or Decimal(str(band["points"])) < 0:
            raise ApplicationError(
                _("Band points go from 0 to the item's %(max)s.") % {"max": item.points}
            )
    with transaction.atomic():
        last = ItemRule.objects.filter(item=item).order_by("-version").first()
        rule = ItemRule.objects.create(
            item=item,
            version=(last.version + 1) if last else 1,
            method=method,
            bands=bands,
            satisfied=satisfied or [],
            excluded=excluded or [],
            min_sample=min_sample,
        )
        audit.record(
            actor=actor,
            action="survey.rule_set",
            object_type="item_rule",
            object_ref=str(rule.pk),
            summary=f"{item.code} v{rule.version}",
        )
    return rule


# --- The frame and the draw ---------------------------------------------------------------


def _frame_frozen(community: Division) -> bool:
    return Draw.objects.filter(community=community, survey__closed_at__isnull=True).exists()


def frame_import(*, actor: Any, community: Division, data: bytes, filename: str) -> int:
    """Replace a community's household list from a spreadsheet (estate, building, door,
    household number). Refused, with every bad row, while a draw of an open survey stands on it."""
    from civicmark.core.tabular import Column, limit, parse_int, read_table

    if community.level != Level.COMMUNITY:
        raise ApplicationError(_("A household list belongs to a community."))
    if not authz.can_keep_ledger(actor, community):
        raise NotAllowed(_("You may not change the household list of %s.") % community.name)
    if _frame_frozen(community):
        raise ApplicationError(
            _(
                "Households of %s have been drawn for an open survey: the list cannot change until it closes."
            )
            % community.name
        )
    table = read_table(
        data,
        filename,
        [
            # Inserted in bulk (no per-row check): each text is measured here.
            Column("estate", ("小区",), max_length=limit(FrameHousehold, "estate")),
            Column("building", ("楼栋", "楼号"), max_length=limit(FrameHousehold, "building")),
            Column("door", ("门牌", "户号", "门牌号"), max_length=limit(FrameHousehold, "door")),
            Column("household", ("户序", "同门户序"), required=False),
        ],
    )
    errors: list[PlaceError] = []
    seen: set[tuple[str, str, str, int]] = set()
    rows: list[FrameHousehold] = []
    for number, row in table.rows:
        estate, building, door = (
            row["estate"].strip(),
            row["building"].strip(),
            row["door"].strip(),
        )
        for column, value in (("estate", estate), ("building", building), ("door", door)):
            if not value:
                errors.append(PlaceError(_("Empty."), row=number, column=column, sheet=table.sheet))
        try:
            no = parse_int(row.get("household", ""), minimum=1) or 1
        except ValueError as exc:
            errors.append(PlaceError(str(exc), row=number, column="household", sheet=table.sheet))
            continue
        key = (estate, building, door, no)
        if key in seen:
            errors.append(
                PlaceError(_("This household is listed twice."), row=number, sheet=table.sheet)
            )
        seen.add(key)
        rows.append(
            FrameHousehold(
                community=community, estate=estate, building=building, door=door, household_no=no
            )
        )
    if errors:
        raise ImportRefused(errors=errors)
    with transaction.atomic():
        old = FrameHousehold.objects.filter(community=community)
        existing = {(h.estate, h.building, h.door, h.household_no): h for h in old}
        keep = [existing[k].pk for k in seen if k in existing]
        # The households whose flag this file turns (set aside, or back in the list): the event
        # keeps both sides, so the list before the file can be put back from the trail.
        flipped = {
            "/".join(map(str, k)): h.active for k, h in existing.items() if h.active != (k in seen)
        }
        old.exclude(pk__in=keep).update(active=False)
        FrameHousehold.objects.filter(pk__in=keep).update(active=True)
        FrameHousehold.objects.bulk_create(
            [r for r in rows if (r.estate, r.building, r.door, r.household_no) not in existing]
        )
        audit.record(
            actor=actor,
            action="survey.frame_imported",
            object_type="division",
            object_ref=community.code,
            scope_path=community.path,
            summary=f"{len(rows)} households",
            before=flipped or None,
            after={key: not active for key, active in flipped.items()} or None,
        )
    return len(rows)


def _free_tag() -> str:
    """A tag no draw has (about a million exist; the unique constraint settles a race)."""
    while True:
        tag = new_tag()
        if not Draw.objects.filter(tag=tag).exists():
            return tag


def draw_households(
    *, actor: Any, survey: SurveyRound, community: Division, seed: str | None = None
) -> Draw:
    """Draw the sample and the ordered reserve of one community; the seed and a snapshot of the
    frame are kept, so the draw can be redone by anyone and the frame cannot move under it."""
    _runner(actor, survey)
    if survey.closed_at is not None:
        raise ApplicationError(_("The survey is closed."))
    frame = list(
        FrameHousehold.objects.filter(community=community, active=True).order_by(
            "estate", "building", "door", "household_no"
        )
    )
    seed = seed or secrets.token_hex(16)
    sample, reserve = rules.draw(
        [h.pk for h in frame], survey.sample_size, survey.reserve_size, seed, survey.method
    )
    with transaction.atomic():
        if Draw.objects.filter(survey=survey, community=community).exists():
            raise ApplicationError(_("%s has already been drawn for this survey.") % community.name)
        draw = Draw.objects.create(
            survey=survey,
            community=community,
            seed=seed,
            method=survey.method,
            tag=_free_tag(),
            frame_snapshot=[[h.pk, str(h)] for h in frame],
            drawn_at=timezone.now(),
        )
        Drawn.objects.bulk_create(
            [
                Drawn(
                    draw=draw,
                    household_id=pk,
                    slot=Slot.SAMPLE,
                    position=n,
                    in_sample=True,
                    code=f"{draw.tag}{new_code()}",
                )
                for n, pk in enumerate(sample, start=1)
            ]
            + [
                Drawn(
                    draw=draw,
                    household_id=pk,
                    slot=Slot.RESERVE,
                    position=n,
                    code=f"{draw.tag}{new_code()}",
                )
                for n, pk in enumerate(reserve, start=1)
            ]
        )
        audit.record(
            actor=actor,
            action="survey.drawn",
            object_type="survey",
            object_ref=str(survey.public_id),
            scope_path=community.path,
            summary=f"{len(sample)} + {len(reserve)} of {len(frame)}, seed {seed}",
        )
    return draw


def substitute(*, actor: Any, drawn: Drawn, reason: str) -> Drawn:
    """Replace a sampled household that cannot answer by the next reserve household, in order,
    with the reason. Never out of order, never a household that has answered."""
    survey = drawn.draw.survey
    _runner(actor, survey)
    if reason not in SubstitutionReason.values:
        raise ApplicationError(_("Give the reason for the substitution."))
    with transaction.atomic():
        locked = Drawn.objects.select_for_update().get(pk=drawn.pk)
        if not locked.in_sample or locked.used:
            raise ApplicationError(_("Only a sampled household that has not answered is replaced."))
        nxt = (
            Drawn.objects.select_for_update(of=("self",))
            .filter(draw=locked.draw, slot=Slot.RESERVE, in_sample=False, replaces__isnull=True)
            .order_by("position")
            .first()
        )
        if nxt is None:
            raise ApplicationError(_("The reserve list is used up."))
        locked.in_sample = False
        locked.replaced_reason = reason
        locked.replaced_by = nxt
        locked.save(update_fields=["in_sample", "replaced_reason", "replaced_by"])
        nxt.in_sample = True
        nxt.save(update_fields=["in_sample"])
        audit.record(
            actor=actor,
            action="survey.substituted",
            object_type="survey",
            object_ref=str(survey.public_id),
            scope_path=locked.draw.community.path,
            summary=f"{locked.slot} {locked.position} → reserve {nxt.position}: {reason}",
        )
    return nxt


def substitution_rate(draw: Draw) -> Fraction:
    drawn = draw.households.filter(slot=Slot.SAMPLE).count()
    replaced = draw.households.exclude(replaced_reason="").count()
    return Fraction(replaced, drawn) if drawn else Fraction(0)


# --- Answers --------------------------------------------------------------------------------


@dataclass
class Outcome:
    stored: bool
    message: str
    errors: dict[str, str] = field(default_factory=dict)


def _check_answers(questions: list[Question], answers: dict[str, str]) -> dict[str, str]:
    errors = {}
    for q in questions:
        allowed = {a["code"] for a in q.scale}
        value = answers.get(q.code, "")
        if value not in allowed:
            errors[q.code] = _("Choose one answer.")
    return errors


def _mark_used(drawn: Drawn) -> None:
    """Mark one code used by rewriting every code of its draw in one statement. On PostgreSQL a
    row carries the transaction that last wrote it (xmin, readable by any SELECT): writing only
    this code would stamp it with the answer's transaction and, code by code, the order of
    answering; rewritten together, all the draw's codes carry the latest answer's transaction,
    which names the draw and no door (ADR 9)."""
    Drawn.objects.filter(draw_id=drawn.draw_id).update(
        used=Case(When(pk=drawn.pk, then=Value(True)), default=F("used"))
    )
    drawn.used = True


def answer(
    *,
    code: str,
    answers: dict[str, str],
    mode: str = Mode.DOOR_CARD,
    collector: str = Collector.RESIDENT,
    client_id: uuid.UUID | None = None,
    actor: Any = None,
) -> Outcome:
    """Record one household's answers under its single-use code. A code outside the draw, a
    used code, or a household no longer in the sample is refused; an entry re-sent from a device
    (same client id) is acknowledged and not stored twice. The response keeps no code."""
    code = (code or "").strip().upper()
    if client_id is not None and Response.objects.filter(client_id=client_id).exists():
        return Outcome(True, _("Already received: thank you."))
    drawn = (
        Drawn.objects.select_related("draw__survey__instrument", "draw__community")
        .filter(code=code)
        .first()
    )
    if drawn is None:
        return Outcome(False, _("This code is not on any door card of a current survey."))
    survey = drawn.draw.survey
    if survey.closed_at is not None:
        return Outcome(False, _("This survey is closed."))
    # Only the survey team enters for a household (None: the operator, as in every service).
    if (mode != Mode.DOOR_CARD or collector != Collector.RESIDENT) and not can_run(actor, survey):
        return Outcome(False, _("Only the survey team enters answers for a household."))
    if collector == Collector.COMMUNITY and survey.refuse_community_collected:
        return Outcome(
            False, _("This survey does not accept answers collected by the community itself.")
        )
    questions = list(survey.instrument.questions.all())
    errors = _check_answers(questions, answers)
    if errors:
        return Outcome(False, _("Answer every question."), errors)
    with transaction.atomic():
        locked = Drawn.objects.select_for_update().get(pk=drawn.pk)
        if locked.used:
            return Outcome(
                False, _("This code has already been used: each household answers once.")
            )
        if not locked.in_sample:
            return Outcome(False, _("This household is not in the survey sample."))
        today = timezone.localdate()
        _mark_used(locked)
        try:
            with transaction.atomic():
                Response.objects.create(
                    survey=survey,
                    community=drawn.draw.community,
                    answered_on=today,
                    mode=mode,
                    collector=collector,
                    answers={q.code: answers[q.code] for q in questions},
                    client_id=client_id,
                )
        except IntegrityError:  # the same device entry raced itself
            transaction.set_rollback(True)
            return Outcome(True, _("Already received: thank you."))
        audit.record(
            actor=actor,
            via="web",
            action="survey.answered",
            object_type="survey",
            object_ref=str(survey.public_id),
            scope_path=drawn.draw.community.path,
            # Codes, named in the reader's language by the audit log (no summary in the
            # writer's language, nor raw codes as words).
            after={"mode": mode, "collector": collector},
        )
    return Outcome(True, _("Thank you: your answers are recorded."))


def paper_enter(
    *, actor: Any, code: str, answers: dict[str, str], collector: str
) -> tuple[str, dict[str, tuple[str, str]]]:
    """One clerk keys one paper form. With the second clerk's keying the form is compared:
    identical keyings become the response at once ("final"); otherwise the differences are
    returned ("conflict") for a supervisor to settle. The same clerk cannot key a form twice."""
    drawn = (
        Drawn.objects.select_related("draw__survey__instrument")
        .filter(code=code.strip().upper())
        .first()
    )
    if drawn is None:
        raise ApplicationError(_("No drawn household has the form number %s.") % code)
    survey = drawn.draw.survey
    _runner(actor, survey)
    errors = _check_answers(list(survey.instrument.questions.all()), answers)
    if errors:
        raise ApplicationError(_("Key every question: %s.") % ", ".join(sorted(errors)))
    if drawn.used:
        raise ApplicationError(_("This form has already been finalised."))
    with transaction.atomic():
        if PaperEntry.objects.filter(drawn=drawn, clerk=actor).exists():
            raise ApplicationError(
                _("You have keyed this form already: the second keying is another clerk's.")
            )
        PaperEntry.objects.create(drawn=drawn, clerk=actor, answers=answers, collector=collector)
        audit.record(
            actor=actor,
            action="survey.paper_keyed",
            object_type="survey",
            object_ref=str(survey.public_id),
            scope_path=drawn.draw.community.path,
            after={"collector": collector},
        )
        entries = list(PaperEntry.objects.filter(drawn=drawn).order_by("id"))
        if len(entries) < 2:
            return "waiting", {}
        a, b = entries[0], entries[1]
        diff = {
            q: (a.answers.get(q, ""), b.answers.get(q, ""))
            for q in sorted(set(a.answers) | set(b.answers))
            if a.answers.get(q) != b.answers.get(q)
        }
        if a.collector != b.collector:
            diff["collector"] = (a.collector, b.collector)
        if diff:
            return "conflict", diff
    paper_finalise(actor=actor, code=drawn.code, answers=answers, collector=collector)
    return "final", {}


def paper_finalise(*, actor: Any, code: str, answers: dict[str, str], collector: str) -> Outcome:
    """The supervisor settles a form (or the two keyings agreed): the response is made, the code
    is used, and the keyings are deleted, so that nothing stays beside a form number: neither
    the answers nor the fact that this form was the paper one (ADR 9)."""
    drawn = Drawn.objects.select_related("draw__survey").filter(code=code.strip().upper()).first()
    if drawn is None:  # a form number nobody drew: said, not a server error
        raise ApplicationError(_("No drawn household has the code %s.") % code.strip().upper())
    _runner(actor, drawn.draw.survey)
    if PaperEntry.objects.filter(drawn=drawn).count() < 2:
        raise ApplicationError(_("A paper form is final only after two clerks have keyed it."))
    with transaction.atomic():
        outcome = answer(
            code=code, answers=answers, mode=Mode.PAPER, collector=collector, actor=actor
        )
        if not outcome.stored:
            raise ApplicationError(outcome.message)
        PaperEntry.objects.filter(drawn=drawn).delete()
    return outcome


# --- From answers to points -------------------------------------------------------------------

MIN_CELL = 5  # no breakdown of fewer answers is ever shown

FLAGS = {
    "below_minimum_sample": gettext_lazy("fewer valid answers than the rule's minimum"),
    "too_many_substitutions": gettext_lazy("substitutions above the alert"),
}


@dataclass
class ItemResult:
    item: Any
    rule: ItemRule
    figure: rules.Figure
    percent: Decimal | None
    computed: Decimal | None
    sampled: int
    answered: int
    response_rate: Decimal | None
    substitution: Decimal
    flags: list[str]

    @property
    def flag_labels(self) -> list[str]:
        return [str(FLAGS[f]) for f in self.flags]

    def inputs(self) -> dict[str, Any]:
        return {
            "valid": self.figure.valid,
            "excluded": self.figure.excluded,
            "value": str(self.percent) if self.percent is not None else None,
            "ci95": [
                round(self.figure.low, 1) if self.figure.low is not None else None,
                round(self.figure.high, 1) if self.figure.high is not None else None,
            ],
            "sampled": self.sampled,
            "answered": self.answered,
            "response_rate": str(self.response_rate) if self.response_rate is not None else None,
            "substitution_rate": str(self.substitution),
            "flags": self.flags,
            "rule_version": self.rule.version,
        }


def percent(f: Fraction) -> Decimal:
    """A fraction as a percentage with one decimal."""
    return (Decimal(f.numerator) * 100 / Decimal(f.denominator)).quantize(Decimal("0.1"))


def counted_answers(survey: SurveyRound, community: Division) -> list[dict[str, str]]:
    """The answer sets that count for a community: all its responses, less those collected by
    the community itself when the survey refuses them."""
    responses = Response.objects.filter(survey=survey, community=community)
    if survey.refuse_community_collected:
        responses = responses.exclude(collector=Collector.COMMUNITY)
    return list(responses.values_list("answers", flat=True))


def item_result(
    survey: SurveyRound,
    community: Division,
    item: Any,
    rule: ItemRule | None = None,
    counted: list[dict[str, str]] | None = None,
) -> ItemResult | None:
    """One item's figure for one community under a rule version (the current one by default);
    `counted` passes answers already read (a page showing every question reads them once)."""
    rule = rule or ItemRule.objects.filter(item=item).order_by("-version").first()
    question = survey.instrument.questions.filter(item=item).first()
    if rule is None or question is None:
        return None
    if counted is None:
        counted = counted_answers(survey, community)
    answers = [a.get(question.code, "") for a in counted]
    if rule.method == "rate":
        figure = rules.rate(answers, rule.satisfied, rule.excluded)
    else:
        weights = {a["code"]: a.get("weight", 0) for a in question.scale}
        figure = rules.mean(answers, weights, rule.excluded)
    draw = Draw.objects.filter(survey=survey, community=community).first()
    sampled = survey.sample_size if draw else 0
    substitution = percent(substitution_rate(draw)) if draw else Decimal(0)
    flags = []
    if figure.valid < rule.min_sample:
        flags.append("below_minimum_sample")
    if substitution > survey.substitution_alert:
        flags.append("too_many_substitutions")
    shown = figure.percent(rule.method)
    computed = None
    if figure.value is not None and not flags:
        value = figure.value * 100 if rule.method == "rate" else figure.value
        computed = rules.points_for(value, rule.bands)
    return ItemResult(
        item=item,
        rule=rule,
        figure=figure,
        percent=shown,
        computed=computed,
        sampled=sampled,
        answered=len(answers),
        response_rate=percent(Fraction(len(answers), sampled)) if sampled else None,
        substitution=substitution,
        flags=flags,
    )


def survey_confirm(
    *,
    actor: Any,
    survey: SurveyRound,
    enrollment: Any,
    item: Any,
    points: Decimal | None = None,
    reason: str = "",
    expected_version: int | None = None,
) -> SurveyScore:
    """The responsible department's assessor confirms the computed points, or gives others with
    a reason (always when nothing was computed: a flagged result is never turned into points by
    itself). The points go into the round's scores through the ordinary score service, with the
    version of his score that he saw (None: he saw none); a score changed since is a conflict
    and nothing is written."""
    from civicmark.assessments.access import score_refusal
    from civicmark.assessments.services import score_save

    result = item_result(survey, enrollment.community, item)
    if result is None:
        raise ApplicationError(_("%s has no survey question and rule.") % item.code)
    refusal = score_refusal(actor, survey.round, enrollment, item)
    if refusal:
        raise NotAllowed(refusal)
    final = result.computed if points is None else points
    if final is None:
        raise ApplicationError(
            _("No points were computed (%s): give the points and the reason.")
            % ", ".join(result.flag_labels or [_("no answers")])
        )
    overridden = result.computed is None or final != result.computed
    if overridden and not reason.strip():
        raise ApplicationError(_("Say why you give other points than the computed ones."))
    basis = _("survey %(value)s%% (n=%(n)s, rule v%(v)s)") % {
        "value": result.percent,
        "n": result.figure.valid,
        "v": result.rule.version,
    }
    with transaction.atomic():
        score_save(
            actor=actor,
            round_=survey.round,
            enrollment=enrollment,
            item=item,
            points=final,
            reason=f"{basis}; {reason.strip()}" if final < item.points or reason.strip() else "",
            expected_version=expected_version,
        )
        record, _created = SurveyScore.objects.update_or_create(
            survey=survey,
            enrollment=enrollment,
            rule=result.rule,
            defaults={
                "inputs": result.inputs(),
                "computed": result.computed,
                "points": final,
                "reason": reason.strip(),
                "by": actor,
            },
        )
        audit.record(
            actor=actor,
            action="survey.confirmed" if not overridden else "survey.overridden",
            object_type="survey",
            object_ref=str(survey.public_id),
            scope_path=enrollment.community.path,
            summary=f"{item.code} {result.computed} → {final}",
        )
    return record


def recompute(score: SurveyScore) -> Decimal | None:
    """The points the archived rule version gives on the same answers (for audits)."""
    result = item_result(score.survey, score.enrollment.community, score.rule.item, score.rule)
    return result.computed if result else None


def breakdown(
    survey: SurveyRound,
    community: Division,
    question: Question,
    counted: list[dict[str, str]] | None = None,
) -> list[tuple[str, int | None]]:
    """Answer counts for one question (of the answers that count); every count of fewer than
    MIN_CELL answers is hidden (None), and so is everything when the community has fewer than
    MIN_CELL answers."""
    if counted is None:
        counted = counted_answers(survey, community)
    answers = [a.get(question.code) for a in counted]
    if len(answers) < MIN_CELL:
        return [(a["label"], None) for a in question.scale]
    out: list[tuple[str, int | None]] = []
    for a in question.scale:
        n = sum(x == a["code"] for x in answers)
        out.append((a["label"], n if n >= MIN_CELL or n == 0 else None))
    return out


def survey_close(*, actor: Any, survey: SurveyRound) -> None:
    _runner(actor, survey)
    with transaction.atomic():
        survey.closed_at = timezone.now()
        survey.save(update_fields=["closed_at"])
        audit.record(
            actor=actor,
            action="survey.closed",
            object_type="survey",
            object_ref=str(survey.public_id),
            summary=str(survey),
        )


def answered_on_range(survey: SurveyRound) -> tuple[dt.date | None, dt.date | None]:
    from django.db.models import Max, Min

    found = Response.objects.filter(survey=survey).aggregate(
        a=Min("answered_on"), b=Max("answered_on")
    )
    return found["a"], found["b"]


def survey_create(
    *,
    actor: Any,
    round_: Any,
    instrument: Instrument,
    sample_size: int = 55,
    reserve_size: int = 20,
    method: str = "systematic",
    substitution_alert: int = 30,
    refuse_community_collected: bool = True,
) -> SurveyRound:
    if not can_run_round(actor, round_):
        raise NotAllowed(_("Only the office leading the round runs its survey."))
    if instrument.published_at is None:
        raise ApplicationError(_("Publish the instrument before surveying with it."))
    if instrument.standard_id != round_.campaign.standard_id:
        raise ApplicationError(_("The instrument belongs to another standard."))
    if not (5 <= sample_size <= 500) or not (0 <= reserve_size <= 500):
        raise ApplicationError(_("Draw 5 to 500 households and up to 500 in reserve."))
    if method not in ("simple", "systematic"):
        raise ApplicationError(_("Unknown sampling method “%s”.") % method)
    with transaction.atomic():
        survey = SurveyRound.objects.create(
            round=round_,
            instrument=instrument,
            sample_size=sample_size,
            reserve_size=reserve_size,
            method=method,
            substitution_alert=substitution_alert,
            refuse_community_collected=refuse_community_collected,
        )
        audit.record(
            actor=actor,
            action="survey.created",
            object_type="survey",
            object_ref=str(survey.public_id),
            scope_path=round_.campaign.division.path,
            summary=str(survey),
        )
    return survey
