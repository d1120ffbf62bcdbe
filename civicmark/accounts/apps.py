from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "civicmark.accounts"
    label = "accounts"
    verbose_name = _("People and roles")

    def ready(self) -> None:
        from django.contrib import admin

        from civicmark.accounts.signin import AdminSignInForm

        admin.site.login_form = AdminSignInForm
