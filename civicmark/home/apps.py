from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HomeConfig(AppConfig):
    """The page each person lands on. It gathers work from every app, so it sits on top of them
    all and nothing imports it (ADR 19)."""

    name = "civicmark.home"
    label = "home"
    verbose_name = _("Home")
