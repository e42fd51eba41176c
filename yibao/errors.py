"""One error hierarchy for yibao-graph.

Every error derives from :class:`YibaoError` and also from the built-in it resembles, so callers
can catch either. Messages quote the bad value, name the file/row/column when there is one, and
say how to fix the problem.
"""

from __future__ import annotations

from typing import Any

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
    "SignInStateError",
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


class SignInStateError(AuthError):
    """The sign-in rate limit's state file (failed sign-ins and locks, ``YIBAO_SIGNIN_STATE``)
    cannot be opened or written; the message names the file and says what to check."""


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
    """A lead (线索) or a change to it cannot be accepted; the message says what to fix.

    ``str(exc)`` is the English message (for the CLI and logs); the facts behind it are
    attributes, so a user interface can say the same in its own language (each ``None`` or
    empty when it does not apply):

    * ``reason``: a short code naming the refusal (``"not_next"``, ``"needs_disposition"``,
      ``"bad_region"`` …; the raising function's docstring or message says which);
    * ``lead_id``: the lead; ``field``: the lead field at fault (a key of
      :data:`yibao.leads.changes.FIELD_LABELS`); ``value``: the value refused, as given;
    * ``state``: the lead's state; ``target``: the state asked for; ``allowed``: what may be
      given instead (the allowed next states, or the accepted codes of ``field``).
    """

    def __init__(self, message: str, *, reason: str | None = None, lead_id: str | None = None,
                 field: str | None = None, value: object = None, state: str | None = None,
                 target: str | None = None, allowed: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.reason = reason
        self.lead_id = lead_id
        self.field = field
        self.value = value
        self.state = state
        self.target = target
        self.allowed = tuple(allowed)


class LeadTransitionError(LeadError):
    """A lead cannot move to the state asked for; the message names its state and the allowed
    next states (Chinese names with English in brackets), the attributes ``state``, ``target``
    and ``allowed`` hold them as codes."""


class LeadNotFoundError(LeadError, LookupError):
    """No lead has the id asked for (``lead_id``)."""


class LeadConflictError(LeadError):
    """Someone changed the lead after the version the user saw (or the lead already exists);
    the message says who, when and what, and to reload. ``current_version`` is the lead's
    version now (``None`` when the conflict is a duplicate source reference), ``state`` its
    state now, ``changes`` the events recorded after ``expected_version`` (a tuple of
    :class:`yibao.leads.model.LeadEvent`, oldest first: who, when, what)."""

    def __init__(self, message: str, *, lead_id: str, expected_version: int | None = None,
                 current_version: int | None = None, changes: tuple[Any, ...] = (),
                 reason: str | None = None, state: str | None = None, field: str | None = None,
                 value: object = None) -> None:
        super().__init__(message, reason=reason, lead_id=lead_id, state=state, field=field,
                         value=value)
        self.lead_id: str = lead_id
        self.expected_version = expected_version
        self.current_version = current_version
        self.changes = tuple(changes)  # LeadEvent (yibao.leads.model), above this kernel


class LedgerImportError(LeadError):
    """A filled ledger workbook cannot be read at all (rows that are wrong are reported per row,
    not raised); ``reason`` says why (``"unreadable"``, ``"no_sheet"``, ``"no_header"``,
    ``"no_version_column"``), ``value`` holds the detail (the reader's error, the sheets
    found, the header row)."""

    def __init__(self, message: str, *, path: str | None = None, reason: str | None = None,
                 value: object = None) -> None:
        super().__init__(f"{path}: {message}" if path else message, reason=reason,
                         value=value)
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
