"""The audit as a reviewer's report in Markdown, grouped by claim, then sources, then people.

Every statement, quote, name and message is untrusted text: it reaches the Markdown only
through `md` (ledger.render.md_inline), so nothing in it can add structure to the report.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from datetime import date
from itertools import groupby

from ledger.audit import Finding, count_by_severity

_SECTIONS = {"claim": "Claims", "source": "Sources", "person": "People"}
_ESCAPES = {ord(char): "\\" + char for char in string.punctuation}


def md(value: object) -> str:
    """Any value as a literal inline run of Markdown text."""
    try:
        from ledger.render import md_inline
    except ImportError:  # the renderer is not installed alongside: escape the same way
        return " ".join(str(value).split()).translate(_ESCAPES)
    return md_inline(value)


def _line(finding: Finding) -> list[str]:
    lines = [f"- **{finding.severity}** `{finding.code}`: {md(finding.message)}"]
    detail = finding.detail
    if finding.code == "quote-not-found":
        lines.append(f"  - quoted: “{md(detail['quote'])}”")
        if detail.get("closest"):
            lines.append(f"  - closest passage ({detail['similarity']:.0%} similar): "
                         f"“{md(detail['closest'])}”")
        if detail.get("diff"):
            lines.append(f"  - difference: {md(detail['diff'])}")
    return lines


def markdown_report(findings: Iterable[Finding], *, today: date) -> str:
    """The findings as Markdown: a summary line, then one section per claim, source, person."""
    findings = sorted(findings, key=Finding.sort_key)
    counts = count_by_severity(findings)
    lines = ["# Audit report", "",
             f"As of {today.isoformat()}: {len(findings)} findings, {counts['error']} errors, "
             f"{counts['warning']} warnings, {counts['info']} info.", ""]
    if not findings:
        lines.append("Nothing to report.")
    for kind, group in groupby(findings, key=lambda f: f.subject):
        lines += [f"## {_SECTIONS[kind]}", ""]
        for (_, subject_id), items in groupby(group, key=lambda f: (f.subject, f.subject_id)):
            items = list(items)
            lines += [f"### {kind.capitalize()} {subject_id}: {md(items[0].label)}", ""]
            for finding in items:
                lines += _line(finding)
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
