from __future__ import annotations

from civicmark.accounts.management.commands import _import_base
from civicmark.accounts.places.imports import departments_import


class Command(_import_base.Command):
    help = "Import departments (code, name, division_code) from .xlsx or .csv (all or nothing)."
    importer = staticmethod(departments_import)
