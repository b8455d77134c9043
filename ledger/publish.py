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
    import jinja2

    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateError as exc:
        where = f" (line {exc.lineno})" if getattr(exc, "lineno", None) else ""
        raise LedgerError(f"template {name!r}{where}: {exc.message}") from None


def _html(markdown: str, *, title: str, stylesheet: str | None, context=None) -> str:
    from ledger.render import render_html

    page = render_html(markdown, title=title, stylesheet=stylesheet)
    if context is None:
        return page
    # Each assessed allegation's ClaimReview JSON-LD goes into the page's head (issue 5).
    from ledger.io.claimreview import from_allegation, insert_into_head, jsonld_script

    reviews = [from_allegation(a, url=f"#claim-{a.id}") for a in context.allegations]
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
    markdown = _render(env, "dossier.md.j2", d=context)
    return markdown if fmt == "md" else _html(markdown, title=context.title, stylesheet=None,
                                              context=context)


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
            progress: Callable[[str], None] | None = None) -> PublishResult:
    """Publish every dossier, a page per source and the index into `out_dir`.

    See the module docstring for the layout and guarantees. `progress`, if given, is called
    with a short message after each batch (the library never prints).
    """
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

        def emit(relative_stem: str, markdown: str, title: str, depth: int,
                 context=None) -> None:
            output.write(f"{relative_stem}.md", markdown)
            if html:
                sheet = "../" * depth + STYLESHEET
                output.write(f"{relative_stem}.html",
                             _html(markdown, title=title, stylesheet=sheet, context=context))

        entries = []
        for chunk in _chunks([p.id for p in live], batch_size):
            batch = reports.load_person_batch(session, first_id=chunk[0], last_id=chunk[-1])
            for person_id in chunk:
                context = contexts.build_dossier(person_id=person_id, overview=overview,
                                                 batch=batch, graph=graph, pages=pages,
                                                 people_refs=people_refs)
                emit(f"people/{people_names[person_id]}",
                     _render(env, "dossier.md.j2", d=context), context.title, 1, context)
                row = overview.people[person_id]
                entries.append(contexts.index_entry(context, contexts.PersonRef(
                    name=row.name, slug=row.slug,
                    page=f"people/{people_names[person_id]}.md"), row.kind))
                result.people += 1
            if progress:
                progress(f"{result.people} dossiers")

        counts: dict[int, tuple[int, int]] = {}
        for chunk in _chunks(sorted(overview.sources), batch_size):
            batch = reports.load_source_batch(session, first_id=chunk[0], last_id=chunk[-1])
            for source_id in chunk:
                context = contexts.build_source_page(source_id=source_id, overview=overview,
                                                     batch=batch, graph=graph, pages=pages,
                                                     people_refs=people_refs)
                emit(f"sources/{source_names[source_id]}",
                     _render(env, "source.md.j2", s=context), context.title, 1)
                counts[source_id] = (len(context.claims), len(context.responses))
                result.sources += 1
            if progress:
                progress(f"{result.sources} source pages")

        index = contexts.build_index(
            overview=overview, entries=entries, source_counts=counts,
            source_page=lambda sid: f"sources/{source_names[sid]}.md")
        emit("index", _render(env, "index.md.j2", i=index), index.title, 0)
    if html:
        output.write(STYLESHEET, stylesheet_text(env))
    result.removed = _remove_stale(output, previous)
    result.files, result.written = sorted(output.files), sorted(output.written)
    manifest = json.dumps({"generator": "fact-ledger publish", "files": result.files},
                          indent=1) + "\n"
    write_atomically(output.root / MANIFEST, manifest.encode("utf-8"))
    return result


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
