"""Django form fields on the one strict reader (civicmark.core.parsing), and the model-form hook
that gives every model form them instead of Django's own (which accept "NaN", "1E+30", year 1
and, on SQLite, text past the column's length)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.db import models
from django.utils.text import capfirst

from civicmark.core import parsing


class _Strict(forms.CharField):
    """A text box read by one parser; the parser's sentence is the field's error."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 64)  # no number or date is longer; the rest is noise
        super().__init__(**kwargs)

    def read(self, text: str) -> Any:
        raise NotImplementedError

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if text is None or text in self.empty_values:
            return None
        try:
            return self.read(text)
        except parsing.ParseError as exc:
            raise forms.ValidationError(exc.message, code="invalid") from None

    def clean(self, value: Any) -> Any:
        # Length first (a megabyte of digits is refused before it is read), then the parser.
        text = forms.CharField.to_python(self, value)
        self.validate(text)
        self.run_validators(text)
        return self.to_python(value)


class StrictIntegerField(_Strict):
    widget = forms.NumberInput

    def __init__(
        self, *, min_value: int | None = 0, max_value: int | None = parsing.INT_MAX, **kwargs: Any
    ) -> None:
        self.min_value, self.max_value = min_value, max_value
        super().__init__(**kwargs)

    def read(self, text: str) -> int | None:
        return parsing.parse_int(text, min_value=self.min_value, max_value=self.max_value)

    def widget_attrs(self, widget: Any) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        if self.min_value is not None:
            attrs["min"] = self.min_value
        if self.max_value is not None:
            attrs["max"] = self.max_value
        return attrs


class StrictDecimalField(_Strict):
    widget = forms.NumberInput

    def __init__(
        self,
        *,
        places: int = 2,
        max_digits: int | None = None,
        min_value: Decimal | int | None = 0,
        max_value: Decimal | int | None = None,
        exact: bool = False,
        **kwargs: Any,
    ) -> None:
        self.places, self.max_digits, self.exact = places, max_digits, exact
        self.min_value, self.max_value = min_value, max_value
        super().__init__(**kwargs)

    def read(self, text: str) -> Decimal | None:
        return parsing.parse_decimal(
            text,
            places=self.places,
            max_digits=self.max_digits,
            min_value=self.min_value,
            max_value=self.max_value,
            exact=self.exact,
        )

    def widget_attrs(self, widget: Any) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        attrs["step"] = str(Decimal(1).scaleb(-self.places))
        if self.min_value is not None:
            attrs["min"] = str(self.min_value)
        return attrs


class StrictDateField(_Strict):
    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

    def read(self, text: str) -> dt.date | None:
        return parsing.parse_date(text)

    def prepare_value(self, value: Any) -> Any:
        # An <input type=date> shows only YYYY-MM-DD, whatever the language's display format:
        # a stored date, or one typed as 2026/6/25 and shown back after another field's error,
        # is written that way, or the box shows empty. Text that is no date is shown as typed
        # (its error, beside the field, quotes it).
        if isinstance(value, str):
            try:
                value = parsing.parse_date(value)
            except parsing.ParseError:
                return value
        return value.isoformat() if isinstance(value, dt.date) else value

    def widget_attrs(self, widget: Any) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        return attrs


# What a browser or a client sends for a ticked box: the box's own value (a box without a value
# attribute sends "on"), or a plain yes. Django's CheckboxInput reads any other text but
# "false" as ticked, so "0", "off" and "no" would tick it.
TICKED = frozenset({"on", "1", "true"})


class TickBox(forms.CheckboxInput):
    """A checkbox ticked only by its own value (`value`, rendered as the box's value attribute)
    or "on"/"1"/"true"; "0", "false", "off", "no" and anything else leave it unticked."""

    def __init__(self, attrs: dict[str, Any] | None = None, value: str = "on") -> None:
        super().__init__(attrs)
        self.own_value = value

    def format_value(self, value: Any) -> str | None:
        # A box without a value attribute sends "on": the markup stays as Django's.
        return None if self.own_value == "on" else self.own_value

    def value_from_datadict(self, data: Any, files: Any, name: str) -> bool:
        posted = data.get(name)
        if isinstance(posted, bool):
            return posted
        if not isinstance(posted, str):
            return False
        return posted == self.own_value or posted.strip().lower() in TICKED


class TickField(forms.BooleanField):
    """forms.BooleanField on a TickBox: a box is ticked only by its own value."""

    widget = TickBox

    def __init__(self, *, value: str = "on", **kwargs: Any) -> None:
        kwargs.setdefault("widget", TickBox(value=value))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


def strict_formfield(field: models.Field, **kwargs: Any) -> forms.Field | None:
    """`formfield_callback` for model forms: numbers and dates through the strict reader, within
    the column's range and places; text keeps the column's max_length (which Django already
    sets, and which SQLite alone would never enforce)."""
    common: dict[str, Any] = {
        "required": not field.blank,
        "label": capfirst(field.verbose_name) if field.verbose_name else None,
        "help_text": field.help_text,
    }
    if isinstance(field, models.DecimalField):
        # No quantity, area or score here is negative.
        return StrictDecimalField(
            places=field.decimal_places or 0, max_digits=field.max_digits, min_value=0, **common
        )
    if isinstance(field, models.IntegerField) and not field.choices and not field.is_relation:
        low, high = _int_range(field)
        return StrictIntegerField(min_value=low, max_value=high, **common)
    if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField):
        return StrictDateField(**common)
    if isinstance(field, models.BooleanField):
        return TickField(label=common["label"], help_text=common["help_text"])
    return field.formfield(**kwargs)


def _int_range(field: models.Field) -> tuple[int | None, int]:
    if isinstance(field, models.PositiveSmallIntegerField | models.SmallIntegerField):
        high = 32_767
    elif isinstance(field, models.BigIntegerField | models.PositiveBigIntegerField):
        high = parsing.ID_MAX
    else:
        high = parsing.INT_MAX
    positive = isinstance(
        field,
        models.PositiveIntegerField
        | models.PositiveSmallIntegerField
        | models.PositiveBigIntegerField,
    )
    low = 0 if positive else -high - 1
    for v in field.validators:
        bound = getattr(v, "limit_value", None)
        if getattr(v, "code", "") == "min_value" and isinstance(bound, int):
            low = max(low, bound)
        if getattr(v, "code", "") == "max_value" and isinstance(bound, int):
            high = min(high, bound)
    return low, high
