"""Synthetic ledgers for the benchmark suite, as bundle records (README "The bundle").

`records(claims)` yields the records of a ledger with `claims` claims, deterministically:

- people: claims / 20 (10,000 people at 200,000 claims), a few with an alias;
- sources: claims / 100, each with ~1,200 characters of stored text; two in three cite the
  previous source (links);
- claims: 12 words drawn from a Zipf-distributed 20,000-word vocabulary (so search has hits
  from a handful to tens of thousands), about one person, sometimes a target and a claimant,
  two attributions each quoting words from the source's text;
- responses: one per two claims, by the subject, citing a source; reply requests: one per four.

Every record carries a uid, as `ledger export` writes them, so an import matches by uid.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from itertools import accumulate
from pathlib import Path
from typing import Any

VOCABULARY = [f"w{n}" for n in range(20_000)]
_CUMULATIVE = list(accumulate(1 / (n + 1) for n in range(len(VOCABULARY))))
KINDS = ("denial", "partial-denial", "confirmation", "no-comment", "official-response", "action")
SOURCINGS = ("named", "anonymous", "document")


def counts(claims: int) -> dict[str, int]:
    """How many of each record a ledger of `claims` claims has."""
    return {"person": max(50, claims // 20), "source": max(20, claims // 100), "claim": claims,
            "response": claims // 2, "reply": claims // 4}


def _uid(kind: int, n: int) -> str:
    return f"{kind:04x}{n:028x}"


def _words(rng: random.Random, k: int) -> str:
    return " ".join(rng.choices(VOCABULARY, cum_weights=_CUMULATIVE, k=k))


def records(claims: int, *, seed: int = 7) -> Iterator[dict[str, Any]]:
    """The bundle records of a synthetic ledger with `claims` claims (see the module doc)."""
    rng = random.Random(seed)
    n = counts(claims)
    people, sources = n["person"], n["source"]

    def name(i: int) -> str:
        return f"Person {i}"

    for i in range(1, people + 1):
        record = {"type": "person", "uid": _uid(1, i), "name": name(i), "kind": "person",
                  "description": f"Synthetic person {i}."}
        if i % 10 == 0:
            record["aliases"] = [f"P. {i}"]
        yield record
    texts = {}
    for i in range(1, sources + 1):
        texts[i] = _words(rng, 200)
        record = {"type": "source", "uid": _uid(2, i), "key": f"src-{i}",
                  "title": f"Report number {i}: {_words(rng, 5)}",
                  "publisher": f"Outlet {i % 50}",
                  "published": f"2023-{i % 12 + 1:02d}-{i % 28 + 1:02d}", "kind": "article",
                  "url": f"https://news{i % 50}.example/story/{i}", "text": texts[i]}
        if i > 1 and i % 3 != 1:
            record["cites"] = [f"src-{i - 1}"]
        yield record
    for i in range(1, claims + 1):
        subject = i % people + 1
        attributions = []
        for k in (1, 13):
            source = (i * k) % sources + 1
            words = texts[source].split(" ")
            start = (i * 7 + k) % (len(words) - 10)
            attributions.append({"uid": _uid(4, 2 * i + (k > 1)), "source": f"src-{source}",
                                 "quote": " ".join(words[start:start + 8]),
                                 "voice": "two unnamed officials" if k == 1 else None,
                                 "sourcing": SOURCINGS[(i + k) % 3]})
        record = {"type": "claim", "uid": _uid(3, i), "ref": f"c{i}",
                  "statement": _words(rng, 12), "about": [name(subject)],
                  "occurred": f"20{20 + i % 4}-{i % 12 + 1:02d}",
                  "status": "disputed" if i % 5 else "unverified",
                  "attributions": [{k: v for k, v in a.items() if v is not None}
                                   for a in attributions]}
        target = (i * 3) % people + 1
        if i % 3 == 0 and target != subject:
            record["targets"] = [name(target)]
        if i % 4 == 0:
            record["claimant"] = name((i * 7) % people + 1)
        yield record
        if i % 2 == 0:
            yield {"type": "response", "uid": _uid(5, i), "claim": f"c{i}", "by": name(subject),
                   "kind": KINDS[i % len(KINDS)], "date": "2023-04-01",
                   "source": f"src-{i % sources + 1}", "quote": f"I deny claim {i}",
                   "summary": "Denies it."}
        if i % 4 == 0:
            yield {"type": "reply", "uid": _uid(6, i), "claim": f"c{i}", "to": name(subject),
                   "sent": "2023-03-01", "deadline": "2023-03-08", "channel": "email"}


def write_bundle(path: Path, claims: int) -> int:
    """Write the records as a JSONL bundle; returns how many records it holds."""
    written = 0
    part = path.with_suffix(".part")
    with part.open("w", encoding="utf-8") as out:
        for record in records(claims):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            written += 1
    part.replace(path)
    return written


def search_queries(count: int, *, seed: int = 11) -> list[str]:
    """One- or two-word queries from the middle of the vocabulary (hundreds to thousands of
    hits at 1M claims), as bench_search.py draws them."""
    rng = random.Random(seed)
    return [" ".join(f"w{rng.randint(200, 3000)}" for _ in range(rng.choice((1, 2))))
            for _ in range(count)]


TABLES = ("person", "person_alias", "source", "source_link", "claim", "claim_person",
          "attribution", "response", "reply_request")


def table_rows(claims: int, *, batch: int = 20_000
               ) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """The same ledger as `records(claims)`, as (table, rows) batches in an order that keeps
    foreign keys valid (ids in record order), for a fast Core build. No event log: publish,
    search and audit do not read it."""
    from hashlib import sha256

    rows: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLES}
    people: dict[str, int] = {}
    sources: dict[str, int] = {}
    refs: dict[str, int] = {}
    counter = {t: 0 for t in TABLES}

    def flush() -> Iterator[tuple[str, list[dict[str, Any]]]]:
        for table in TABLES:
            if rows[table]:
                counter[table] += len(rows[table])
                yield table, rows[table]
                rows[table] = []

    for record in records(claims):
        if len(rows["claim"]) >= batch:
            yield from flush()
        kind = record["type"]
        if kind == "person":
            pid = counter["person"] + len(rows["person"]) + 1
            people[record["name"]] = pid
            rows["person"].append({
                "id": pid, "uid": record["uid"], "name": record["name"],
                "name_key": record["name"].lower(), "kind": "person",
                "description": record["description"],
                "slug": record["name"].lower().replace(" ", "-")})
            for alias in record.get("aliases", []):
                rows["person_alias"].append({"person_id": pid, "name": alias,
                                             "name_key": alias.lower()})
        elif kind == "source":
            sid = counter["source"] + len(rows["source"]) + 1
            sources[record["key"]] = sid
            rows["source"].append({
                "id": sid, "uid": record["uid"], "key": record["key"], "title": record["title"],
                "publisher": record["publisher"], "url": record["url"],
                "url_normalized": record["url"], "published": record["published"],
                "kind": "article", "text": record["text"],
                "text_sha256": sha256(record["text"].encode()).hexdigest(),
                "retrieved": "2023-04-01T00:00:00.000000Z"})
            for target in record.get("cites", []):
                rows["source_link"].append({"uid": _uid(7, sid),
                                            "source_id": sid, "target_id": sources[target],
                                            "relation": "cites"})
        elif kind == "claim":
            cid = counter["claim"] + len(rows["claim"]) + 1
            refs[record["ref"]] = cid
            rows["claim"].append({
                "id": cid, "uid": record["uid"], "statement": record["statement"],
                "claimant_id": people.get(record.get("claimant", "")),
                "occurred": record["occurred"], "status": record["status"]})
            for role in ("about", "targets"):
                for name in record.get(role, []):
                    rows["claim_person"].append({
                        "claim_id": cid, "person_id": people[name],
                        "role": "subject" if role == "about" else "target"})
            for item in record["attributions"]:
                rows["attribution"].append({
                    "uid": item["uid"], "claim_id": cid, "source_id": sources[item["source"]],
                    "quote": item["quote"], "voice": item.get("voice"),
                    "sourcing": item["sourcing"], "quote_status": "unverifiable"})
        elif kind == "response":
            rows["response"].append({
                "uid": record["uid"], "claim_id": refs[record["claim"]],
                "respondent_id": people[record["by"]], "kind": record["kind"],
                "date": record["date"], "source_id": sources[record["source"]],
                "quote": record["quote"], "summary": record["summary"]})
        else:
            rows["reply_request"].append({
                "uid": record["uid"], "claim_id": refs[record["claim"]],
                "addressee_id": people[record["to"]], "sent": record["sent"],
                "deadline": record["deadline"], "channel": record["channel"]})
    yield from flush()


def build_ledger(url: str, claims: int, *, batch: int = 20_000) -> None:
    """A migrated ledger at `url` (SQLite or PostgreSQL) holding `table_rows(claims)`, written
    with Core bulk inserts in one transaction and the search index rebuilt once."""
    from sqlalchemy import MetaData

    from ledger import db
    from ledger.store.search import resume_index, suspend_index

    engine = db.make_engine(url)
    db.upgrade(engine)
    tables = MetaData()
    tables.reflect(engine)
    with db.transaction(engine, actor="bench") as session:
        triggers = suspend_index(session)
        connection = session.connection()
        for name, table_data in table_rows(claims, batch=batch):
            connection.execute(tables.tables[name].insert(), table_data)
        resume_index(session, triggers)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:  # ids were given explicitly: move the sequences on
            for name in TABLES:
                connection.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"coalesce((SELECT max(id) FROM {name}), 1))")
            connection.exec_driver_sql("ANALYZE")
    engine.dispose()
