from __future__ import annotations

from civicmark.divisions.imports import departments_import
from civicmark.divisions.management.commands import _import_base


class Command(_import_base.Command):
    help = "Import departments (code, name, division_code) from .xlsx or .csv (all or nothing)."
    importer = staticmethod(departments_import)
