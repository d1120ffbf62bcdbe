"""Names, not codes: a field that takes a division or a department by its name or its code.

People think of "东关社区", not of "370102001001". Every field that takes a community, division
or department is a `NamedChoiceField`: one text box that suggests matches as one types (a
`<datalist>` filled by htmx from a scoped search endpoint, no script of our own) and that reads,
server-side, a code, a name, or the "name (code)" a suggestion fills in. A name two objects share
is refused with a message listing them, so that nobody is enrolled by a guess.

The resolver works on any queryset with a code column and a name column (`Keys`: `code` and
`name` for divisions and departments, `username` and `full_name` for people; core sits below the
apps that own them); the queryset is the one the authorization layer gives the form, so a name
out of the person's scope is "not found", exactly like its code.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any, NamedTuple

from django import forms
from django.db.models import Q, QuerySet
from django.urls import reverse_lazy
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicmark.core.names import is_plain

SHOWN = 10  # matches listed in an ambiguity message or a suggestion list
PRELISTED = 60  # a box with this many choices or fewer lists them all before anything is typed
_WITH_CODE = re.compile(r"^(?P<name>.*?)\s*[(（]\s*(?P<code>[^()（）\s]+)\s*[)）]\s*$")


class Keys(NamedTuple):
    """The columns a box reads: the unique code and the human name."""

    code: str = "code"
    name: str = "name"


PLACES = Keys()  # divisions and departments
PEOPLE = Keys("username", "full_name")  # a person: his account name, his full name


def labelled(obj: Any, keys: Keys = PLACES) -> str:
    """What a suggestion fills in and what the box shows back: "name (code)" (the code alone
    when there is no name, as for an account without a full name)."""
    name, code = getattr(obj, keys.name), getattr(obj, keys.code)
    return f"{name} ({code})" if name else str(code)


def resolve(queryset: QuerySet[Any], text: str, keys: Keys = PLACES) -> Any:
    """The one object of `queryset` that `text` names: by code, by "name (code)" or by its whole
    name. Refused with a sentence naming the problem: several share the name (listed, so that
    the person can pick one by its code), or none (with the names containing it, if any)."""
    text = " ".join(text.split())
    if not text:
        raise forms.ValidationError(_("Type a name or a code."), code="required")
    if not is_plain(text):
        # A NUL or a direction mark names nothing, and PostgreSQL refuses NUL in any query.
        raise forms.ValidationError(
            _("A name or code holds no hidden characters (control or direction marks)."),
            code="hidden",
        )
    code, name = keys
    by_code = queryset.filter(**{code: text}).first()
    if by_code is not None:
        return by_code
    with_code = _WITH_CODE.match(text)
    if with_code:
        found = queryset.filter(**{code: with_code["code"]}).first()
        if found is not None:
            return found
    matches = list(queryset.filter(**{name: text})[: SHOWN + 1]) or list(
        queryset.filter(**{f"{name}__iexact": text})[: SHOWN + 1]
    )
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise forms.ValidationError(
            _("“%(text)s” names several: %(listed)s. Pick one by its code.")
            % {"text": text, "listed": _listed(matches, keys)},
            code="ambiguous",
        )
    # Part of a name is a hint, never a choice: "C" must not quietly become "County One".
    near = list(queryset.filter(**{f"{name}__icontains": text})[: SHOWN + 1])
    if near:
        raise forms.ValidationError(
            _("Nothing is named “%(text)s”. Did you mean: %(listed)s?")
            % {"text": text, "listed": _listed(near, keys)},
            code="invalid_choice",
        )
    raise forms.ValidationError(
        _("Nothing you can see is named or coded “%(text)s”.") % {"text": text},
        code="invalid_choice",
    )


def _listed(found: list[Any], keys: Keys = PLACES) -> str:
    return "、".join(labelled(m, keys) for m in found[:SHOWN]) + ("…" if len(found) > SHOWN else "")


def resolve_many(queryset: QuerySet[Any], text: str, keys: Keys = PLACES) -> list[Any]:
    """Several names or codes, one a line or separated by commas or 、 (or spaces between codes):
    each resolved, in order and once. Every problem is reported together, none half-taken."""
    found: list[Any] = []
    problems: list[str] = []
    for piece in (p.strip() for p in re.split(r"[\n,，、;；]+", text)):
        if not piece:
            continue
        try:
            found.append(resolve(queryset, piece, keys))
        except forms.ValidationError as whole:
            # "C111 C112" is two codes; "Community 111" one name. The words are read apart only
            # when the piece as a whole names nothing; if none of them names anything either,
            # the piece is reported as typed ("Community 211", not "Community" and "211").
            words = piece.split()
            if len(words) < 2 or whole.code == "ambiguous":
                problems.extend(whole.messages)
                continue
            taken, refused = [], []
            for word in words:
                try:
                    taken.append(resolve(queryset, word, keys))
                except forms.ValidationError as exc:
                    refused.extend(exc.messages)
            found.extend(taken)
            problems.extend(refused if taken else whole.messages)
    if problems:
        raise forms.ValidationError(problems)
    return list(dict.fromkeys(found))


def search(queryset: QuerySet[Any], text: str, keys: Keys = PLACES) -> list[Any]:
    """What the suggestion list offers for `text`: codes starting with it and names holding it."""
    text = " ".join(text.split())
    if not text or not is_plain(text):
        return []
    code, name = keys
    found = Q(**{f"{code}__istartswith": text}) | Q(**{f"{name}__icontains": text})
    return list(queryset.filter(found).order_by(code)[:SHOWN])


def suggestions(
    queryset: QuerySet[Any], text: str, keys: Keys = PLACES
) -> list[tuple[str, str, str]]:
    """The suggestion list's options: what each fills in ("name (code)"), its name, its code."""
    return [
        (labelled(o, keys), getattr(o, keys.name) or "", str(getattr(o, keys.code)))
        for o in search(queryset, text, keys)
    ]


class NameSearchInput(forms.TextInput):
    """A text box with a suggestion list: htmx asks `search_url` (scoped to the person) as one
    types and puts the answer in the box's `<datalist>`; without script it is a plain box."""

    def __init__(
        self,
        *,
        kind: str,
        level: str = "",
        keys: Keys = PLACES,
        url_name: str = "name_search",
        describe: Callable[[Any], str] | None = None,
        attrs: dict[str, Any] | None = None,
    ):
        super().__init__(attrs={"autocomplete": "off", **(attrs or {})})
        self.kind = kind
        self.level = level
        self.keys = keys
        # An app above accounts (employment's residents) answers from its own scoped endpoint.
        self.url_name = url_name
        # A suggestion's text beside its value: the code unless the app says otherwise.
        self.describe = describe or (lambda o: str(getattr(o, keys.code)))
        self.within = ""  # a code the endpoint narrows its search to (a fair's division)
        self.queryset: QuerySet[Any] | None = None  # the field's, to pre-list a short one

    def _few(self) -> list[Any] | None:
        """The choices when there are few enough to list (the browser filters them as one
        types, by name or code); None when there are more (htmx asks the search endpoint)."""
        if self.queryset is None:
            return []
        few = list(self.queryset[: PRELISTED + 1])
        return few if len(few) <= PRELISTED else None

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> Any:
        attrs = dict(attrs or {})
        list_id = f"{attrs.get('id') or self.attrs.get('id') or name}-suggestions"
        attrs["list"] = list_id
        few = self._few()
        if few is None:
            attrs.update(
                {
                    "hx-get": str(reverse_lazy(self.url_name)),
                    "hx-trigger": "input changed delay:250ms",
                    "hx-target": f"#{list_id}",
                    "hx-swap": "innerHTML",
                    "hx-sync": "this:replace",
                    "hx-vals": json.dumps(
                        {"kind": self.kind, "level": self.level, "field": name}
                        | ({"within": self.within} if self.within else {})
                    ),
                }
            )
        box = super().render(name, value, attrs, renderer)
        options = format_html_join(
            "",
            '<option value="{}">{}</option>',
            ((labelled(o, self.keys), self.describe(o)) for o in few or []),
        )
        return format_html('{}<datalist id="{}">{}</datalist>', box, list_id, options)


class NamedChoiceField(forms.ModelChoiceField):
    """A division, department or person typed by name or code (see the module's docstring)."""

    def __init__(
        self,
        *,
        kind: str,
        level: str = "",
        keys: Keys = PLACES,
        url_name: str = "name_search",
        describe: Callable[[Any], str] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("queryset", None)
        kwargs.setdefault(
            "help_text", gettext_lazy("Type a name or a code; suggestions appear as you type.")
        )
        widget = NameSearchInput(
            kind=kind, level=level, keys=keys, url_name=url_name, describe=describe
        )
        super().__init__(widget=widget, **kwargs)
        self.keys = keys

    def _set_named_queryset(self, queryset: Any) -> None:
        forms.ModelChoiceField._set_queryset(self, queryset)  # type: ignore[attr-defined]
        self.widget.queryset = self._queryset  # type: ignore[attr-defined]

    queryset = property(forms.ModelChoiceField._get_queryset, _set_named_queryset)  # type: ignore[attr-defined]

    def prepare_value(self, value: Any) -> Any:
        if hasattr(value, self.keys.code) and hasattr(value, self.keys.name):
            return labelled(value, self.keys)
        return value

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values or not str(value).strip():
            return None
        if hasattr(value, "pk"):
            value = getattr(value, self.keys.code)
        assert self.queryset is not None
        return resolve(self.queryset, str(value), self.keys)

    def has_changed(self, initial: Any, data: Any) -> bool:
        return str(self.prepare_value(initial) or "") != str(data or "")


class NamedMultipleInput(forms.Textarea):
    """Several names or codes in one box, one a line, with an "add" box below it that suggests
    names as one types (the same datalist and search as a single name box). Picking a suggestion
    or pressing Enter there adds it as a line of the big box (static/civicmark/app.js); the add
    box is never posted, and without script it stays hidden and the big box is typed by hand."""

    def __init__(self, *, kind: str, level: str = "", attrs: dict[str, Any] | None = None):
        super().__init__(attrs={"rows": 2, **(attrs or {})})
        self.adder = NameSearchInput(kind=kind, level=level)

    @property
    def queryset(self) -> QuerySet[Any] | None:
        return self.adder.queryset

    @queryset.setter
    def queryset(self, value: QuerySet[Any] | None) -> None:
        self.adder.queryset = value

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> Any:
        box = super().render(name, value, attrs, renderer)
        box_id = (attrs or {}).get("id") or f"id_{name}"
        adder = self.adder.render(
            f"{name}_add",
            "",
            {
                "id": f"{box_id}_add",
                "class": "form-control form-control-sm mt-1",
                "placeholder": _("Add one: type its name, pick a suggestion"),
                "aria-label": _("Add one: type its name, pick a suggestion"),
                "data-adds-to": box_id,
                "hidden": True,
            },
            renderer,
        )
        return format_html("{}{}", box, adder)


class NamedMultipleField(forms.CharField):
    """Several divisions typed by name or code in one box (pilot communities); the form gives
    it its queryset as `field.queryset`."""

    def __init__(self, *, kind: str = "division", level: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("widget", NamedMultipleInput(kind=kind, level=level))
        super().__init__(**kwargs)
        self._named: QuerySet[Any] | None = None

    @property
    def queryset(self) -> QuerySet[Any] | None:
        return self._named

    @queryset.setter
    def queryset(self, value: QuerySet[Any] | None) -> None:
        self._named = value
        if isinstance(self.widget, NamedMultipleInput):
            self.widget.queryset = value

    def clean(self, value: Any) -> list[Any]:
        text = super().clean(value)
        if not text:
            return []
        assert self.queryset is not None
        return resolve_many(self.queryset, text)


class PersonChoiceField(NamedChoiceField):
    """A person typed by his full name or his account name ("张三", "zhangsan", or the
    "张三 (zhangsan)" a suggestion fills in); the form gives it the people the authorization
    layer lets the reader choose (`authz.users_for_user`), which the suggestions search too."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "help_text",
            gettext_lazy("Type a person's name or account name; suggestions appear as you type."),
        )
        super().__init__(kind="person", keys=PEOPLE, **kwargs)

    def to_python(self, value: Any) -> Any:
        # A person's public id (what the pages posted before, and what scripts hold) still
        # chooses him, within the same queryset.
        try:
            public_id = uuid.UUID(str(value).strip())
        except ValueError:
            return super().to_python(value)
        assert self.queryset is not None
        found = self.queryset.filter(public_id=public_id).first()
        return found if found is not None else super().to_python(value)
