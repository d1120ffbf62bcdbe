from __future__ import annotations

from civicmark.accounts.management.commands import _import_base
from civicmark.accounts.places.imports import divisions_import


class Command(_import_base.Command):
    help = (
        "Import divisions and community profiles from .xlsx or .csv (all or nothing, idempotent)."
    )
    importer = staticmethod(divisions_import)
