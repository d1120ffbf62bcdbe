from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from civicmark.campaigns.models import Campaign
from civicmark.core.commands import CivicCommand
from civicmark.core.tabular import write_table
from civicmark.scoring import reader


class Command(CivicCommand):
    help = (
        "Print or write a round's stored results: per community code, name, total, categories, "
        "the vetoes that stand, outcome, level, whether commendable, the gates that tripped."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("campaign")
        parser.add_argument("round", type=int)
        parser.add_argument("--format", choices=["json", "csv", "xlsx"], default="json")
        parser.add_argument(
            "--output", help="file to write (required for xlsx; default: standard output)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        campaign = (
            Campaign.objects.filter(slug=options["campaign"]).select_related("standard").first()
        )
        if campaign is None:
            raise CommandError(f"No campaign {options['campaign']!r}.")
        round_ = campaign.rounds.filter(number=options["round"]).first()
        if round_ is None:
            raise CommandError(f"The campaign has no round {options['round']}.")
        # The stored result, as every reader (ADR 17): vetoes are those that stand in this
        # round, whichever round found them; `commendable` is given in every round.
        results = {r.enrollment_id: r for r in reader.stored(round_)}
        categories = list(campaign.standard.categories.values_list("code", flat=True))
        rows: list[dict[str, Any]] = []
        for e in campaign.enrollments.select_related("community").order_by("community__code"):
            r = results[e.pk]
            rows.append(
                {
                    "code": e.community.code,
                    "name": e.community.name,
                    "total": f"{r.total:.2f}",
                    "categories": {c: r.subtotals.get(c, "0.00") for c in categories},
                    "vetoes": [
                        {"code": v["code"], "found_in_round": v["found_in_round"]} for v in r.vetoes
                    ],
                    "gates": [{"item": g["item"], "effect": g["effect"]} for g in r.gates],
                    "commendable": bool(r.commendable),
                    "outcome": r.outcome,
                    "level": r.level,
                }
            )
        fmt, output = options["format"], options["output"]
        if fmt == "json":
            text = json.dumps(rows, ensure_ascii=False, indent=2)
            if output:
                Path(output).write_text(text, encoding="utf-8")
            else:
                self.stdout.write(text)
            return
        header = [
            "code",
            "name",
            "total",
            *categories,
            "vetoes",
            "outcome",
            "level",
            "commendable",
            "gates",
        ]
        table = [
            [
                r["code"],
                r["name"],
                r["total"],
                *r["categories"].values(),
                " ".join(v["code"] for v in r["vetoes"]),
                r["outcome"],
                r["level"],
                "yes" if r["commendable"] else "no",
                " ".join(f"{g['item']}:{g['effect']}" for g in r["gates"]),
            ]
            for r in rows
        ]
        if fmt == "xlsx" and not output:
            raise CommandError("--output FILE is required for xlsx.")
        if output:
            write_table(output, header, table, fmt=fmt, sheet=f"round {round_.number}")
            self.stdout.write(f"wrote {len(rows)} communities to {output}")
        else:
            buffer = io.BytesIO()
            write_table(buffer, header, table, fmt="csv")
            sys.stdout.flush()
            self.stdout.write(buffer.getvalue().decode("utf-8-sig"), ending="")
