from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    """The score: what assessors give, the vetoes that stand, the settled disagreements, and the
    stored result every reader reads (ADR 17)."""

    name = "civicmark.scoring"
    label = "scoring"
    verbose_name = _("Scoring")
