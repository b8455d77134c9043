"""`ledger audit`: the reviewer's checks, as a table, JSON or a Markdown report."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.cli.common import emit_json, info, out, progress_bar, state

Format = Annotated[str | None, typer.Option(
    "--format", help="table (default), md (a reviewer's report grouped by claim) or json.",
    show_default=False)]
AuditJson = Annotated[bool, typer.Option("--json", help="Print the findings as a JSON array.")]
AuditStrict = Annotated[bool, typer.Option(
    "--strict", help="Exit 1 when any finding is an error.")]
ClaimFilter = Annotated[str | None, typer.Option(
    "--claim", help="Only findings about this claim (id).", show_default=False)]
SourceFilter = Annotated[str | None, typer.Option(
    "--source", help="Only findings involving this source (key): its own, and those of the "
    "claims that rest on it.", show_default=False)]
PersonFilter = Annotated[str | None, typer.Option(
    "--person", help="Only findings involving this person: their own, and those of the "
    "claims about them.", show_default=False)]


def audit(ctx: typer.Context, json: AuditJson = False, format: Format = None,
          strict: AuditStrict = False, claim: ClaimFilter = None, source: SourceFilter = None,
          person: PersonFilter = None) -> None:
    """Check every quote against its source's stored text, trace every claim to its
    independent origins, and check sourcing, the right of reply, dates and statuses.

    Findings go to stdout (a table, --json or --format md); the count goes to stderr. Codes
    and what to do about each: docs/audit.md. Reply deadlines are judged against today, or
    against SOURCE_DATE_EPOCH when it is set (reproducible reports).

    \b
    Examples:
      ledger audit
      ledger audit --person "Han Dong" --format md > review.md
      ledger audit --strict --json
    """
    from ledger import values
    from ledger.audit import audit as run_audit
    from ledger.audit import count_by_severity, today_default
    from ledger.errors import AuditFailed, InvalidValue

    fmt = values.choice(format or ("json" if json else "table"), field="format",
                        allowed=("table", "md", "json"))
    if json and fmt != "json":
        raise InvalidValue(f"--json contradicts --format {fmt}")
    today = today_default()
    with progress_bar("Auditing") as progress, state(ctx).read() as session:
        if progress:
            progress("checks", 0, 0)  # a spinner with the elapsed time
        findings = run_audit(session, claim=claim, source=source, person=person, today=today)
    if fmt == "json":
        emit_json([f.to_dict() for f in findings])
    elif fmt == "md":
        from ledger.audit_report import markdown_report

        out(markdown_report(findings, today=today).rstrip("\n"))
    else:
        _table(findings)
    counts = count_by_severity(findings)
    info(f"{len(findings)} finding{'s' if len(findings) != 1 else ''}: "
         f"{counts['error']} error{'s' if counts['error'] != 1 else ''}, "
         f"{counts['warning']} warning{'s' if counts['warning'] != 1 else ''}, "
         f"{counts['info']} info")
    if strict and counts["error"]:
        raise AuditFailed(f"the audit found {counts['error']} error"
                          f"{'s' if counts['error'] != 1 else ''} (--strict)")


def _table(findings) -> None:
    """Aligned columns, the message last and whole: it is what the reviewer reads."""
    rows = [[f.code, f.severity, f"{f.subject} {f.subject_id}",
             " ".join(f.message.split())] for f in findings]
    headers = ["CODE", "SEVERITY", "SUBJECT", "MESSAGE"]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers[:3])]
    for row in [headers, *rows]:
        out("  ".join([*(v.ljust(w) for v, w in zip(row, widths, strict=False)), row[3]]))
