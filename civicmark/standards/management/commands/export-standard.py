from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from civicmark.core.commands import CivicCommand
from civicmark.standards import formats
from civicmark.standards.models import Standard
from civicmark.standards.services import standard_data


class Command(CivicCommand):
    help = "Export a standard to FILE (.xlsx or .yaml): the latest version unless --standard-version is given."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("slug")
        parser.add_argument("file")
        parser.add_argument("--standard-version", dest="standard_version", type=int)
        parser.add_argument(
            "--chinese",
            action="store_true",
            help="Chinese sheet names and headers (.xlsx; the default, kept for old scripts)",
        )
        parser.add_argument(
            "--english", action="store_true", help="English sheet names and headers (.xlsx)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        qs = Standard.objects.filter(slug=options["slug"])
        if options["standard_version"]:
            qs = qs.filter(version=options["standard_version"])
        standard = qs.order_by("-version").first()
        if standard is None:
            raise CommandError(f"No standard {options['slug']!r}.")
        data = standard_data(standard)
        suffix = Path(options["file"]).suffix.lower()
        if suffix == ".xlsx":
            Path(options["file"]).write_bytes(
                formats.write_xlsx(data, chinese=not options["english"])
            )
        elif suffix in (".yaml", ".yml"):
            Path(options["file"]).write_text(formats.to_yaml(data), encoding="utf-8")
        else:
            raise CommandError("Use a .xlsx or .yaml file.")
        self.stdout.write(f"wrote {standard.slug} v{standard.version} to {options['file']}")
