"""What a lead event did, in Chinese or English: one wording for the workbench's history and
the Excel change log."""

from __future__ import annotations

from yibao.i18n import Lang
from yibao.leads.changes import FIELD_LABELS
from yibao.leads.lifecycle import DISPOSITIONS, STATES
from yibao.leads.model import LeadEvent

__all__ = ["changes_text", "event_text", "value_text"]


def value_text(value: object, lang: Lang) -> str:
    """A field's value as a reader sees it: ``—`` for nothing, states and dispositions by
    name, lists joined as the language lists them."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list | tuple):
        return ("、" if lang == "zh" else ", ").join(value_text(v, lang) for v in value)
    i = 0 if lang == "zh" else 1
    if isinstance(value, str) and value in STATES:
        return STATES[value][i]
    if isinstance(value, str) and value in DISPOSITIONS:
        return DISPOSITIONS[value][i]
    return str(value)


def changes_text(event: LeadEvent, lang: Lang) -> str:
    """Each field ``event`` changed, old → new (``+`` / ``-`` for links); not the state of a
    move, and nothing for a new lead."""
    if event.action == "create":
        return ""
    i = 0 if lang == "zh" else 1
    parts = []
    for c in event.changes:
        if c.field == "state" and event.action == "transition":
            continue
        label = FIELD_LABELS.get(c.field, (c.field, c.field))[i]
        if event.action == "link":
            parts.append(f"{label} +{value_text(c.new, lang)}")
        elif event.action == "unlink":
            parts.append(f"{label} -{value_text(c.old, lang)}")
        else:
            parts.append(f"{label}: {value_text(c.old, lang)} → {value_text(c.new, lang)}")
    return ("；" if lang == "zh" else "; ").join(parts)


def event_text(event: LeadEvent, lang: Lang) -> str:
    """What ``event`` did: the move (``待核查 → 核查中``) and each changed field, old → new
    (``创建线索`` / ``created`` for a new lead)."""
    i = 0 if lang == "zh" else 1
    parts = []
    if event.action == "create":
        parts.append("创建线索" if lang == "zh" else "created")
    elif event.action == "transition" and event.from_state and event.to_state:
        parts.append(f"{STATES[event.from_state][i]} → {STATES[event.to_state][i]}")
    changed = changes_text(event, lang)
    if changed:
        parts.append(changed)
    return ("；" if lang == "zh" else "; ").join(parts)
