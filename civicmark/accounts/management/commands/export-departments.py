from __future__ import annotations

from civicmark.accounts.management.commands import _export_base
from civicmark.accounts.places import imports


class Command(_export_base.Command):
    help = "Export departments to FILE (.xlsx or .csv)."
    exporter = staticmethod(imports.departments_export)
