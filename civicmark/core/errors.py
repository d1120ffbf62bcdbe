"""The one application error type that every interface (view, command) maps the same way."""

from __future__ import annotations

from dataclasses import dataclass, field


class ApplicationError(Exception):
    """A refusal that a user can understand. `code` is stable; `message` is translated text."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class NotAllowed(ApplicationError):
    code = "not_allowed"


@dataclass(frozen=True)
class PlaceError:
    """One problem in an uploaded file, with where it is: sheet, row (1-based as in Excel), column."""

    message: str
    row: int | None = None
    column: str | None = None
    sheet: str | None = None
    value: str | None = None

    def place(self) -> str:
        parts = []
        if self.sheet:
            parts.append(f"sheet {self.sheet}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column}")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.place()
        return f"{where}: {self.message}" if where else self.message


@dataclass
class ImportRefused(ApplicationError):
    """An import with at least one error: nothing was written."""

    errors: list[PlaceError] = field(default_factory=list)
    code = "import_refused"

    def __post_init__(self) -> None:
        super().__init__("; ".join(str(e) for e in self.errors[:5]))
