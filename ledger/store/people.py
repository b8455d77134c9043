"""People and organizations: add, resolve, list, edit, merge."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from ledger import shapes, values
from ledger.db import require_editor
from ledger.errors import Conflict, InvalidValue, NotFound
from ledger.models import Claim, ClaimPerson, Person, PersonAlias, ReplyRequest, Response, new_uid
from ledger.store.resolve import ambiguous, suggest
from ledger.store.states import aliases_of, person_state, record_event
from ledger.store.unit import Unit, writing

__all__ = ["add_person", "aliases_of", "ambiguous", "edit_person", "get_person", "list_people",
           "lookalike", "merge_people", "name_taken", "new_person", "person_record", "person_state",
           "suggest"]


def person_record(session: Session, person: Person, *, with_id: bool = True) -> dict[str, Any]:
    """The person as `--json` and the bundle show it."""
    record: dict[str, Any] = {"type": "person"}
    if with_id:
        record["id"] = person.id
    record.update(uid=person.uid, name=person.name, aliases=aliases_of(session, person),
                  kind=person.kind, description=person.description, slug=person.slug)
    if person.wikidata is not None:
        record["wikidata"] = person.wikidata
    return record


def new_person(unit: Unit, *, name: str | None, kind: str | None = None,
               description: str | None = None, aliases: list[str] | tuple[str, ...] = (),
               uid: str | None = None, distinct: bool = False,
               wikidata: str | None = None) -> int:
    """The rules for a new person, in a unit of work; the new person's id.

    A live person with the same exact name is a conflict; the slug is derived from the name
    and never taken from anyone else. So is a name or alias that looks like an existing
    person's name, alias or slug (`values.lookalike_key`: case, accents, width, invisible
    characters, confusable letters), unless `distinct` says it is someone else.
    """
    cleaned = shapes.clean_person(name=name, kind=kind, description=description,
                                  aliases=aliases, wikidata=wikidata)
    resolver = unit.resolver
    existing = resolver.person_named(cleaned["name"])
    if existing is not None:
        other = resolver.people[existing]
        raise name_taken(cleaned["name"], other.id, other.slug)
    if not distinct:
        for wanted in [cleaned["name"], *cleaned["aliases"]]:
            seen = resolver.lookalike_of(wanted)
            if seen is not None:
                owner = resolver.people[resolver.follow(seen[0])]
                raise lookalike(wanted, owner.id, owner.name, owner.slug, seen[2], seen[1])
    slug = resolver.free_slug(values.safe_slug(cleaned["name"], fallback="person"))
    uid = uid or new_uid()
    pid = unit.add(Person, {"uid": uid, "name": cleaned["name"], "name_key": cleaned["name_key"],
                            "kind": cleaned["kind"], "description": cleaned["description"],
                            "slug": slug, "wikidata": cleaned["wikidata"],
                            "merged_into_id": None})
    for alias in cleaned["aliases"]:
        unit.add(PersonAlias, {"person_id": pid, "name": alias, "name_key": values.fold(alias)})
    resolver.index_person(pid=pid, uid=uid, name=cleaned["name"], name_key=cleaned["name_key"],
                          slug=slug, aliases=cleaned["aliases"])
    unit.event(action="add", entity="person", uid=uid, state=shapes.person_state(
        uid=uid, name=cleaned["name"], kind=cleaned["kind"], description=cleaned["description"],
        slug=slug, aliases=cleaned["aliases"], merged_into=None, wikidata=cleaned["wikidata"]))
    return pid


def add_person(session: Session, *, name: str, kind: str = "person",
               description: str | None = None, aliases: list[str] | tuple[str, ...] = (),
               uid: str | None = None, distinct: bool = False,
               wikidata: str | None = None) -> Person:
    """Record a person or organization (the rules of `new_person`); `wikidata` is their
    Wikidata item (`Q` and digits)."""
    with writing(session) as unit:
        pid = new_person(unit, name=name, kind=kind, description=description, aliases=aliases,
                         uid=uid, distinct=distinct, wikidata=wikidata)
    return session.get(Person, pid)


def lookalike(new: str, person_id: int, name: str, slug: str, what: str, seen: str) -> Conflict:
    """The error for a new name that looks like an existing person's name, alias or slug."""
    via = "" if what == "name" else f" (its {what} {seen!r})"
    return Conflict(f"{new!r} looks like {name!r}{via}, already recorded as id {person_id}, "
                    f"slug {slug}; refer to that person, or add --distinct if {new!r} is "
                    "someone else")


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

    Folding makes it case-, accent- and Unicode-form-insensitive. A slug wins over a name,
    and an older person's alias over a newer person's name, so a record added later never
    takes over a reference that already worked. An unknown reference
    suggests the nearest names; an ambiguous one lists the candidates. A merged duplicate
    resolves to the person it was merged into. (`ledger.store.resolve.Resolver.person`.)
    """
    session.flush()
    return session.get(Person, Unit(session).resolver.person(ref, field=field))


def list_people(session: Session, *, limit: int | None = None, offset: int = 0) -> list[Person]:
    """Everyone recorded (merged duplicates excluded), by name; `limit` and `offset` page."""
    query = _live(select(Person)).order_by(col(Person.name_key), col(Person.id))
    return list(session.exec(query.offset(offset).limit(limit)))


def edit_person(session: Session, person: Person, *, name: str | None = None,
                kind: str | None = None, description: str | None = None,
                add_aliases: list[str] | tuple[str, ...] = (),
                remove_aliases: list[str] | tuple[str, ...] = (),
                wikidata: str | None = None) -> Person:
    """Change a person's fields or aliases; a new event records the new state."""
    changed = False
    if wikidata is not None:
        new_item = values.wikidata(wikidata)
        changed |= new_item != person.wikidata
        person.wikidata = new_item
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
    record_event(session, person, "edit")
    return person


def merge_people(session: Session, *, keep: Person, duplicate: Person) -> Person:
    """Merge `duplicate` into `keep`: its claims, responses, requests and names move over.

    The duplicate's record stays (nothing is destroyed), marked as merged; its name and
    aliases become aliases of `keep`, so every old reference still resolves.
    """
    require_editor(session, doing="merge people")
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
    record_event(session, keep, "edit")
    record_event(session, duplicate, "merge")
    for claim_id in sorted(claim_ids):
        record_event(session, session.get(Claim, claim_id), "edit")
    for response in responses:
        record_event(session, response, "edit")
    for reply in replies:
        record_event(session, reply, "edit")
    return keep
