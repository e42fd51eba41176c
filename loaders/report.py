"""What a load did: per file, rows in = rows loaded + rows quarantined, and why."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["FileReport", "LoadReport"]


@dataclass(frozen=True)
class FileReport:
    """The account of one file. ``loaded = inserted + unchanged`` (unchanged: already stored).

    ``noted``: rows inserted with at least one data-quality note (a descriptive field unknown
    or oddly shaped, stored as it came); ``notes``: notes by reason code; ``noted_columns``:
    notes by column; ``absent_columns``: optional contract columns the file does not have.
    """

    table: str
    file: str
    file_format: str
    encoding: str | None
    sha256: str
    rows_in: int
    inserted: int
    unchanged: int
    quarantined: int
    reasons: dict[str, int] = field(default_factory=dict)
    normalised: dict[str, int] = field(default_factory=dict)
    noted: int = 0
    notes: dict[str, int] = field(default_factory=dict)
    noted_columns: dict[str, int] = field(default_factory=dict)
    absent_columns: tuple[str, ...] = ()
    ignored_columns: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def loaded(self) -> int:
        return self.inserted + self.unchanged

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["loaded"] = self.loaded
        data["ignored_columns"] = list(self.ignored_columns)
        data["absent_columns"] = list(self.absent_columns)
        return data


@dataclass(frozen=True)
class LoadReport:
    """The account of one load (one transaction over a folder)."""

    load_id: int
    source: str
    db: str
    files: tuple[FileReport, ...]
    ignored_files: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def rows_in(self) -> int:
        return sum(f.rows_in for f in self.files)

    @property
    def loaded(self) -> int:
        return sum(f.loaded for f in self.files)

    @property
    def inserted(self) -> int:
        return sum(f.inserted for f in self.files)

    @property
    def quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)

    @property
    def noted(self) -> int:
        return sum(f.noted for f in self.files)

    @property
    def reasons(self) -> dict[str, int]:
        """Quarantined rows by (first) reason code, most frequent first."""
        return _total(f.reasons for f in self.files)

    @property
    def notes(self) -> dict[str, int]:
        """Data-quality notes by reason code, most frequent first."""
        return _total(f.notes for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "load_id": self.load_id,
            "source": self.source,
            "db": self.db,
            "rows_in": self.rows_in,
            "loaded": self.loaded,
            "inserted": self.inserted,
            "quarantined": self.quarantined,
            "reasons": self.reasons,
            "noted": self.noted,
            "notes": self.notes,
            "seconds": round(self.seconds, 3),
            "files": [f.to_dict() for f in self.files],
            "ignored_files": list(self.ignored_files),
        }


def _total(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for one in counts:
        for code, n in one.items():
            total[code] = total.get(code, 0) + n
    return dict(sorted(total.items(), key=lambda kv: (-kv[1], kv[0])))
