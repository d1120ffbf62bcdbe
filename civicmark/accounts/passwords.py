"""What a password must be beyond Django's length, common-list and similarity checks.

Django's validators let through "aaaaaaaaaaaa", twelve spaces and "Zhangwei-2026!!" for the user
zhangwei (its similarity check compares whole strings, so a username inside a longer password
slips under its ratio). MLPS level 3 asks for passwords that resist guessing; these are the
guesses an attacker tries first.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.password_validation import MinimumLengthValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# Rows and runs that people type as "a long password": neighbours here count as one step.
RUNS = (
    "abcdefghijklmnopqrstuvwxyz",
    "01234567890",
    "qwertyuiopasdfghjklzxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
)


def _is_step(a: str, b: str) -> bool:
    return any(
        (i := run.find(a)) >= 0 and b in (run[i + 1 : i + 2], run[i - 1 : i] if i else "")
        for run in RUNS
    )


def _mostly_a_run(password: str) -> bool:
    """True when three steps in four walk along the alphabet or the keyboard."""
    text = password.lower()
    steps = sum(_is_step(a, b) for a, b in zip(text, text[1:], strict=False))
    return len(text) > 1 and steps * 4 >= (len(text) - 1) * 3


def _repeats_a_short_block(password: str, longest: int) -> bool:
    """ "abcdabcdabcd", "2026202620262026": one block of a few characters said again and again."""
    return re.fullmatch(rf"(.{{1,{longest}}}?)\1+", password, re.S) is not None


def _name_parts(user: Any) -> list[str]:
    words = [getattr(user, "username", "") or ""]
    full_name = getattr(user, "full_name", "") or ""
    words += [full_name, *re.split(r"[\s.\-_·]+", full_name)]
    email = getattr(user, "email", "") or ""
    words.append(email.partition("@")[0])
    return [w.lower() for w in words if len(w) >= 3]


class PasswordPolicyValidator:
    """Enough distinct characters, no repeated block or keyboard run, nothing of the username."""

    def __init__(self, min_distinct: int = 4, longest_block: int = 4) -> None:
        self.min_distinct = min_distinct
        self.longest_block = longest_block

    def validate(self, password: str, user: Any = None) -> None:
        errors = []
        if len(set(password)) < self.min_distinct:
            errors.append(
                ValidationError(
                    ngettext(
                        "The password needs at least %(n)d distinct character.",
                        "The password needs at least %(n)d distinct characters.",
                        self.min_distinct,
                    )
                    % {"n": self.min_distinct},
                    code="password_too_few_characters",
                )
            )
        elif _repeats_a_short_block(password, self.longest_block):
            errors.append(
                ValidationError(
                    _("The password repeats the same few characters."),
                    code="password_repeated_block",
                )
            )
        elif _mostly_a_run(password):
            errors.append(
                ValidationError(
                    _("The password is a run of neighbouring keys or letters."),
                    code="password_keyboard_run",
                )
            )
        lowered = password.lower()
        if user is not None and any(part in lowered for part in _name_parts(user)):
            errors.append(
                ValidationError(
                    _("The password contains your username or your name."),
                    code="password_like_user",
                )
            )
        if errors:
            raise ValidationError(errors)

    def get_help_text(self) -> str:
        return _(
            "At least %(n)d distinct characters; not one block repeated, not a run of keys, "
            "not your username or name."
        ) % {"n": self.min_distinct}


class LengthValidator(MinimumLengthValidator):
    """Django's length rule with messages of our own catalogue: Django 5.2's Chinese catalogue
    lacks its new message, which showed in English on a Chinese page."""

    def get_error_message(self) -> str:
        return (
            ngettext(
                "The password is too short: it needs at least %d character.",
                "The password is too short: it needs at least %d characters.",
                self.min_length,
            )
            % self.min_length
        )

    def get_help_text(self) -> str:
        return (
            ngettext("At least %d character.", "At least %d characters.", self.min_length)
            % self.min_length
        )
