from __future__ import annotations

from civicmark.divisions import imports
from civicmark.divisions.management.commands import _export_base


class Command(_export_base.Command):
    help = "Export departments to FILE (.xlsx or .csv)."
    exporter = staticmethod(imports.departments_export)
