"""`ledger changes` as Markdown or JSON: what changed since an anchor, grouped by record."""

from __future__ import annotations

import json
from typing import Any

from ledger.render import md_inline
from ledger.store.changes import ChangesReport

_VALUE_LIMIT = 300


def _value(value: Any) -> str:
    if value is None:
        return "none"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(text) > _VALUE_LIMIT:
        text = text[:_VALUE_LIMIT] + "…"
    return f"“{md_inline(text)}”"


def to_markdown(report: ChangesReport) -> str:
    """The report as Markdown: one section per record, one line per event."""
    lines = [
        f"# Changes since event {report.since_seq}",
        "",
        f"The anchor {report.since_seq}:{report.since_hash} verifies. "
        f"{report.event_count} event{'s' if report.event_count != 1 else ''} since, in "
        f"{len(report.records)} record{'s' if len(report.records) != 1 else ''}; the head "
        f"is now {report.head_seq}:{report.head_hash}.",
        "",
    ]
    if not report.records:
        lines += ["Nothing changed.", ""]
    for record in report.records:
        name = f"{record.entity} {record.record_id}" if record.record_id else record.entity
        lines += [f"## {md_inline(name)}: {md_inline(record.label[:200])}", ""]
        for event in record.events:
            changed = (
                "; ".join(
                    f"{md_inline(c.field)} {_value(c.before)} → {_value(c.after)}"
                    for c in event.changes
                )
                or "no field changed"
            )
            if event.action == "add":
                changed = "added"
            lines.append(
                f"- event {event.seq}, {event.at[:19]}Z, by "
                f"{md_inline(event.actor)}, {md_inline(event.action)}: {changed}"
            )
        lines.append("")
    return "\n".join(lines)


def to_json(report: ChangesReport) -> dict[str, Any]:
    """The report as plain data for `--json`."""
    return {
        "since": f"{report.since_seq}:{report.since_hash}",
        "head": f"{report.head_seq}:{report.head_hash}",
        "events": report.event_count,
        "records": [
            {
                "entity": r.entity,
                "uid": r.uid,
                "id": r.record_id,
                "label": r.label,
                "events": [
                    {
                        "seq": e.seq,
                        "at": e.at,
                        "actor": e.actor,
                        "action": e.action,
                        "changes": [
                            {"field": c.field, "before": c.before, "after": c.after}
                            for c in e.changes
                        ],
                    }
                    for e in r.events
                ],
            }
            for r in report.records
        ],
    }
