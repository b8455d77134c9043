"""Publishing: every dossier, a page per source and an index, as Markdown (and HTML).

`publish` writes into one folder:

    index.md                 everyone with counts, sorted by name; every source
    people/<slug>.md         one dossier per person
    sources/<key>.md         everything one source carries (the reviewer's view)
    style.css                with html=True, beside the .html twin of every page
    .ledger-publish.json     the manifest: what this publish wrote

File names are safe ASCII slugs of at most 100 bytes, unique, and always inside the folder.
Each file is written atomically (a temporary file, then a rename), and only when its bytes
change. Files the previous publish wrote (per its manifest) that are no longer produced are
removed; nothing else in the folder is touched. There is no clock in the output: the same ledger
gives the same bytes.

The ledger is read in batches of people and of sources (`ledger.store.reports`), so the number
of queries grows with the number of batches, not claims, and memory stays bounded.

`dossier` renders one person's dossier; `load_example` loads the bundled example ledger with a
fixed clock, for `ledger demo`.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path, PurePosixPath

from sqlalchemy.engine import Engine
from sqlmodel import Session

from ledger import dossier as contexts
from ledger.errors import Conflict, LedgerError, ReadFailed
from ledger.store import reports
from ledger.values import source_date_epoch

MANIFEST = ".ledger-publish.json"
STYLESHEET = "style.css"
MAX_NAME_BYTES = 100
# People (or sources) per batch. A batch reads every claim its people appear in, in any
# role, so a smaller batch bounds memory at a million claims (measured: 500 people read ~15%
# of a synthetic ledger's claims); queries stay a fixed handful per batch, whatever the claims.
BATCH_SIZE = 100
FORMATS = ("md", "html")
FOOTER = "_footer.md.j2"
# An index list longer than this is split into pages (people by initial, sources by number),
# so no index page grows past a few hundred kilobytes.
INDEX_LIST_LIMIT = 500
#: `progress(stage, done, total)`: called as a publish goes ("dossiers", "source pages").
Progress = Callable[[str, int, int], None]
# The demo's clock when SOURCE_DATE_EPOCH is not set: any fixed time, so the example ledger's
# event chain, head hash and published bytes are the same on every run.
DEMO_TIME = "2026-01-01T00:00:00.000000Z"

_SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_RESERVED = {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(10)} | {
    f"lpt{i}" for i in range(10)}


class PublishFailed(LedgerError):
    """The output folder cannot be written as asked."""


@dataclass
class PublishResult:
    """What a publish did: every file it produced, and which it wrote, kept or removed."""

    out_dir: Path
    files: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    people: int = 0
    sources: int = 0

    def summary(self) -> str:
        return (f"published {self.people} dossier{'s' if self.people != 1 else ''} and "
                f"{self.sources} source page{'s' if self.sources != 1 else ''} to "
                f"{self.out_dir}: {len(self.written)} file(s) written, "
                f"{len(self.files) - len(self.written)} unchanged, {len(self.removed)} removed")


# --- names ---------------------------------------------------------------------------------


def safe_name(value: str, *, fallback: str) -> str:
    """`value` if it is a safe file-name stem (lowercase ASCII letters, digits, '.', '_', '-',
    not starting with a dot, no '..', not a reserved device name, at most 100 bytes with room
    for '.html'), else `fallback`."""
    limit = MAX_NAME_BYTES - len(".html")
    if (_SAFE_NAME.match(value) and ".." not in value and len(value) <= limit
            and value.split(".")[0] not in _RESERVED):
        return value
    return fallback


def _unique_names(items: list[tuple[int, str]], *, prefix: str) -> dict[int, str]:
    """File-name stems for (id, wanted) pairs: safe and unique; a clash gets `-<id>` added."""
    names: dict[int, str] = {}
    taken: set[str] = set()
    for item_id, wanted in items:
        name = safe_name(wanted, fallback=f"{prefix}-{item_id}")
        if name in taken:
            name = f"{name[: MAX_NAME_BYTES - 20]}-{item_id}"
        taken.add(name)
        names[item_id] = name
    return names


# --- files ---------------------------------------------------------------------------------


class _Output:
    """Writes files inside one folder, atomically, only when their bytes change."""

    def __init__(self, out_dir: Path) -> None:
        if out_dir.exists() and not out_dir.is_dir():
            raise PublishFailed(f"--out {str(out_dir)!r} is a file, not a folder")
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PublishFailed(f"cannot create --out {str(out_dir)!r}: {exc.strerror}") from None
        self.root = out_dir.resolve()
        self.files: list[str] = []
        self.written: list[str] = []

    def path(self, relative: str) -> Path:
        """The absolute path of a relative POSIX path, refused if it leaves the folder."""
        pure = PurePosixPath(relative)
        if pure.is_absolute() or ".." in pure.parts or not pure.parts:
            raise PublishFailed(f"refusing to write outside the folder: {relative!r}")
        path = self.root.joinpath(*pure.parts)
        if not path.resolve().is_relative_to(self.root):
            raise PublishFailed(f"refusing to write outside the folder: {relative!r}")
        return path

    def write(self, relative: str, content: str) -> None:
        data = content.encode("utf-8")
        path = self.path(relative)
        self.files.append(relative)
        try:
            if path.is_file() and path.read_bytes() == data:
                return
        except OSError:
            pass
        write_atomically(path, data)
        self.written.append(relative)


def write_atomically(path: Path, data: bytes) -> None:
    """Write bytes to a temporary file beside `path`, then rename it into place.

    Readers see the old file or the new one, never half of one. There is no fsync per file:
    published pages are regenerated by the next publish, and an fsync each costs more than
    rendering the page.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _read_manifest(output: _Output) -> list[str]:
    """What the previous publish wrote; a missing or unreadable manifest means nothing."""
    try:
        data = json.loads((output.root / MANIFEST).read_text(encoding="utf-8"))
        files = data["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [f for f in files if isinstance(f, str)] if isinstance(files, list) else []


def _remove_stale(output: _Output, previous: list[str]) -> list[str]:
    current = set(output.files)
    removed = []
    for relative in sorted(set(previous) - current):
        try:
            path = output.path(relative)
        except PublishFailed:
            continue  # a tampered manifest never sends a delete outside the folder
        if path.is_file() and not path.is_symlink():
            path.unlink()
            removed.append(relative)
    return removed


# --- rendering -----------------------------------------------------------------------------


def environment(templates_dir: str | Path | None = None):
    """The Jinja environment, with `templates_dir` (if given) overriding shipped templates."""
    from ledger.render import jinja_environment

    if templates_dir is None:
        return jinja_environment()
    folder = Path(templates_dir)
    if not folder.is_dir():
        raise ReadFailed(f"--templates {str(folder)!r} is not a folder")
    return jinja_environment(extra_dirs=(folder,))


def _render(env, name: str, **context) -> str:
    """Render a template. `web` (the Markdown of an HTML page) is false unless given, and
    `page`, the page's context for the footer, is the one context object unless given."""
    import jinja2

    context.setdefault("web", False)
    if "page" not in context:
        objects = [value for key, value in context.items() if key != "web"]
        context["page"] = objects[0] if len(objects) == 1 else None
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateError as exc:
        where = f" (line {exc.lineno})" if getattr(exc, "lineno", None) else ""
        raise LedgerError(f"template {name!r}{where}: {exc.message}") from None


def _html(markdown: str, *, title: str, stylesheet: str | None, context=None) -> str:
    """Markdown as a bare HTML page (no masthead or footer); with a dossier's `context`, its
    ClaimReview JSON-LD (`#claim-<id>` URLs) in the head."""
    from ledger.render import render_html

    page = render_html(markdown, title=title, stylesheet=stylesheet)
    return page if context is None else _with_reviews(page, context, "")


def _web_page(env, template: str, variable: str, context, *, title: str,
              stylesheet: str | None, depth: int = 0, nav: bool = False, page_url: str = "",
              reviews: bool = False) -> str:
    """A page as HTML: the template rendered for the web, with the site's masthead and
    navigation (`nav`), the footer, and for a dossier the ClaimReview JSON-LD of each
    assessed allegation, whose `url` is `page_url#claim-<id>`."""
    from ledger.io.claimreview import publisher_name
    from ledger.render import render_html

    markdown = _render(env, template, web=True, page=context, **{variable: context})
    footer = _render(env, FOOTER, web=True, page=context)
    up = "../" * depth
    links = [("Index", f"{up}index.md"), ("People", f"{up}index.md#people"),
             ("Sources", f"{up}index.md#sources")] if nav else []
    page = render_html(markdown, title=title, stylesheet=stylesheet, nav=links,
                       site=publisher_name() if nav else None, footer=footer)
    return _with_reviews(page, context, page_url) if reviews else page


def _with_reviews(page: str, context, page_url: str) -> str:
    """Each assessed allegation's ClaimReview JSON-LD in the page's head (issue 5), its `url`
    `page_url#claim-<id>`."""
    from ledger.io.claimreview import from_allegation, insert_into_head, jsonld_script

    reviews = [from_allegation(a, url=f"{page_url}#claim-{a.id}")
               for a in context.allegations]
    return insert_into_head(page, [jsonld_script(r) for r in reviews if r is not None])


def stylesheet_text(env) -> str:
    """The stylesheet: a user's `style.css` in --templates, else the shipped one."""
    source, _filename, _uptodate = env.loader.get_source(env, STYLESHEET)
    return source


# --- one dossier ---------------------------------------------------------------------------


def as_of_day(value: str | None) -> str | None:
    """Validate --as-of (a partial date) and return its earliest day, YYYY-MM-DD."""
    from ledger.values import PartialDate, partial_date

    checked = partial_date(value, field="as-of")
    return PartialDate(checked).earliest().isoformat() if checked else None


def dossier(session: Session, person: str, *, fmt: str = "md", as_of: str | None = None,
            templates_dir: str | Path | None = None) -> str:
    """One person's dossier as Markdown or a standalone HTML page (no links to other pages)."""
    from ledger import values
    from ledger.store import get_person

    fmt = values.choice(fmt, field="format", allowed=FORMATS)
    day = as_of_day(as_of)
    env = environment(templates_dir)
    row = get_person(session, person)
    overview = reports.load_overview(session)
    batch = reports.load_person_batch(session, first_id=row.id, last_id=row.id, as_of=day)
    context = contexts.build_dossier(person_id=row.id, overview=overview, batch=batch,
                                     graph=contexts.origin_graph(overview), as_of=day)
    if fmt == "md":
        return _render(env, "dossier.md.j2", web=False, page=context, d=context)
    return _web_page(env, "dossier.md.j2", "d", context, title=context.title,
                     stylesheet=None, reviews=True)


# --- the whole ledger ----------------------------------------------------------------------


@contextmanager
def _session_for(target: Session | Engine) -> Iterator[Session]:
    if isinstance(target, Session):
        yield target
        return
    from ledger.db import reading

    with reading(target) as session:
        yield session


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def publish(target: Session | Engine, out_dir: str | Path, *, html: bool = False,
            templates_dir: str | Path | None = None, batch_size: int = BATCH_SIZE,
            base_url: str | None = None, progress: Progress | None = None) -> PublishResult:
    """Publish every dossier, a page per source and the index into `out_dir`.

    See the module docstring for the layout and guarantees. `base_url` (where the folder will
    be served) makes the ClaimReview `url` of each allegation absolute. `progress`, if given,
    is called as `progress(stage, done, total)` after each batch (the library never prints).
    """
    from ledger.values import base_url as checked_base_url

    base = checked_base_url(base_url)
    env = environment(templates_dir)
    output = _Output(Path(out_dir))
    previous = _read_manifest(output)
    result = PublishResult(out_dir=Path(out_dir))
    with _session_for(target) as session:
        overview = reports.load_overview(session)
        graph = contexts.origin_graph(overview)
        live = overview.live_people()
        people_names = _unique_names([(p.id, p.slug) for p in live], prefix="person")
        source_names = _unique_names(
            [(s.id, s.key) for s in sorted(overview.sources.values(), key=lambda s: s.key)],
            prefix="source")
        pages = contexts.Pages(people=people_names, sources=source_names)
        people_refs: dict[int, contexts.PersonRef] = {}

        def emit(relative_stem: str, template: str, variable: str, context, depth: int,
                 reviews: bool = False) -> None:
            output.write(f"{relative_stem}.md", _render(env, template, web=False,
                                                        page=context, **{variable: context}))
            if html:
                url = f"{base}/{relative_stem}.html" if base else ""
                output.write(f"{relative_stem}.html",
                             _web_page(env, template, variable, context, title=context.title,
                                       stylesheet="../" * depth + STYLESHEET, depth=depth,
                                       nav=True, page_url=url, reviews=reviews))

        entries = []
        taken = set(people_names.values())
        for chunk in _chunks([p.id for p in live], batch_size):
            batch = reports.load_person_batch(session, first_id=chunk[0], last_id=chunk[-1])
            for person_id in chunk:
                context = contexts.build_dossier(person_id=person_id, overview=overview,
                                                 batch=batch, graph=graph, pages=pages,
                                                 people_refs=people_refs)
                stem = people_names[person_id]
                if len(context.allegations) > contexts.DOSSIER_PART_SIZE:
                    first, parts = contexts.split_dossier(context, stem=stem, taken=taken)
                    emit(f"people/{stem}", "dossier.md.j2", "d", first, 1)
                    for part_stem, part in parts:
                        emit(f"people/{part_stem}", "dossier.md.j2", "d", part, 1,
                             reviews=True)
                else:
                    emit(f"people/{stem}", "dossier.md.j2", "d", context, 1, reviews=True)
                row = overview.people[person_id]
                entries.append(contexts.index_entry(context, contexts.PersonRef(
                    name=row.name, slug=row.slug,
                    page=f"people/{people_names[person_id]}.md"), row.kind))
                result.people += 1
            if progress:
                progress("dossiers", result.people, len(live))

        counts: dict[int, tuple[int, int]] = {}
        for chunk in _chunks(sorted(overview.sources), batch_size):
            batch = reports.load_source_batch(session, first_id=chunk[0], last_id=chunk[-1])
            for source_id in chunk:
                context = contexts.build_source_page(source_id=source_id, overview=overview,
                                                     batch=batch, graph=graph, pages=pages,
                                                     people_refs=people_refs)
                emit(f"sources/{source_names[source_id]}", "source.md.j2", "s", context, 1)
                counts[source_id] = (len(context.claims), len(context.responses))
                result.sources += 1
            if progress:
                progress("source pages", result.sources, len(overview.sources))

        _emit_index(emit, overview=overview, entries=entries, counts=counts,
                    source_names=source_names)
    if html:
        output.write(STYLESHEET, stylesheet_text(env))
    result.removed = _remove_stale(output, previous)
    result.files, result.written = sorted(output.files), sorted(output.written)
    manifest = json.dumps({"generator": "fact-ledger publish", "files": result.files},
                          indent=1) + "\n"
    write_atomically(output.root / MANIFEST, manifest.encode("utf-8"))
    return result


def _emit_index(emit, *, overview, entries, counts, source_names) -> None:
    """The index, and in a large ledger the pages its lists are split into: people by
    initial (`index/people-a.md`), sources by number (`index/sources-1.md`)."""
    people = [e for e in contexts.sorted_people(entries) if contexts.has_entries(e)]
    sources = contexts.sorted_sources(
        overview=overview, source_counts=counts,
        source_page=lambda sid: f"sources/{source_names[sid]}.md")
    people_groups: dict[str, list] = {}
    if len(people) > INDEX_LIST_LIMIT:
        for entry in people:
            people_groups.setdefault(contexts.index_initial(entry.person.name), []).append(entry)
    source_groups: dict[str, list] = {}
    if len(sources) > INDEX_LIST_LIMIT:
        for start in range(0, len(sources), INDEX_LIST_LIMIT):
            chunk = sources[start:start + INDEX_LIST_LIMIT]
            source_groups[f"{start + 1}-{start + len(chunk)}"] = chunk
    if "other" in people_groups:  # names that start with no letter A-Z: after Z
        people_groups["other"] = people_groups.pop("other")
    people_pages = tuple(contexts.ListPage(label=label, page=f"index/people-{label.lower()}.md",
                                           count=len(group))
                         for label, group in people_groups.items())
    source_pages = tuple(contexts.ListPage(label=f"Sources {label}",
                                           page=f"index/sources-{label}.md", count=len(group))
                         for label, group in source_groups.items())
    index = contexts.build_index(
        overview=overview, entries=entries, source_counts=counts,
        source_page=lambda sid: f"sources/{source_names[sid]}.md",
        people_pages=people_pages, source_pages=source_pages)
    emit("index", "index.md.j2", "i", index, 0)
    for title, list_pages, groups, kind in (
            ("People", people_pages, people_groups, "people"),
            ("Sources", source_pages, source_groups, "sources")):
        siblings = tuple(contexts.ListPage(label=p.label, page="../" + p.page, count=p.count)
                         for p in list_pages)
        for list_page, group in zip(list_pages, groups.values(), strict=True):
            rows = tuple(_relinked(entry, kind) for entry in group)
            listing = contexts.ListingContext(
                title=f"{title}: {list_page.label}", sequence=overview.sequence,
                head_hash=overview.head_hash, anchor=overview.anchor,
                people=rows if kind == "people" else (),
                sources=rows if kind == "sources" else (), pages=siblings,
                index_page="../index.md")
            emit(list_page.page[:-3], "listing.md.j2", "l", listing, 1)


def _relinked(entry, field: str):
    """An index row with its link made relative to a page one folder down (index/...)."""
    from dataclasses import replace

    if field == "people":
        return replace(entry, person=replace(entry.person, page="../" + entry.person.page))
    return replace(entry, source=replace(entry.source, page="../" + entry.source.page))


# --- the example ledger --------------------------------------------------------------------


def demo_clock() -> Callable[[], str]:
    """A clock that always says SOURCE_DATE_EPOCH (UTC), else `DEMO_TIME`."""
    epoch = source_date_epoch()
    moment = DEMO_TIME if epoch is None else epoch.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return lambda: moment


def example_bundle() -> Path:
    """The bundled example ledger (the seed story)."""
    return Path(str(resources.files("ledger.examples").joinpath("story.jsonl")))


def load_example(engine: Engine, *, force: bool = False):
    """Import the example bundle with the demo's fixed clock; refuse a non-empty ledger
    unless `force` (records already in it are then skipped, as any import does)."""
    from ledger.db import reading, transaction
    from ledger.io.bundle import import_records, read_records
    from ledger.store import count_events

    with reading(engine) as session:
        events = count_events(session)
    if events and not force:
        raise Conflict(f"this ledger is not empty ({events} events); `ledger demo` loads the "
                       "example into an empty ledger. Use --db with a new file, or --force "
                       "to add the example to this one")
    records = read_records(example_bundle())
    with transaction(engine, actor="demo", clock=demo_clock()) as session:
        return import_records(session, records)
