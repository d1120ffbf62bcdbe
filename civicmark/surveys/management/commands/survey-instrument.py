"""Load a survey instrument (and its items' scoring rules) from YAML:

    civicmark survey-instrument FILE --standard SLUG:VERSION [--publish]

    slug: resident-satisfaction
    name: 社区居民满意度与安全感调查
    questions:
      - code: Q1
        text: 您在本社区生活，感到安全吗？
        item: E4                      # an item checked by resident survey (optional)
        scale: [{code: "5", label: 很安全, weight: 100}, ...]
    rules:
      - item: E4
        method: rate                  # or mean
        satisfied: ["5", "4", "3"]
        excluded: ["9"]               # left out of the denominator
        min_sample: 45
        bands: [{low: "80", low_in: true, high: null, points: "4"}, ...]

Loading the same slug again makes the next version; a rule is always a new version."""

from __future__ import annotations

from typing import Any

import yaml
from django.core.management.base import CommandError, CommandParser
from django.db import transaction

from civicmark.core.commands import CivicCommand
from civicmark.core.parsing import parse_id


class Command(CivicCommand):
    help = "Load a survey instrument and its scoring rules from YAML."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--standard", required=True, help="SLUG:VERSION")
        parser.add_argument("--publish", action="store_true")
        self.add_user_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        from civicmark.standards.models import Standard
        from civicmark.surveys import services as svc

        slug, _, version = options["standard"].partition(":")
        standard = Standard.objects.filter(slug=slug, version=parse_id(version) or 0).first()
        if standard is None:
            raise CommandError(f"No standard {options['standard']}.")
        try:
            data = yaml.safe_load(self.read_file(options["file"]))
        except yaml.YAMLError as exc:
            raise CommandError(f"Not valid YAML: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
            raise CommandError("The file needs slug, name and a list of questions.")
        actor = self.acting_user(options)
        with transaction.atomic():
            instrument = svc.instrument_create(
                actor=actor,
                standard=standard,
                slug=str(data.get("slug", "")),
                name=str(data.get("name", "")),
                questions=data["questions"],
            )
            items = {i.code: i for i in standard.items.all()}
            for rule in data.get("rules") or []:
                item = items.get(str(rule.get("item")))
                if item is None:
                    raise CommandError(f"Rule for unknown item {rule.get('item')!r}.")
                svc.rule_set(
                    actor=actor,
                    item=item,
                    method=str(rule.get("method", "")),
                    bands=rule.get("bands") or [],
                    satisfied=[str(x) for x in rule.get("satisfied") or []],
                    excluded=[str(x) for x in rule.get("excluded") or []],
                    min_sample=int(rule.get("min_sample", 50)),
                )
            if options["publish"]:
                svc.instrument_publish(actor=actor, instrument=instrument)
        self.stdout.write(f"{instrument} loaded{' and published' if options['publish'] else ''}")
