"""People and organizations: add, resolve, list, edit, merge."""

from __future__ import annotations

import difflib
import re
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from ledger import shapes, values
from ledger.errors import Ambiguous, Conflict, InvalidValue, NotFound
from ledger.models import Claim, ClaimPerson, Person, PersonAlias, ReplyRequest, Response
from ledger.store.events import append_event

_UID_RE = re.compile(r"^[0-9a-f]{32}$")


def aliases_of(session: Session, person: Person) -> list[str]:
    """A person's aliases, in the order they were recorded."""
    rows = session.exec(select(PersonAlias.name).where(PersonAlias.person_id == person.id)
                        .order_by(col(PersonAlias.id)))
    return list(rows)


def person_state(session: Session, person: Person) -> dict[str, Any]:
    """The person as the event log records it."""
    merged = session.get(Person, person.merged_into_id) if person.merged_into_id else None
    return shapes.person_state(uid=person.uid, name=person.name, kind=person.kind,
                               description=person.description, slug=person.slug,
                               aliases=aliases_of(session, person),
                               merged_into=merged.uid if merged else None)


def person_record(session: Session, person: Person, *, with_id: bool = True) -> dict[str, Any]:
    """The person as `--json` and the bundle show it."""
    record: dict[str, Any] = {"type": "person"}
    if with_id:
        record["id"] = person.id
    record.update(uid=person.uid, name=person.name, aliases=aliases_of(session, person),
                  kind=person.kind, description=person.description, slug=person.slug)
    return record


def _record_event(session: Session, person: Person, action: str) -> None:
    session.flush()
    append_event(session, action=action, entity="person", uid=person.uid,
                 state=person_state(session, person))


def _unique_slug(session: Session, name: str) -> str:
    base = values.safe_slug(name, fallback="person")
    taken = set(session.exec(select(Person.slug).where(
        or_(Person.slug == base, col(Person.slug).startswith(f"{base}-")))))
    return shapes.next_free(base, taken)


def add_person(session: Session, *, name: str, kind: str = "person",
               description: str | None = None, aliases: list[str] | tuple[str, ...] = (),
               uid: str | None = None) -> Person:
    """Record a person or organization; a person with the same exact name is a conflict."""
    cleaned = shapes.clean_person(name=name, kind=kind, description=description,
                                  aliases=aliases)
    existing = session.exec(select(Person).where(Person.name == cleaned["name"],
                                                 col(Person.merged_into_id).is_(None))).first()
    if existing:
        raise name_taken(cleaned["name"], existing.id, existing.slug)
    person = Person(name=cleaned["name"], name_key=cleaned["name_key"], kind=cleaned["kind"],
                    description=cleaned["description"],
                    slug=_unique_slug(session, cleaned["name"]))
    if uid:
        person.uid = uid
    session.add(person)
    session.flush()
    _add_aliases(session, person, cleaned["aliases"])
    _record_event(session, person, "add")
    return person


def name_taken(name: str, person_id: int, slug: str) -> Conflict:
    """The error for a second person with the same exact name."""
    return Conflict(f"a person named {name!r} is already recorded (id {person_id}, slug "
                    f"{slug}); add a distinguishing detail to the name or use it")


def _add_aliases(session: Session, person: Person, aliases) -> bool:
    known = {person.name, *aliases_of(session, person)}
    changed = False
    for alias in aliases:
        alias = values.line(alias, field="alias")
        if alias in known:
            continue
        session.add(PersonAlias(person_id=person.id, name=alias, name_key=values.fold(alias)))
        known.add(alias)
        changed = True
    session.flush()
    return changed


def _live(query):
    return query.where(col(Person.merged_into_id).is_(None))


def get_person(session: Session, ref: str, *, field: str = "person") -> Person:
    """Resolve a person by id, uid, exact name, slug, or name or alias folded.

    Folding makes it case-, accent- and Unicode-form-insensitive. An unknown reference
    suggests the nearest names; an ambiguous one lists the candidates. A merged duplicate
    resolves to the person it was merged into.
    """
    raw = (ref or "").strip()
    if not raw:
        raise InvalidValue(f"--{field} must not be empty")
    if raw.isdigit():
        person = session.get(Person, int(raw))
        if person is None:
            raise NotFound(f"no person with id {raw}")
        return _follow(session, person)
    if _UID_RE.match(raw):
        person = session.exec(select(Person).where(Person.uid == raw)).first()
        if person:
            return _follow(session, person)
    name = values.nfc(raw)
    exact = session.exec(_live(select(Person).where(Person.name == name))).first()
    if exact:
        return exact
    by_slug = session.exec(select(Person).where(Person.slug == raw)).first()
    if by_slug:
        return _follow(session, by_slug)
    folded = values.fold(raw)
    matches = list(session.exec(_live(select(Person).where(Person.name_key == folded))))
    alias_owner_ids = set(session.exec(select(PersonAlias.person_id)
                                       .where(PersonAlias.name_key == folded)))
    known = {p.id for p in matches}
    for person_id in alias_owner_ids - known:
        matches.append(_follow(session, session.get(Person, person_id)))
    unique = {p.id: p for p in matches}
    if len(unique) == 1:
        return next(iter(unique.values()))
    if len(unique) > 1:
        raise ambiguous(raw, [(p.id, p.name, p.slug) for p in unique.values()])
    raise NotFound(f"no person {raw!r}{_suggestion(session, folded)}")


def ambiguous(raw: str, candidates: list[tuple[int, str, str]]) -> Ambiguous:
    """The error for a reference that matches several people: (id, name, slug) each."""
    names = ", ".join(f"{name!r} (id {pid}, slug {slug})" for pid, name, slug in sorted(candidates))
    return Ambiguous(f"{raw!r} could be any of: {names}; use the id or slug")


def _follow(session: Session, person: Person) -> Person:
    seen = set()
    while person.merged_into_id and person.id not in seen:
        seen.add(person.id)
        person = session.get(Person, person.merged_into_id)
    return person


def _suggestion(session: Session, folded: str) -> str:
    names: dict[str, str] = {}
    for key, name in session.exec(_live(select(Person.name_key, Person.name))):
        names.setdefault(key, name)
    for key, name in session.exec(select(PersonAlias.name_key, Person.name)
                                  .join(Person, col(Person.id) == PersonAlias.person_id)):
        names.setdefault(key, name)
    return suggest(folded, names)


def suggest(folded: str, names: dict[str, str]) -> str:
    """The "did you mean" end of a not-found message; `names` maps folded forms to names."""
    close = difflib.get_close_matches(folded, list(names), n=3, cutoff=0.6)
    suggestions = list(dict.fromkeys(names[k] for k in close))
    if not suggestions:
        return "; `ledger person list` shows who is recorded, `ledger person add` adds one"
    return "; did you mean " + " or ".join(repr(s) for s in suggestions) + "?"


def list_people(session: Session, *, limit: int | None = None, offset: int = 0) -> list[Person]:
    """Everyone recorded (merged duplicates excluded), by name; `limit` and `offset` page."""
    query = _live(select(Person)).order_by(col(Person.name_key), col(Person.id))
    return list(session.exec(query.offset(offset).limit(limit)))


def edit_person(session: Session, person: Person, *, name: str | None = None,
                kind: str | None = None, description: str | None = None,
                add_aliases: list[str] | tuple[str, ...] = (),
                remove_aliases: list[str] | tuple[str, ...] = ()) -> Person:
    """Change a person's fields or aliases; a new event records the new state."""
    changed = False
    if name is not None:
        new_name = values.line(name, field="name")
        if new_name != person.name:
            clash = session.exec(_live(select(Person).where(Person.name == new_name))).first()
            if clash:
                raise Conflict(f"a person named {new_name!r} is already recorded (id {clash.id})")
            # The old name stays findable: it becomes an alias.
            add_aliases = [person.name, *add_aliases]
            person.name, person.name_key = new_name, values.fold(new_name)
            changed = True
    if kind is not None:
        new_kind = values.choice(kind, field="kind", allowed=values.PERSON_KINDS)
        changed |= new_kind != person.kind
        person.kind = new_kind
    if description is not None:
        new_description = values.text(description, field="description")
        changed |= new_description != person.description
        person.description = new_description
    session.flush()
    changed |= _add_aliases(session, person, add_aliases)
    for alias in remove_aliases:
        alias = values.line(alias, field="alias")
        # The alias as written if it is there, else the one it folds to.
        rows = list(session.exec(select(PersonAlias).where(
            PersonAlias.person_id == person.id, PersonAlias.name_key == values.fold(alias))))
        row = next((r for r in rows if r.name == alias), rows[0] if rows else None)
        if row is None:
            raise NotFound(f"{person.name!r} has no alias {alias!r}")
        session.delete(row)
        changed = True
    if not changed:
        raise InvalidValue("nothing to change: give at least one new value")
    _record_event(session, person, "edit")
    return person


def merge_people(session: Session, *, keep: Person, duplicate: Person) -> Person:
    """Merge `duplicate` into `keep`: its claims, responses, requests and names move over.

    The duplicate's record stays (nothing is destroyed), marked as merged; its name and
    aliases become aliases of `keep`, so every old reference still resolves.
    """
    from ledger.store.claims import record_claim_event, record_reply_event, record_response_event

    if keep.id == duplicate.id:
        raise Conflict(f"cannot merge {keep.name!r} into itself")
    _add_aliases(session, keep, [duplicate.name, *aliases_of(session, duplicate)])
    claim_ids: set[int] = set()
    for link in session.exec(select(ClaimPerson).where(ClaimPerson.person_id == duplicate.id)):
        claim_ids.add(link.claim_id)
        twin = session.exec(select(ClaimPerson).where(
            ClaimPerson.claim_id == link.claim_id, ClaimPerson.person_id == keep.id,
            ClaimPerson.role == link.role)).first()
        if twin:
            session.delete(link)  # the claim's new state (an event below) records it
        else:
            link.person_id = keep.id
    for claim in session.exec(select(Claim).where(Claim.claimant_id == duplicate.id)):
        claim.claimant_id = keep.id
        claim_ids.add(claim.id)
    responses = list(session.exec(select(Response).where(Response.respondent_id == duplicate.id)))
    for response in responses:
        response.respondent_id = keep.id
    replies = list(session.exec(select(ReplyRequest)
                                .where(ReplyRequest.addressee_id == duplicate.id)))
    for reply in replies:
        reply.addressee_id = keep.id
    duplicate.merged_into_id = keep.id
    session.flush()
    _record_event(session, keep, "edit")
    _record_event(session, duplicate, "merge")
    for claim_id in sorted(claim_ids):
        record_claim_event(session, session.get(Claim, claim_id), "edit")
    for response in responses:
        record_response_event(session, response, "edit")
    for reply in replies:
        record_reply_event(session, reply, "edit")
    return keep
