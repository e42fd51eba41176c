"""One error hierarchy for yibao-graph.

Every error derives from :class:`YibaoError` and also from the built-in it resembles, so callers
can catch either. Messages quote the bad value, name the file/row/column when there is one, and
say how to fix the problem.
"""

from __future__ import annotations

__all__ = [
    "BackendAuthError",
    "BackendError",
    "BackendLoadError",
    "BackendUnavailableError",
    "BriefError",
    "CaptureError",
    "CommunityError",
    "DataFileError",
    "EncodingDetectionError",
    "LeadConflictError",
    "LeadError",
    "LeadNotFoundError",
    "LeadTransitionError",
    "LedgerImportError",
    "MissingColumnError",
    "PlanError",
    "QueryNotFoundError",
    "SettingsError",
    "StoreError",
    "SynthError",
    "YibaoError",
]


class YibaoError(Exception):
    """Base class of every error raised by yibao-graph."""


class SettingsError(YibaoError, ValueError):
    """A setting is unknown or has a value that cannot be used."""


class DataFileError(YibaoError, ValueError):
    """An input file cannot be read at all (as opposed to rows that are quarantined)."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path


class EncodingDetectionError(DataFileError):
    """A text file is neither UTF-8 nor GBK/GB18030."""


class MissingColumnError(DataFileError):
    """A required column is absent; the message lists the columns found and the names accepted."""

    def __init__(
        self,
        *,
        path: str,
        table: str,
        missing: dict[str, tuple[str, ...]],
        found: list[str],
    ) -> None:
        wanted = "; ".join(
            f"{col} (accepted: {', '.join(names)})" for col, names in missing.items()
        )
        message = (
            f"table '{table}' is missing required column(s): {wanted}. "
            f"Columns found: {', '.join(found) if found else '(none)'}. "
            "Rename the header to one of the accepted names (see docs/data-contract.md)."
        )
        super().__init__(message, path=path)
        self.table = table
        self.missing = missing
        self.found = found


class StoreError(YibaoError, RuntimeError):
    """The embedded store cannot be opened or written."""


class CommunityError(YibaoError, ValueError):
    """A graph or an engine cannot be used for community detection."""


class SynthError(YibaoError, ValueError):
    """Synthetic data cannot be generated with the arguments given."""


class AuthError(YibaoError, ValueError):
    """A workbench sign-in or user-file problem (the message says what to fix)."""


class BackendError(YibaoError, RuntimeError):
    """A graph backend (the embedded store or a Neo4j server) cannot do what was asked."""


class BackendUnavailableError(BackendError, ConnectionError):
    """The Neo4j server cannot be reached; the embedded store still can."""


class BackendAuthError(BackendError, PermissionError):
    """The Neo4j server refused the user name or password."""


class BackendLoadError(BackendError):
    """A load into the graph stopped part way; ``written`` holds the rows committed per step.

    Committed batches stay (they are checkpointed in the graph), so running the same load again
    resumes after them.
    """

    def __init__(self, message: str, *, step: str, written: dict[str, int]) -> None:
        super().__init__(message)
        self.step = step
        self.written = dict(written)


class QueryNotFoundError(YibaoError, LookupError):
    """A named Cypher query has no file in ``queries/``."""


class LeadError(YibaoError, ValueError):
    """A lead (线索) or a change to it cannot be accepted; the message says what to fix."""


class LeadTransitionError(LeadError):
    """A lead cannot move to the state asked for; the message names its state and the allowed
    next states (Chinese names with English in brackets)."""


class LeadNotFoundError(LeadError, LookupError):
    """No lead has the id asked for."""


class LeadConflictError(LeadError):
    """Someone changed the lead after the version the user saw (or the lead already exists);
    the message says who, when and what, and to reload. ``current_version`` is the lead's
    version now (``None`` when the conflict is a duplicate source reference)."""

    def __init__(self, message: str, *, lead_id: str, expected_version: int | None = None,
                 current_version: int | None = None) -> None:
        super().__init__(message)
        self.lead_id = lead_id
        self.expected_version = expected_version
        self.current_version = current_version


class LedgerImportError(LeadError):
    """A filled ledger workbook cannot be read at all (rows that are wrong are reported per row,
    not raised)."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path


class PlanError(YibaoError, ValueError):
    """An inspection plan (检查计划) cannot be made from the inputs given; the message names the
    input (candidates, inspectors, an option) and says what to change."""


class BriefError(YibaoError, RuntimeError):
    """A leadership briefing (简报) cannot be made: a bad period or region, or Chromium is
    missing or failed; the message says what to fix (the accepted forms, or how to install
    Chromium / set ``YIBAO_CHROMIUM``)."""


class CaptureError(YibaoError, RuntimeError):
    """A workbench view cannot be saved as a PNG: Chromium or Playwright is missing, or the
    page did not finish drawing; the message says what to install or check."""
