"""The forms of a campaign's task and meeting pages (issue 16 item 3): what was typed is read
here, refused beside its field, and shown back; the views pass `cleaned_data` to the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicmark.campaigns.models import Meeting, Task, TaskStatus
from civicmark.core.lookup import PersonChoiceField
from civicmark.core.uploads import limit_choices

NOTE_MAX = 2000  # a task's note: a line or a paragraph, never a document
MINUTES_MAX = 20000  # a meeting's minutes: some pages of text


class TaskForm(forms.Form):
    """A task's status and note, from its page or from its row in the task list (`back` is
    where the row's form returns to)."""

    status = forms.ChoiceField(label=gettext_lazy("status"), choices=TaskStatus.choices)
    note = forms.CharField(
        label=gettext_lazy("note"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    back = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)

    def __init__(self, *args: Any, task: Task, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"status": task.status, "note": task.note})
        super().__init__(*args, **kwargs)
        self.task = task
        if task.follows:
            # Its status is the work's: the page says when it is done, the form keeps it.
            self.fields["status"].widget = forms.HiddenInput()

    def clean_note(self) -> str | None:
        # A form without the box (an older page, a script) leaves the note as it is.
        return self.cleaned_data["note"] if "note" in self.data else None

    def clean_back(self) -> str:
        """Only a page of this campaign: never another site nor another campaign."""
        back = self.cleaned_data["back"]
        prefix = f"/campaigns/{self.task.campaign.slug}/"
        return back if back.startswith(prefix) and "\\" not in back else ""


class TaskFileForm(forms.Form):
    """A document attached to a task (its kind and content are checked by the upload store)."""

    file = forms.FileField(
        label=gettext_lazy("Attach a file (PDF, image, Word, Excel, WPS)"),
        error_messages={"required": gettext_lazy("Choose a file to attach.")},
    )


class TaskOwnerForm(forms.Form):
    """Who owns a task: a person the reader may choose, by name or account name; empty for
    nobody."""

    owner = PersonChoiceField(label=gettext_lazy("owner"), required=False)

    def __init__(self, *args: Any, people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_choices(self, owner=people.filter(is_active=True).order_by("username"))


class AttendanceForm(forms.Form):
    """Who came to a meeting (ticked among its expected attendees) and the minutes."""

    present = forms.TypedMultipleChoiceField(
        label=gettext_lazy("attended"), coerce=int, required=False
    )
    minutes = forms.CharField(
        label=gettext_lazy("minutes"),
        required=False,
        max_length=MINUTES_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, meeting: Meeting, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"minutes": meeting.minutes})
        super().__init__(*args, **kwargs)
        rows = list(meeting.attendance.all())
        field = self.fields["present"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = [(str(r.pk), r.name) for r in rows]
        field.error_messages["invalid_choice"] = _(
            "“%(value)s” is not one of this meeting's expected attendees."
        )

    def clean_minutes(self) -> str | None:
        # Left out of the post, the minutes stay as they are.
        return self.cleaned_data["minutes"] if "minutes" in self.data else None

    def ticked(self) -> set[str]:
        """The rows ticked as shown back: what was posted, or what is stored."""
        if not self.is_bound:
            return set()
        getlist = getattr(self.data, "getlist", None)
        return set(getlist("present") if getlist else self.data.get("present") or [])
