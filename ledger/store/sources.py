"""Sources and the links between them: add, resolve, list, edit, link."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlmodel import Session, col, select

from ledger import shapes, values
from ledger.errors import Conflict, InvalidValue, NotFound
from ledger.models import Attribution, Source, SourceLink
from ledger.store.events import append_event


def links_of(session: Session, source: Source) -> list[tuple[str, Source]]:
    """The sources this one relies on, with the relation, in the order recorded."""
    rows = session.exec(select(SourceLink.relation, Source)
                        .join(Source, col(Source.id) == SourceLink.target_id)
                        .where(SourceLink.source_id == source.id).order_by(col(SourceLink.id)))
    return [(relation, target) for relation, target in rows]


def source_state(session: Session, source: Source) -> dict[str, Any]:
    """The source as the event log records it (its text included: nothing is lost)."""
    return shapes.source_state(
        uid=source.uid, key=source.key, title=source.title, publisher=source.publisher,
        author=source.author, url=source.url, published=source.published, kind=source.kind,
        language=source.language, text=source.text, text_sha256=source.text_sha256,
        retrieved=source.retrieved)


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
    grouped: dict[str, list[str]] = defaultdict(list)
    for relation, target in links_of(session, source):
        grouped[relation].append(target.key)
    for relation in values.LINK_RELATIONS:
        record[relation] = grouped[relation]
    return record


def _record_event(session: Session, source: Source, action: str) -> None:
    session.flush()
    append_event(session, action=action, entity="source", uid=source.uid,
                 state=source_state(session, source))


def _unique_key(session: Session, base: str) -> str:
    taken = set(session.exec(select(Source.key).where(col(Source.key).startswith(base))))
    return shapes.next_free(base, taken)


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


def set_text(source: Source, text: str | None, *, retrieved: str) -> None:
    """Store a text snapshot with its SHA-256 and the time it was taken."""
    checked = values.text(text, field="text", required=False)
    source.text = checked
    source.text_sha256 = shapes.text_digest(checked)
    source.retrieved = retrieved if checked else None


def add_source(session: Session, *, title: str, key: str | None = None,
               publisher: str | None = None, author: str | None = None,
               url: str | None = None, published: str | None = None, kind: str = "article",
               language: str | None = None, text: str | None = None,
               retrieved: str | None = None, cites: list[str] | tuple[str, ...] = (),
               uid: str | None = None) -> Source:
    """Record a source; a key or normalized URL already in use is a conflict."""
    cleaned = shapes.clean_source(title=title, key=key, publisher=publisher, author=author,
                                  url=url, published=published, kind=kind, language=language,
                                  text=text)
    if cleaned["key"] is not None:
        clash = session.exec(select(Source).where(Source.key == cleaned["key"])).first()
        if clash:
            raise key_taken(cleaned["key"], clash.title)
    else:
        cleaned["key"] = _unique_key(session, shapes.derived_key(
            publisher=cleaned["publisher"], title=cleaned["title"],
            published=cleaned["published"]))
    _url_clash(session, cleaned["url_normalized"])
    source = Source(**cleaned)
    source.retrieved = (retrieved or session.info["clock"]()) if cleaned["text"] else None
    if uid:
        source.uid = uid
    session.add(source)
    session.flush()
    _record_event(session, source, "add")
    for target in cites:
        link_sources(session, source=source, target=get_source(session, target, field="cites"))
    return source


def get_source(session: Session, ref: str, *, field: str = "source") -> Source:
    """Resolve a source by key or id."""
    raw = (ref or "").strip()
    if not raw:
        raise InvalidValue(f"--{field} must not be empty")
    source = session.exec(select(Source).where(Source.key == raw)).first()
    if source is None and raw.isdigit():
        source = session.get(Source, int(raw))
    if source is None:
        source = session.exec(select(Source).where(Source.key == raw.lower())).first()
    if source is None:
        import difflib

        keys = list(session.exec(select(Source.key)))
        close = difflib.get_close_matches(raw.lower(), keys, n=3, cutoff=0.6)
        hint = ("; did you mean " + " or ".join(repr(k) for k in close) + "?") if close else (
            "; `ledger source list` shows the keys")
        raise NotFound(f"no source {raw!r}{hint}")
    return source


def list_sources(session: Session, *, limit: int | None = None,
                 offset: int = 0) -> list[Source]:
    """Every source, by publication date then key; `limit` and `offset` page."""
    query = select(Source).order_by(col(Source.published), col(Source.key))
    return list(session.exec(query.offset(offset).limit(limit)))


def edit_source(session: Session, source: Source, *, title: str | None = None,
                publisher: str | None = None, author: str | None = None,
                url: str | None = None, published: str | None = None,
                kind: str | None = None, language: str | None = None,
                text: str | None = None) -> Source:
    """Change a source's fields or its text; quotes against a changed text are re-checked."""
    from ledger.store.claims import verify_attribution

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
        set_text(source, values.text(text, field="text"), retrieved=session.info["clock"]())
        text_changed = source.text_sha256 != old_hash
    if source_state(session, source) == before:
        raise InvalidValue("nothing to change: give at least one new value")
    _record_event(session, source, "edit")
    if text_changed:
        for attribution in session.exec(select(Attribution)
                                         .where(Attribution.source_id == source.id)):
            verify_attribution(session, attribution, source)
    return source


def _reachable(session: Session, start: Source, goal: Source) -> list[int] | None:
    """A path of source ids from start to goal along the links, or None."""
    parents: dict[int, int | None] = {start.id: None}
    frontier = [start.id]
    while frontier:
        rows = session.exec(select(SourceLink.source_id, SourceLink.target_id)
                            .where(col(SourceLink.source_id).in_(frontier))).all()
        frontier = []
        for src, dst in rows:
            if dst in parents:
                continue
            parents[dst] = src
            if dst == goal.id:
                path, node = [], dst
                while node is not None:
                    path.append(node)
                    node = parents[node]
                return path[::-1]
            frontier.append(dst)
    return None


def link_sources(session: Session, *, source: Source, target: Source,
                 relation: str = "cites", uid: str | None = None,
                 allow_cycle: bool = False) -> bool:
    """Record that `source` relies on `target`; return whether the link closes a cycle.

    A link that would close a citation cycle is refused, unless `allow_cycle` (an import
    brings what the file says; the audit reports the cycle).
    """
    relation = values.choice(relation, field="relation", allowed=values.LINK_RELATIONS)
    if source.id == target.id:
        raise Conflict(f"source {source.key!r} cannot rely on itself")
    existing = session.exec(select(SourceLink).where(SourceLink.source_id == source.id,
                                                     SourceLink.target_id == target.id)).first()
    if existing:
        raise Conflict(f"{source.key!r} already {existing.relation} {target.key!r}")
    path = _reachable(session, target, source)
    if path and not allow_cycle:
        keys = dict(session.exec(select(Source.id, Source.key).where(col(Source.id).in_(path))))
        chain = " → ".join(keys[i] for i in [*path, target.id])
        raise Conflict(f"linking {source.key!r} to {target.key!r} would make a citation "
                       f"cycle: {chain}")
    link = SourceLink(source_id=source.id, target_id=target.id, relation=relation)
    if uid:
        link.uid = uid
    session.add(link)
    session.flush()
    append_event(session, action="add", entity="link", uid=link.uid,
                 state=shapes.link_state(uid=link.uid, source=source.uid, target=target.uid,
                                         relation=relation))
    return bool(path)
