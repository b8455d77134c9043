"""Floors run as commands: what a bare script on the same stack does for the same output.

    python tests/benchmarks/floors.py claim-list LEDGER_DB
    python tests/benchmarks/floors.py dossier LEDGER_DB PERSON_SLUG

Each imports the stack the ledger's command imports (sqlmodel, typer; jinja2 for the
dossier), reads the rows the command shows with plain sqlite3 (one query per table), writes
them to stdout (json.dumps per row; a one-line-per-row Jinja template for the dossier) and
ends with os._exit, as the ledger's console script does. `run_all.py` times them beside the
commands. Not collected by pytest.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys


def claim_list(db: str) -> None:
    """Every claim with its people and attributions, as JSON rows."""
    import sqlmodel  # noqa: F401  (the stack the command pays for)
    import typer  # noqa: F401

    connection = sqlite3.connect(db)
    connection.row_factory = sqlite3.Row
    write = sys.stdout.write
    for table in ("claim", "claim_person", "attribution"):
        for row in connection.execute(f"SELECT * FROM {table} ORDER BY id"):
            write(json.dumps(dict(row), ensure_ascii=False) + "\n")


TEMPLATE = (
    "# {{ person.name }}\n"
    "{% for claim in claims %}\n"
    "## {{ claim.statement }} ({{ claim.status }}, {{ claim.occurred or 'undated' }})\n"
    "{% for a in attributions.get(claim.id, []) %}"
    "- {{ a.title }}: {{ a.quote or '' }} ({{ a.voice or '' }})\n{% endfor %}"
    "{% for r in responses.get(claim.id, []) %}"
    "- {{ r.kind }} {{ r.date or '' }}: {{ r.quote or r.summary or '' }}\n{% endfor %}"
    "{% for e in events.get(claim.uid, []) %}- {{ e.at }} {{ e.action }}\n{% endfor %}"
    "{% endfor %}"
)


def dossier(db: str, slug: str) -> None:
    """One person's claims (about them, alleged by them), each with its attributions and
    their sources, responses, reply requests and events, through one small template."""
    import jinja2
    import sqlmodel  # noqa: F401
    import typer  # noqa: F401

    connection = sqlite3.connect(db)
    connection.row_factory = sqlite3.Row
    person = connection.execute("SELECT * FROM person WHERE slug = ?", (slug,)).fetchone()
    ids = (
        "SELECT claim_id FROM claim_person WHERE person_id = :p UNION "
        "SELECT id FROM claim WHERE claimant_id = :p UNION "
        "SELECT claim_id FROM response WHERE respondent_id = :p"
    )
    args = {"p": person["id"]}
    claims = connection.execute(
        f"SELECT * FROM claim WHERE id IN ({ids}) ORDER BY id", args
    ).fetchall()

    def grouped(sql: str, key: str) -> dict:
        groups: dict = {}
        for row in connection.execute(sql, args):
            groups.setdefault(row[key], []).append(row)
        return groups

    attributions = grouped(
        "SELECT a.*, s.title FROM attribution a JOIN source s ON "
        f"s.id = a.source_id WHERE a.claim_id IN ({ids})",
        "claim_id",
    )
    responses = grouped(f"SELECT * FROM response WHERE claim_id IN ({ids})", "claim_id")
    grouped(f"SELECT * FROM reply_request WHERE claim_id IN ({ids})", "claim_id")
    events = grouped(
        "SELECT e.uid, e.at, e.action, e.state FROM claim c LEFT JOIN event e ON "
        f"e.entity = 'claim' AND e.uid = c.uid WHERE c.id IN ({ids})",
        "uid",
    )
    people = connection.execute(
        f"SELECT DISTINCT p.* FROM claim_person cp JOIN person p ON p.id = cp.person_id "
        f"WHERE cp.claim_id IN ({ids})",
        args,
    ).fetchall()
    template = jinja2.Environment(autoescape=False).from_string(TEMPLATE)
    sys.stdout.write(
        template.render(
            person=person,
            claims=claims,
            attributions=attributions,
            responses=responses,
            events=events,
            people=people,
        )
    )


if __name__ == "__main__":
    {"claim-list": claim_list, "dossier": dossier}[sys.argv[1]](*sys.argv[2:])
    sys.stdout.flush()
    os._exit(0)
