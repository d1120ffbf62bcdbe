"""The one upload page shared by every tabular import (divisions, departments, people)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicmark.core.errors import ImportRefused, PlaceError


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File (.xlsx or .csv)"))
    suffixes: tuple[str, ...] = (".xlsx", ".csv")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %d MB.") % (settings.IMPORT_MAX_BYTES // 2**20)
            )
        if not upload.name.lower().endswith(self.suffixes):
            raise forms.ValidationError(_("Use a file ending in %s.") % " / ".join(self.suffixes))
        return upload


def import_page(
    request: HttpRequest,
    *,
    title: str,
    columns: str,
    run: Callable[..., str],
    back: str,
    form_class: type[UploadForm] = UploadForm,
) -> HttpResponse:
    """GET shows the form; POST runs the import and shows every error or a summary. `run` gets
    the file's bytes and name, and the form's other fields (cleaned) as keywords."""
    form = form_class(request.POST or None, request.FILES or None)
    errors: list[PlaceError] = []
    if request.method == "POST" and form.is_valid():
        options = dict(form.cleaned_data)
        upload = options.pop("file")
        try:
            message = run(upload.read(), upload.name, **options)
        except ImportRefused as refused:
            errors = refused.errors
        else:
            messages.success(request, message)
            return redirect(back)
    return render(
        request,
        "core/import.html",
        {
            "form": form,
            "errors": errors,
            "title": title,
            "columns": columns,
            "back": back,
        },
        status=422 if errors else 200,
    )


def posted_file(
    request: HttpRequest, missing: str, max_bytes: int | None = None
) -> tuple[bytes, str]:
    """The file posted as `file` on a page with its own import form, read, and its name: refused
    with `missing` when there is none, and when it is larger than the import limit
    (IMPORT_MAX_BYTES, as on the shared import page, unless the page sets its own)."""
    from civicmark.core.errors import ApplicationError

    upload = request.FILES.get("file")
    if upload is None:
        raise ApplicationError(missing)
    limit = settings.IMPORT_MAX_BYTES if max_bytes is None else max_bytes
    if upload.size and upload.size > limit:
        raise ApplicationError(_("The file is larger than %d MB.") % (limit // 2**20))
    return upload.read(), upload.name or ""


CHOICES_MAX = 300  # past this, a division or department is typed by its code, not picked


def limit_choices(form: forms.Form, **querysets: Any) -> None:
    """Give model choice fields the querysets the authorization layer allows for this person.

    A province's officer reaches ten thousand divisions: a list that long would make the page
    megabytes, so a field chosen by code becomes a text box for the code (still checked against
    the same queryset)."""
    from django.utils.translation import gettext_lazy

    for name, queryset in querysets.items():
        field = form.fields[name]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = queryset
        if (
            field.to_field_name == "code"
            and not isinstance(field, forms.ModelMultipleChoiceField)
            and queryset.count() > CHOICES_MAX
        ):
            field.widget = forms.TextInput(
                attrs={"placeholder": gettext_lazy("code"), "autocomplete": "off"}
            )
            field.help_text = gettext_lazy("Type the code: there are too many to list.")


def wants_chinese_headers(request: HttpRequest) -> bool:
    """Exports speak the reader's language unless `?headers=en` or `?headers=zh` says otherwise."""
    default = "zh" if getattr(request, "LANGUAGE_CODE", "zh").startswith("zh") else "en"
    return request.GET.get("headers", default) == "zh"
