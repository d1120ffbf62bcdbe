"""A round from the command line, with the same services and checks as the round page:
`round finalise|reopen|cover|disagreements|settle SLUG N ...` (issue 15, item 6)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandError

from civicmark.campaigns.models import AcceptanceRound, Enrollment
from civicmark.core.commands import CivicCommand
from civicmark.core.parsing import ParseError, parse_decimal


class Command(CivicCommand):
    help = (
        "A round of a campaign: finalise, reopen (with a reason), set the communities it "
        "covers, list the disagreements its lead must settle (JSON), settle one; each as the "
        "given person, with the same checks as the round page."
    )

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)

        def command(name: str, help_text: str, *, user: bool = True) -> Any:
            found = sub.add_parser(name, help=help_text)
            found.add_argument("campaign", help="the campaign's slug")
            found.add_argument("number", type=int, help="the round's number")
            if user:
                found.add_argument("--user", required=True, help="the person acting")
                found.add_argument(
                    "--county", help="a split county round: the code of the county whose part"
                )
            return found

        command("finalise", "sign the round (or a county's part) off")
        reopen = command("reopen", "reopen a finalised round (or a county's part)")
        reopen.add_argument("--reason", required=True)
        cover = command("cover", "the communities the round covers (the lead's list)")
        cover.add_argument(
            "--communities", required=True, help="comma-separated community names or codes"
        )
        cover.add_argument(
            "--confirm-removal",
            action="store_true",
            dest="confirm_removal",
            help="take out of the round the communities it covers now and the list leaves out "
            "(without it such a change is refused, naming them)",
        )
        command("disagreements", "the disagreements not yet settled, as JSON", user=False)
        settle = command("settle", "settle an item the assessors disagree on")
        settle.add_argument("--community", required=True, help="the community's name or code")
        settle.add_argument("--item", required=True, help="the item's code")
        value = settle.add_mutually_exclusive_group(required=True)
        value.add_argument("--points")
        value.add_argument("--not-applicable", action="store_true", dest="not_applicable")
        settle.add_argument("--reason", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        round_ = (
            AcceptanceRound.objects.select_related("campaign__division", "campaign__standard")
            .filter(campaign__slug=options["campaign"], number=options["number"])
            .first()
        )
        if round_ is None:
            raise CommandError(
                f"No round {options['number']} in a campaign {options['campaign']!r}."
            )
        action = options["action"]
        if action == "disagreements":
            self._disagreements(round_)
            return
        actor = self.acting_user(options)
        county = self._county(round_, options.get("county"))
        if action == "finalise":
            from civicmark.assessments.services import round_finalise

            round_finalise(actor=actor, round_=round_, county=county, via="cli")
            self.stdout.write(f"finalised {round_.campaign.slug} round {round_.number}")
        elif action == "reopen":
            from civicmark.assessments.services import round_reopen

            round_reopen(
                actor=actor, round_=round_, reason=options["reason"], county=county, via="cli"
            )
            self.stdout.write(f"reopened {round_.campaign.slug} round {round_.number}")
        elif action == "cover":
            self._cover(actor, round_, county, options["communities"], options["confirm_removal"])
        else:
            self._settle(actor, round_, options)

    def _county(self, round_: AcceptanceRound, code: str | None) -> Any:
        if not code:
            return None
        from civicmark.campaigns import parts

        county = parts.county_of(round_, code)
        if county is None:
            raise CommandError(f"No county part {code!r} in this round.")
        return county

    def _enrollment(self, actor: Any, round_: AcceptanceRound, text: str) -> Enrollment:
        from civicmark.campaigns.selectors import enrolled_communities

        community = self.named(enrolled_communities(actor, round_.campaign), text)
        return round_.campaign.enrollments.select_related("community").get(community=community)

    def _disagreements(self, round_: AcceptanceRound) -> None:
        from civicmark.scoring.disagreements import open_disagreements

        self.stdout.write(
            json.dumps(
                [
                    {
                        "community": d.community.code,
                        "item": d.item.code,
                        "values": [
                            {
                                "assessor": v.assessor.username,
                                "points": None if v.points is None else str(v.points),
                                "not_applicable": v.not_applicable,
                            }
                            for v in d.values
                        ],
                    }
                    for d in open_disagreements(round_)
                ],
                ensure_ascii=False,
                indent=2,
            )
        )

    def _cover(
        self, actor: Any, round_: AcceptanceRound, county: Any, text: str, confirmed: bool
    ) -> None:
        """The lead's coverage list replaces the round's (or, in a county's part, the part's);
        window, rules, lead and panel stay as they are. Taking communities out needs
        --confirm-removal, as the page asks to confirm."""
        from civicmark.assessments import panels, part_services
        from civicmark.assessments.services import round_configure
        from civicmark.campaigns import parts
        from civicmark.campaigns.selectors import enrolled_communities

        named = self.named_many(enrolled_communities(actor, round_.campaign), text)
        codes = [c.code for c in named]
        found = {
            e.community.code: e
            for e in round_.campaign.enrollments.filter(community__in=named).select_related(
                "community"
            )
        }
        part = part_services.part_for_actor(actor, round_, county)
        listed = list(round_.panel.all())
        if part is None:
            rule, panel = round_.combine_rule, listed
        else:
            rule = parts.rule_for(round_, part.path)
            inside = set(panels.candidates(round_, part).values_list("pk", flat=True))
            panel = [u for u in listed if u.pk in inside]
        round_configure(
            actor=actor,
            round_=round_,
            opens_on=round_.opens_on,
            closes_on=round_.closes_on,
            combine_rule=rule,
            rescore=round_.rescore,
            lead=round_.lead,
            panel=panel,
            covers=[found[c] for c in codes],
            county=part,
            confirm_removal=confirmed,
            via="cli",
        )
        self.stdout.write(f"round {round_.number} covers: {', '.join(codes)}")

    def _settle(self, actor: Any, round_: AcceptanceRound, options: dict[str, Any]) -> None:
        from civicmark.assessments.settling import settle

        enrollment = self._enrollment(actor, round_, options["community"])
        item = round_.campaign.standard.items.filter(code=options["item"]).first()
        if item is None:
            raise CommandError(f"No item {options['item']!r} in the campaign's standard.")
        points = None
        if not options["not_applicable"]:
            try:
                points = parse_decimal(
                    options["points"], places=1, max_digits=6, min_value=None, exact=True
                )
            except ParseError as exc:
                raise CommandError(f"--points {options['points']!r}: {exc.message}") from None
        settle(
            actor=actor,
            round_=round_,
            enrollment=enrollment,
            item=item,
            points=points,
            not_applicable=options["not_applicable"],
            reason=options["reason"],
            via="cli",
        )
        self.stdout.write(f"settled {item.code} for {enrollment.community.code}")
