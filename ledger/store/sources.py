"""Sources and the links between them: add, resolve, list, edit, link."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from ledger import shapes, values
from ledger.errors import Conflict, InvalidValue
from ledger.models import Attribution, Response, Source, SourceLink, new_uid
from ledger.store.resolve import SourceEntry
from ledger.store.states import links_of, record_event, source_state
from ledger.store.unit import Unit, writing

__all__ = ["QuoteMove", "add_source", "edit_source", "get_source", "key_taken", "link_sources",
           "links_of", "list_sources", "new_link", "new_source", "recapture_source",
           "recheck_quotes", "set_text", "source_record", "source_state", "url_taken",
           "verify_attribution", "verify_response"]


def source_record(session: Session, source: Source, *, with_id: bool = True,
                  with_text: bool = False) -> dict[str, Any]:
    """The source as `--json` and the bundle show it."""
    record: dict[str, Any] = {"type": "source"}
    if with_id:
        record["id"] = source.id
    record.update(uid=source.uid, key=source.key, title=source.title,
                  publisher=source.publisher, author=source.author, url=source.url,
                  published=source.published, kind=source.kind, language=source.language)
    if with_text:
        record["text"] = source.text
    else:
        record["text_sha256"] = source.text_sha256
        record["text_length"] = len(source.text) if source.text is not None else None
    record["retrieved"] = source.retrieved
    record["file_sha256"] = source.file_sha256
    record["media_type"] = source.media_type
    grouped: dict[str, list[str]] = defaultdict(list)
    for relation, target in links_of(session, source):
        grouped[relation].append(target.key)
    for relation in values.LINK_RELATIONS:
        record[relation] = grouped[relation]
    return record


def url_taken(key: str, url: str | None) -> Conflict:
    """The error for a second source with the same normalized URL."""
    return Conflict(f"source {key!r} already has this URL ({url}); cite it with --source {key}")


def key_taken(key: str, title: str) -> Conflict:
    """The error for a second source with the same key."""
    return Conflict(f"a source with key {key!r} is already recorded ({title!r})")


def _url_clash(session: Session, normalized: str | None, *, exclude_id: int | None = None):
    if normalized is None:
        return
    clash = session.exec(select(Source).where(Source.url_normalized == normalized)).first()
    if clash and clash.id != exclude_id:
        raise url_taken(clash.key, clash.url)


def _check_url(session: Session, url: str | None, *, exclude_id: int | None = None):
    checked = values.url(url)
    if checked is None:
        return None, None
    _url_clash(session, checked[1], exclude_id=exclude_id)
    return checked


def set_text(source: Source, text: str | None, *, retrieved: str,
             file_sha256: str | None = None, media_type: str | None = None) -> None:
    """Store a text snapshot with its SHA-256, the time it was taken and the saved file."""
    checked = values.text(text, field="text", required=False)
    source.text = checked
    source.text_sha256 = shapes.text_digest(checked)
    source.retrieved = retrieved if checked else None
    source.file_sha256, source.media_type = shapes.clean_capture(
        file_sha256=file_sha256, media_type=media_type, has_text=checked is not None)


def new_source(unit: Unit, *, title: str | None, key: str | None = None,
               publisher: str | None = None, author: str | None = None,
               url: str | None = None, published: str | None = None, kind: str | None = None,
               language: str | None = None, text: str | None = None,
               retrieved: str | None = None, uid: str | None = None,
               file_sha256: str | None = None, media_type: str | None = None) -> int:
    """The rules for a new source, in a unit of work; the new source's id.

    A key or normalized URL already in use is a conflict. Without a key, one is derived from
    the publisher (or title) and date (`shapes.derived_key`), made unique with `-2`, `-3`...
    Links are made separately (`new_link`), since a bulk import may name later sources.
    """
    cleaned = shapes.clean_source(title=title, key=key, publisher=publisher, author=author,
                                  url=url, published=published, kind=kind, language=language,
                                  text=text, file_sha256=file_sha256, media_type=media_type)
    resolver = unit.resolver
    if cleaned["key"] is not None:
        clash = resolver.source_keyed(cleaned["key"])
        if clash is not None:
            raise key_taken(cleaned["key"], resolver.sources[clash].title)
    else:
        cleaned["key"] = resolver.free_key(shapes.derived_key(
            publisher=cleaned["publisher"], title=cleaned["title"],
            published=cleaned["published"]))
    clash = resolver.source_with_url(cleaned["url_normalized"])
    if clash is not None:
        raise url_taken(resolver.sources[clash].key, cleaned["url"])
    uid = uid or new_uid()
    row = {"uid": uid, **cleaned,
           "retrieved": (retrieved or unit.now()) if cleaned["text"] else None}
    sid = unit.add(Source, row)
    resolver.index_source(SourceEntry(sid, uid, cleaned["key"], cleaned["title"],
                                      cleaned["publisher"], cleaned["published"],
                                      cleaned["text"], staged=True),
                          cleaned["url_normalized"])
    unit.event(action="add", entity="source", uid=uid, state=shapes.source_state(
        **{k: v for k, v in row.items() if k not in ("id", "url_normalized")}))
    return sid


def add_source(session: Session, *, title: str, key: str | None = None,
               publisher: str | None = None, author: str | None = None,
               url: str | None = None, published: str | None = None, kind: str = "article",
               language: str | None = None, text: str | None = None,
               retrieved: str | None = None, cites: list[str] | tuple[str, ...] = (),
               uid: str | None = None, file_sha256: str | None = None,
               media_type: str | None = None) -> Source:
    """Record a source and what it cites; a key or normalized URL in use is a conflict.

    `file_sha256` and `media_type` describe the saved file the text was extracted from.
    """
    with writing(session) as unit:
        sid = new_source(unit, title=title, key=key, publisher=publisher, author=author,
                         url=url, published=published, kind=kind, language=language,
                         text=text, retrieved=retrieved, uid=uid, file_sha256=file_sha256,
                         media_type=media_type)
        for target in cites:
            new_link(unit, source_id=sid, target_id=unit.resolver.source(target, field="cites"))
    return session.get(Source, sid)


def get_source(session: Session, ref: str, *, field: str = "source") -> Source:
    """Resolve a source by key or id (`ledger.store.resolve.Resolver.source`)."""
    session.flush()
    return session.get(Source, Unit(session).resolver.source(ref, field=field))


def list_sources(session: Session, *, limit: int | None = None,
                 offset: int = 0) -> list[Source]:
    """Every source, by publication date then key; `limit` and `offset` page."""
    query = select(Source).order_by(col(Source.published), col(Source.key))
    return list(session.exec(query.offset(offset).limit(limit)))


def edit_source(session: Session, source: Source, *, title: str | None = None,
                publisher: str | None = None, author: str | None = None,
                url: str | None = None, published: str | None = None,
                kind: str | None = None, language: str | None = None,
                text: str | None = None, file_sha256: str | None = None,
                media_type: str | None = None, retrieved: str | None = None) -> Source:
    """Change a source's fields or its text; quotes against a changed text are re-checked."""
    before = source_state(session, source)
    if title is not None:
        source.title = values.line(title, field="title")
    if publisher is not None:
        source.publisher = values.line(publisher, field="publisher")
    if author is not None:
        source.author = values.line(author, field="author")
    if url is not None:
        source.url, source.url_normalized = _check_url(session, url, exclude_id=source.id)
    if published is not None:
        source.published = values.partial_date(published, field="published")
        if source.published is None:
            raise InvalidValue("--published must not be empty")
    if kind is not None:
        source.kind = values.choice(kind, field="kind", allowed=values.SOURCE_KINDS)
    if language is not None:
        source.language = values.line(language, field="language")
    text_changed = False
    if text is not None:
        old_hash = source.text_sha256
        set_text(source, values.text(text, field="text"),
                 retrieved=retrieved or session.info["clock"](), file_sha256=file_sha256,
                 media_type=media_type)
        text_changed = source.text_sha256 != old_hash
    if source_state(session, source) == before:
        raise InvalidValue("nothing to change: give at least one new value")
    record_event(session, source, "edit")
    if text_changed:
        recheck_quotes(session, source)
    return source


def recapture_source(session: Session, source: Source, *, text: str,
                     file_sha256: str | None = None, media_type: str | None = None,
                     retrieved: str | None = None) -> list[Any]:
    """Store a newer capture of the same document and re-check every quote on it.

    The new text is a new event (`recapture`); the old one stays in the history. Each
    attribution and response quote is re-checked exactly (as typed or normalized, never
    fuzzily) and re-anchored; the result says which still stand, which moved and which are
    gone (`QuoteMove`).
    """
    if source.text is None:
        raise Conflict(f"source {source.key!r} has no stored text to recapture; give it one "
                       f"with `ledger source edit {source.key} --text-file F`")
    previous = source.text_sha256
    set_text(source, values.text(text, field="text"),
             retrieved=retrieved or session.info["clock"](), file_sha256=file_sha256,
             media_type=media_type)
    if source.text_sha256 == previous:
        raise Conflict(f"the new capture of {source.key!r} has the same text as the stored "
                       f"one (sha256 {previous[:12]}…); nothing changed")
    record_event(session, source, "recapture")
    return recheck_quotes(session, source)



def new_link(unit: Unit, *, source_id: int, target_id: int, relation: str = "cites",
             uid: str | None = None, allow_cycle: bool = False) -> bool:
    """The rules for a new source link, in a unit of work; whether it closes a cycle.

    A link that would close a citation cycle is refused, unless `allow_cycle` (an import
    brings what the file says, with a warning; the audit reports the cycle). Without a uid,
    the link's is derived from the two sources' (`shapes.link_uid`), so importing the same
    bundle gives the same event chain every time.
    """
    relation = values.choice(relation, field="relation", allowed=values.LINK_RELATIONS)
    resolver = unit.resolver
    source, target = resolver.sources[source_id], resolver.sources[target_id]
    if source_id == target_id:
        raise Conflict(f"source {source.key!r} cannot rely on itself")
    if resolver.linked(source_id, target_id):
        raise Conflict(f"{source.key!r} already relies on {target.key!r}")
    path = resolver.link_path(target_id, source_id)
    if path:
        chain = " → ".join(resolver.sources[i].key for i in [*path, target_id])
        if not allow_cycle:
            raise Conflict(f"linking {source.key!r} to {target.key!r} would make a citation "
                           f"cycle: {chain}")
        unit.warn(f"the link {source.key} {relation} {target.key} makes a citation cycle "
                  f"({chain}); `ledger audit` reports it")
    uid = uid or shapes.link_uid(source.uid, target.uid)
    unit.add(SourceLink, {"uid": uid, "source_id": source_id, "target_id": target_id,
                          "relation": relation})
    resolver.index_link(source_id, target_id)
    unit.event(action="add", entity="link", uid=uid, state=shapes.link_state(
        uid=uid, source=source.uid, target=target.uid, relation=relation))
    return bool(path)


def link_sources(session: Session, *, source: Source, target: Source,
                 relation: str = "cites", uid: str | None = None,
                 allow_cycle: bool = False) -> bool:
    """Record that `source` relies on `target`; return whether the link closes a cycle."""
    with writing(session) as unit:
        unit.resolver.sources_by_id([source.id, target.id])
        return new_link(unit, source_id=source.id, target_id=target.id, relation=relation,
                        uid=uid, allow_cycle=allow_cycle)


def verify_attribution(session: Session, attribution: Attribution, source: Source) -> str:
    """Look for the quote in the source's stored text and store the result and anchor."""
    return _anchor(session, attribution, source)


def verify_response(session: Session, response: Response, source: Source | None) -> str:
    """Look for a response's quote in its source's stored text, as for an attribution."""
    return _anchor(session, response, source)


def _anchor(session: Session, row: Attribution | Response, source: Source | None,
            check: Any = None) -> str:
    anchor = shapes.quote_anchor(text=source.text if source else None,
                                 digest=source.text_sha256 if source else None,
                                 quote=row.quote, check=check, found_in=row.anchor_sha256)
    for name, value in anchor.items():
        setattr(row, name, value)
    session.flush()
    return row.quote_status


@dataclass(frozen=True)
class QuoteMove:
    """What a new capture did to one quote: it `stands`, `moved` or is `gone`; or, not found
    before, it is `found` now or still `not-found`."""

    entity: str  # attribution | response
    id: int
    claim_id: int
    quote: str
    outcome: str
    before: tuple[int, int] | None
    after: tuple[int, int] | None


def recheck_quotes(session: Session, source: Source) -> list[QuoteMove]:
    """Re-check and re-anchor every attribution and response quote on `source`'s new text.

    Exact checks only (as typed, normalized or elided; the fuzzy search never decides): a
    quote found before and not now is gone, and keeps the capture it was found in.
    """
    from ledger.quotes import TextIndex, recheck  # on first use: most commands never check

    index = TextIndex(source.text) if source.text is not None else None
    rows: list[tuple[str, Attribution | Response]] = [
        ("attribution", a) for a in session.exec(
            select(Attribution).where(Attribution.source_id == source.id)
            .order_by(col(Attribution.id)))]
    rows += [("response", r) for r in session.exec(
        select(Response).where(Response.source_id == source.id).order_by(col(Response.id)))]
    moves = []
    for entity, row in rows:
        if not row.quote:
            continue
        before = ((row.anchor_start, row.anchor_end) if row.quote_status == "verified"
                  and row.anchor_start is not None else None)
        check = None
        if index is not None:
            check = recheck(text=source.text, quote=row.quote, start=row.anchor_start,
                            end=row.anchor_end, prefix=row.anchor_prefix,
                            suffix=row.anchor_suffix, index=index)
        _anchor(session, row, source, check=check)
        after = ((row.anchor_start, row.anchor_end) if row.quote_status == "verified"
                 else None)
        if before is None:
            outcome = "not-found" if after is None else "found"
        else:
            outcome = "gone" if after is None else "stands" if before == after else "moved"
        moves.append(QuoteMove(entity, row.id, row.claim_id, row.quote, outcome, before, after))
    return moves
