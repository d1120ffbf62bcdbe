from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The JSON API (ADR 24): a layer beside `home`, reading and writing through the same
    selectors and services as the pages."""

    name = "civicmark.api"
    label = "api"
    default_auto_field = "django.db.models.BigAutoField"
