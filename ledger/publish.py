"""Publishing: every dossier, a page per source and an index, as Markdown (and HTML).

`publish` writes into one folder:

    index.md                 everyone with counts, sorted by name; every source
    people/<slug>.md         one dossier per person
    sources/<key>.md         everything one source carries (the reviewer's view)
    style.css                with html=True, beside the .html twin of every page
    .ledger-publish.json     the manifest: what this publish wrote

File names are safe ASCII slugs of at most 100 bytes, unique, and always inside the folder.
A publish takes a lock on the folder (a second one into the same folder is refused), builds
the new site in a staging folder beside it and swaps it in at the end, so readers never see
a site mixed from two ledger states, and a publish that fails or is killed changes nothing.
Files get the mode the umask gives a new file (0644 under umask 022). Files the previous
publish wrote (per its manifest) that are no longer produced are removed; everything else in
the folder is kept as it is. There is no clock in the output: the same ledger
gives the same bytes.

The ledger is read in batches of people and of sources (`ledger.store.reports`), so the number
of queries grows with the number of batches, not claims, and memory stays bounded: a batch of
people holds at most `BATCH_CLAIMS` claim rows, and a person with more than `STREAM_CLAIMS` is
read, built and written in claim batches (`ledger.dossier.stream_dossier`). Each process keeps
the claims it has read in a bounded cache (`reports.ClaimCache`, 20,000 claims), so a claim
shown by several batches is read once.

`dossier` renders one person's dossier; `load_example` loads the bundled example ledger with a
fixed clock, for `ledger demo`.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import stat
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path, PurePosixPath

from sqlalchemy.engine import Engine
from sqlmodel import Session

from ledger import dossier as contexts
from ledger import outfiles
from ledger.errors import Conflict, LedgerError, ReadFailed
from ledger.store import reports
from ledger.store.checkpoints import list_checkpoints
from ledger.values import source_date_epoch

MANIFEST = ".ledger-publish.json"
STYLESHEET = "style.css"
MAX_NAME_BYTES = 100
# People (or sources) per batch. A batch reads every claim its people appear in, in any
# role, so a smaller batch bounds memory at a million claims (measured: 500 people read ~15%
# of a synthetic ledger's claims); queries stay a fixed handful per batch, whatever the claims.
BATCH_SIZE = 100
# A person whose dossier reads more claim rows than this (their roles in claims, the claims
# they allege, the responses they gave) is read and built in claim batches, alone
# (`ledger.dossier.stream_dossier`); the others a group of people at a time, at most
# BATCH_CLAIMS claim rows per group. So a batch holds a bounded number of claims, whoever
# holds them: a person with 50,000 claims publishes in well under 500 MB.
STREAM_CLAIMS = 1_000
BATCH_CLAIMS = 5_000
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
# The name the demo's checkpoints give the example ledger.
DEMO_LEDGER_NAME = "fact-ledger example"
# The example desk: who records the story, and who reviews it (a second pair of eyes).
DEMO_FACT_CHECKER = "Alex Checker"
DEMO_REVIEWER = "Robin Editor"

# A new page in the staging folder: never over anything, never through a symlink.
_NEW_FILE_FLAGS = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                   | getattr(os, "O_CLOEXEC", 0))

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
    # Claims left out: not approved by a reviewer (or changed since), and held.
    unapproved: set[int] = field(default_factory=set)
    held: set[int] = field(default_factory=set)

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
    """One publish into one folder: built in a staging folder beside it, then swapped in.

    While it lives it holds the folder's publish lock (a lock file beside the folder, so a
    second publish into the same folder is refused, naming the first). Pages go into the
    staging folder; a page whose bytes did not change is a hard link to the published one.
    `commit` carries over everything in the folder this publish does not manage, writes the
    manifest and swaps the staging folder in (one atomic exchange on Linux), so readers see
    the old site or the new one, never a mix; a publish that fails or is killed before then
    leaves the folder exactly as it was. The next publish removes what a killed one left.
    """

    def __init__(self, out_dir: Path) -> None:
        if out_dir.exists() and not out_dir.is_dir():
            raise PublishFailed(f"--out {str(out_dir)!r} is a file, not a folder")
        self.out_dir = out_dir
        self.root = out_dir.resolve()
        parent, name = self.root.parent, self.root.name
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PublishFailed(f"cannot create --out {str(out_dir)!r}: {exc.strerror}") from None
        self.staging = parent / f".{name}.publish-staging"
        self._old = parent / f".{name}.publish-old"
        self._lock_path = parent / f".{name}.publish-lock"
        self._lock = _take_lock(self._lock_path, out_dir)
        self.files: list[str] = []
        self.written: list[str] = []
        self._folders: dict[str, tuple[str, str]] = {}
        try:
            self._clear_leftovers()
            os.mkdir(self.staging)
            if self.root.is_dir():
                os.chmod(self.staging, stat.S_IMODE(self.root.stat().st_mode))
        except OSError as exc:
            self.close()
            raise PublishFailed(f"cannot write beside --out {str(out_dir)!r}: "
                                f"{exc.strerror}") from None
        self._mode = outfiles.new_file_mode()

    def __enter__(self) -> _Output:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def close(self) -> None:
        """Remove the staging folder (if not swapped in) and release the lock."""
        shutil.rmtree(self.staging, ignore_errors=True)
        if self._lock is not None:
            self._lock_path.unlink(missing_ok=True)  # while still holding it
            os.close(self._lock)
            self._lock = None

    def _clear_leftovers(self) -> None:
        # A publish killed between the two renames of a swap without RENAME_EXCHANGE left
        # the old site aside and no folder: put it back first.
        if self._old.is_dir() and not self.root.exists():
            os.rename(self._old, self.root)
        for folder in (self.staging, self._old):
            if folder.is_symlink() or folder.is_file():
                folder.unlink()
            elif folder.exists():
                shutil.rmtree(folder)

    def _parts(self, relative: str) -> tuple[str, ...]:
        pure = PurePosixPath(relative)
        if pure.is_absolute() or ".." in pure.parts or not pure.parts:
            raise PublishFailed(f"refusing to write outside the folder: {relative!r}")
        for depth in range(1, len(pure.parts) + 1):
            if self.root.joinpath(*pure.parts[:depth]).is_symlink():
                raise PublishFailed(
                    f"refusing to write through the symlink {'/'.join(pure.parts[:depth])!r} "
                    f"in {str(self.out_dir)!r} (it may lead outside the folder); remove it "
                    "and publish again. Nothing was changed")
        return pure.parts

    def path(self, relative: str) -> Path:
        """Where a relative POSIX path is staged; refused if it leaves the folder."""
        return self.staging.joinpath(*self._parts(relative))

    def write(self, relative: str, content: str) -> None:
        """Stage one page. Each folder is checked (inside the folder, no symlink in the
        published one) and made once; a page costs one lstat of its published twin and one
        new file in the staging folder (no temporary file and rename: the staging folder is
        new, and the swap is the atomic step)."""
        data = content.encode("utf-8")
        folder, _, name = relative.rpartition("/")
        if name in ("", ".", ".."):
            raise PublishFailed(f"refusing to write outside the folder: {relative!r}")
        places = self._folders.get(folder)
        if places is None:
            places = self._folders[folder] = self._place(folder)
        staged, live = places[0] + name, places[1] + name
        try:
            info = os.lstat(live)
        except OSError:
            info = None
        if info is not None and stat.S_ISLNK(info.st_mode):
            self._parts(relative)  # raises: a symlink where a page goes
        self.files.append(relative)
        if info is not None and self._unchanged(live, info, data):
            try:
                os.link(live, staged)
                return
            except OSError:
                self._write_new(staged, data)
                return
        self._write_new(staged, data)
        self.written.append(relative)

    def _place(self, folder: str) -> tuple[str, str]:
        """The staging and published paths of a folder (with a trailing separator), after
        checking it as `_parts` does and making it in the staging folder."""
        if folder:
            parts = self._parts(folder + "/x")[:-1]
            staged = self.staging.joinpath(*parts)
            staged.mkdir(parents=True, exist_ok=True)
            return str(staged) + os.sep, str(self.root.joinpath(*parts)) + os.sep
        return str(self.staging) + os.sep, str(self.root) + os.sep

    def _write_new(self, path: str, data: bytes) -> None:
        handle = os.open(path, _NEW_FILE_FLAGS, outfiles.NEW_FILE_MODE)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(handle, view):]
        finally:
            os.close(handle)

    def _unchanged(self, live: str, info: os.stat_result, data: bytes) -> bool:
        if not (stat.S_ISREG(info.st_mode) and info.st_size == len(data)
                and stat.S_IMODE(info.st_mode) == self._mode):
            return False
        try:
            with open(live, "rb") as stream:
                return stream.read() == data
        except OSError:
            return False

    def commit(self, previous: list[str]) -> list[str]:
        """Carry over what this publish does not manage, write the manifest, swap the new site
        in; returns the files of the previous publish that are gone."""
        produced = set(self.files)
        managed = produced | set(previous) | {MANIFEST}
        if self.root.is_dir():
            self._carry_over(self.root, self.staging, "", managed)
        manifest = json.dumps({"generator": "fact-ledger publish", "files": sorted(produced)},
                              indent=1) + "\n"
        outfiles.write_new(self.staging / MANIFEST, manifest.encode("utf-8"))
        removed = sorted(relative for relative in set(previous) - produced
                         if _is_plain_file(self.root, relative))
        self._swap()
        return removed

    def _carry_over(self, source: Path, target: Path, prefix: str, managed: set[str]) -> None:
        """Link (or copy) into the staging folder every entry of the published folder that is
        not managed by publish: the user's own files, folders and symlinks."""
        for entry in os.scandir(source):
            relative = prefix + entry.name
            destination = target / entry.name
            if entry.is_dir(follow_symlinks=False):
                if not destination.exists():
                    os.mkdir(destination)
                    os.chmod(destination, stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode))
                if destination.is_dir() and not destination.is_symlink():
                    self._carry_over(Path(entry.path), destination, relative + "/", managed)
            elif relative in managed and entry.is_file(follow_symlinks=False):
                continue  # produced again, or stale: the manifest said publish wrote it
            elif os.path.lexists(destination):
                continue
            elif entry.is_symlink():
                os.symlink(os.readlink(entry.path), destination)
            elif entry.is_file(follow_symlinks=False):
                try:
                    os.link(entry.path, destination)
                except OSError:
                    shutil.copy2(entry.path, destination)

    def _swap(self) -> None:
        if not self.root.exists():
            os.rename(self.staging, self.root)
        elif _exchange(self.staging, self.root):
            shutil.rmtree(self.staging)  # now the old site
        else:
            os.rename(self.root, self._old)
            os.rename(self.staging, self.root)
            shutil.rmtree(self._old)


def _is_plain_file(root: Path, relative: str) -> bool:
    pure = PurePosixPath(relative)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        return False  # a tampered manifest
    path = root.joinpath(*pure.parts)
    return path.is_file() and not path.is_symlink() and path.resolve().is_relative_to(root)


def _take_lock(path: Path, out_dir: Path) -> int | None:
    """Lock the folder's publish lock file, or say which publish holds it.

    An advisory lock (flock) on a file beside the folder, removed by its holder when done.
    The system releases the lock when its holder exits, even when killed, so a lock file
    left behind never blocks. Where flock does not exist (Windows), there is no lock.
    """
    try:
        import fcntl
    except ImportError:
        return None
    while True:
        try:
            handle = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0),
                             outfiles.NEW_FILE_MODE)
        except OSError as exc:
            raise PublishFailed(f"cannot write beside --out {str(out_dir)!r}: "
                                f"{exc.strerror}") from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _holder(handle)
            os.close(handle)
            raise PublishFailed(f"another publish ({holder}) is writing {str(out_dir)!r}; "
                                "wait for it to finish, then publish again") from None
        try:
            if os.stat(path).st_ino == os.fstat(handle).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(handle)  # its holder removed that file as we locked it: take the new one
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    os.ftruncate(handle, 0)
    os.write(handle, f"pid {os.getpid()}, started {started}".encode())
    return handle


def _holder(handle: int) -> str:
    """Who holds the lock, as its holder wrote it (just after locking: wait a little)."""
    import time

    for _ in range(20):
        written = os.pread(handle, 200, 0).decode("utf-8", "replace").strip()
        if written:
            return written
        time.sleep(0.005)
    return "starting"


def _exchange(first: Path, second: Path) -> bool:
    """Swap two folders in one step (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    done = renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second),
                     rename_exchange)
    if done == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(error, os.strerror(error), str(second))


def write_atomically(path: Path, data: bytes) -> None:
    """Write bytes to a temporary file beside `path`, then rename it into place, with the
    mode the umask gives a new file (see `ledger.outfiles`)."""
    outfiles.write_atomically(path, [data])


def utf8_chunks(text: str, *, size: int = 1 << 20) -> Iterator[bytes]:
    """`text` as UTF-8, `size` characters at a time (a large page is never held twice)."""
    for start in range(0, len(text), size):
        yield text[start:start + size].encode("utf-8")


def _read_manifest(output: _Output) -> list[str]:
    """What the previous publish wrote; a missing or unreadable manifest means nothing."""
    try:
        data = json.loads((output.root / MANIFEST).read_text(encoding="utf-8"))
        files = data["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [f for f in files if isinstance(f, str)] if isinstance(files, list) else []


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


def _render_both(env, name: str, **context) -> tuple[str, str]:
    """`_render` of template `name` with `web` true and with `web` false, in one render where
    the templates allow it (`ledger.render.render_both`)."""
    import jinja2

    from ledger.render import render_both

    try:
        return render_both(env, name, context)
    except jinja2.TemplateError as exc:
        where = f" (line {exc.lineno})" if getattr(exc, "lineno", None) else ""
        raise LedgerError(f"template {name!r}{where}: {exc.message}") from None


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
              reviews: bool = False, markdown: str | None = None,
              footer: str | None = None) -> str:
    """A page as HTML: the template rendered for the web (unless its `markdown` is given),
    with the site's masthead and navigation (`nav`), the footer (rendered here unless its
    web Markdown, `footer`, is given), and for a dossier the ClaimReview JSON-LD of each
    assessed allegation, whose `url` is `page_url#claim-<id>`."""
    from ledger.io.claimreview import publisher_name
    from ledger.render import render_html

    if markdown is None:
        markdown = _render(env, template, web=True, page=context, **{variable: context})
    if footer is None:
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

    # A draft is no one's published assessment: it gets no ClaimReview.
    reviews = [from_allegation(a, url=f"{page_url}#claim-{a.id}")
               for a in context.allegations if not (a.review and a.review.draft)]
    scripts = [jsonld_script(r) for r in reviews if r is not None]
    if getattr(context, "wikidata_url", None) and not context.part:
        scripts.insert(0, jsonld_script(person_jsonld(context)))
    return insert_into_head(page, scripts)


def person_jsonld(context) -> dict:
    """The dossier's person as schema.org JSON-LD, `sameAs` their Wikidata item."""
    return {"@context": "https://schema.org",
            "@type": "Organization" if context.kind == "organization" else "Person",
            "name": context.name, "sameAs": context.wikidata_url}


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
            templates_dir: str | Path | None = None, include_retracted: bool = True,
            drafts: bool = False, left_out: set[int] | None = None) -> str:
    """One person's dossier as Markdown or a standalone HTML page (no links to other pages).

    Its footer names the newest signed checkpoint, unlinked. A retracted claim stays, with
    its retraction notice, unless `include_retracted` is False. Only claims a reviewer
    approved are shown, unless `drafts` (then marked as drafts); a held claim never is. The
    ids of claims left out for want of an approval are added to `left_out`, if given."""
    from ledger import values
    from ledger.store import get_person

    fmt = values.choice(fmt, field="format", allowed=FORMATS)
    day = as_of_day(as_of)
    env = environment(templates_dir)
    row = get_person(session, person)
    batch = reports.load_person_batch(session, first_id=row.id, last_id=row.id, as_of=day,
                                      drafts=drafts)
    overview = reports.load_dossier_overview(session, person_id=row.id, batch=batch)
    if left_out is not None:
        left_out.update(batch.unapproved)
    checkpoints = list_checkpoints(session)
    checkpoint = contexts.checkpoint_ref(
        checkpoints[-1] if checkpoints else None, overview=overview,
        name=_checkpoint_names(checkpoints)[-1] if checkpoints else "", prefix=None)
    context = contexts.build_dossier(person_id=row.id, overview=overview, batch=batch,
                                     graph=contexts.origin_graph(overview), as_of=day,
                                     include_retracted=include_retracted,
                                     checkpoint=checkpoint, drafts=drafts)
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


def _checkpoint_names(records) -> list[str]:
    """File-name stems for checkpoints, oldest first: `checkpoint-<seq>`, `-2` on a repeat."""
    from ledger.shapes import next_free

    taken: set[str] = set()
    names = []
    for record in records:
        name = next_free(f"checkpoint-{record.seq}", taken)
        taken.add(name)
        names.append(name)
    return names


def _write_checkpoints(output: _Output, records) -> list[str]:
    """Every checkpoint into `checkpoints/`, the newest also as `checkpoint.txt` (each with
    its `.sig`); returns the names."""
    names = _checkpoint_names(records)
    for record, name in zip(records, names, strict=True):
        output.write(f"checkpoints/{name}.txt", record.text)
        output.write(f"checkpoints/{name}.txt.sig", record.signature)
    if records:
        output.write("checkpoint.txt", records[-1].text)
        output.write("checkpoint.txt.sig", records[-1].signature)
    return names


def publish(target: Session | Engine, out_dir: str | Path, *, html: bool = False,
            templates_dir: str | Path | None = None, batch_size: int = BATCH_SIZE,
            base_url: str | None = None, progress: Progress | None = None,
            include_retracted: bool = True, jobs: int | None = None,
            verify: bool = False, drafts: bool = False) -> PublishResult:
    """Publish every dossier, a page per source and the index into `out_dir`.

    See the module docstring for the layout and guarantees. `base_url` (where the folder will
    be served) makes the ClaimReview `url` of each allegation absolute. Every signed
    checkpoint goes into `checkpoints/`, the newest also to `checkpoint.txt`, and every
    page's footer names the newest. `progress`, if given, is called as
    `progress(stage, done, total)` after each batch (the library never prints). A retracted
    claim stays on its dossiers, with its retraction notice, unless `include_retracted` is
    False. `jobs` worker processes render the batches (default: one per core; see
    `worker_count`); the bytes are the same whatever the number. `verify` checks the ledger
    in full (`require_verified`) alongside the rendering, from the same state of the ledger;
    if it fails, nothing is published (the staging folder is never swapped in). Only claims
    a reviewer approved (and unchanged since) are published, unless `drafts` (every page then
    says it is a draft, and so does each unapproved allegation); a held claim never is. The
    result names the claims left out (`unapproved`, `held`).
    """
    from ledger.values import base_url as checked_base_url

    base = checked_base_url(base_url)
    workers = worker_count(jobs)
    env = environment(templates_dir)
    # One publish renders with one set of templates: Jinja need not stat a template's file
    # each time a page includes it (an allegation's `_updates.md.j2`, 20,000 times on a
    # 10k-claim site), as the dual environment already does not.
    env.auto_reload = False
    with _Output(Path(out_dir)) as output:
        return _publish_into(output, target, out_dir, env, html=html, batch_size=batch_size,
                             base=base, progress=progress,
                             include_retracted=include_retracted, jobs=workers, verify=verify,
                             drafts=drafts, fragments=_shipped_fragments(templates_dir),
                             footers=None if _overrides(templates_dir, FOOTER_TEMPLATES)
                             else {})


# The templates a `{% once %}` fragment of the shipped dossier reads: with any of them
# overridden, a fragment could read the page (`d`), so none is reused.
FRAGMENT_TEMPLATES = ("dossier.md.j2", "_updates.md.j2")
# The templates of the footer: with either overridden, each page renders its own.
FOOTER_TEMPLATES = (FOOTER, "_checkpoint.md.j2")


def _overrides(templates_dir: str | Path | None, names: tuple[str, ...]) -> bool:
    return templates_dir is not None and any((Path(templates_dir) / name).exists()
                                             for name in names)


def _shipped_fragments(templates_dir: str | Path | None):
    """A fresh `ledger.render.Fragments` for one publish, or None when `templates_dir`
    overrides a template the shipped dossier's fragments are made from."""
    from ledger.render import Fragments

    return None if _overrides(templates_dir, FRAGMENT_TEMPLATES) else Fragments()


def worker_count(jobs: int | None) -> int:
    """`jobs` checked (a whole number from 1), or the number of cores this process may use."""
    if jobs is None:
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # not on Linux
            return max(1, os.cpu_count() or 1)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        from ledger.errors import InvalidValue

        raise InvalidValue(f"--jobs must be a whole number from 1, not {jobs!r}")
    return jobs


@dataclass
class _Site:
    """What every batch of a publish shares: read once, before any page is rendered."""

    env: object
    html: bool
    base: str | None
    include_retracted: bool
    drafts: bool
    overview: reports.Overview
    graph: object
    pages: contexts.Pages
    people_names: dict[int, str]
    source_names: dict[int, str]
    footer: dict[str, object]
    # Each claim's reference, built once and shared by the pages that mention it (a worker
    # process fills its own copy).
    claim_refs: contexts.ClaimRefs = field(default_factory=contexts.ClaimRefs)
    # Each claim's rows, read once and shared by the batches that show it (bounded; a
    # worker process fills its own): `reports.ClaimCache`.
    claim_rows: reports.ClaimCache = field(default_factory=reports.ClaimCache)
    # Each allegation's text, rendered once and shown by every dossier of its people
    # (`ledger.render.Fragments`); None when an override could make it read the page.
    fragments: object | None = None
    # Each allegation's context, built once for the dossiers of its people; None under the
    # same condition as `fragments` (`ledger.dossier.Allegations`).
    allegations: contexts.Allegations | None = None
    # The HTML pages' footers by what the shipped footer reads (`_web_footer`); None when
    # `FOOTER_TEMPLATES` are overridden.
    footers: dict | None = None


@dataclass
class _Done:
    """What rendering one batch gave: for people the index entries, for sources the counts;
    and, from a worker process, the files it staged."""

    entries: list = field(default_factory=list)
    counts: dict[int, tuple[int, int]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    unapproved: set[int] = field(default_factory=set)
    held: set[int] = field(default_factory=set)


def _emit(site: _Site, output: _Output, relative_stem: str, template: str, variable: str,
          context, depth: int, reviews: bool = False) -> None:
    """One page as Markdown (and as HTML: both from one render where the templates allow)."""
    shared = {variable: context, "ledger_fragments": site.fragments}
    if not site.html:
        output.write(f"{relative_stem}.md", _render(site.env, template, web=False,
                                                    page=context, **shared))
        return
    web, markdown = _render_both(site.env, template, page=context, **shared)
    output.write(f"{relative_stem}.md", markdown)
    url = f"{site.base}/{relative_stem}.html" if site.base else ""
    output.write(f"{relative_stem}.html",
                 _web_page(site.env, template, variable, context, title=context.title,
                           stylesheet="../" * depth + STYLESHEET, depth=depth, nav=True,
                           page_url=url, reviews=reviews, markdown=web,
                           footer=_web_footer(site, context)))


_UNSET = object()


def _web_footer(site: _Site, context) -> str | None:
    """The HTML page's footer as web Markdown, rendered once per publish for each checkpoint
    line (there is one per folder depth): the shipped `_footer.md.j2` reads only the page's
    anchor, sequence and checkpoint when `web` is true. None (render it for the page) when
    the footer's templates are overridden."""
    if site.footers is None:
        return None
    key = tuple(getattr(context, name, _UNSET) for name in ("anchor", "sequence", "checkpoint"))
    footer = site.footers.get(key)
    if footer is None:
        footer = site.footers[key] = _render(site.env, FOOTER, web=True, page=context)
    return footer


def _render_batch(site: _Site, output: _Output, session: Session, kind: str,
                  chunk: list, people_refs: dict) -> _Done:
    """Every page of one batch of people (dossiers) or of sources (source pages); for
    "pages", the pages `chunk` gives in full (the index's); or, for "verify", the ledger
    verified in full (raises if it does not verify)."""
    done = _Done()
    if kind == "pages":  # pages made in full by the parent: `_emit`'s arguments
        for page in chunk:
            _emit(site, output, *page)
        return done
    if kind == "verify":
        from ledger.store.replay import require_verified

        require_verified(session, doing="publish")
        return done
    overview = site.overview
    if kind == "people":
        taken = set(site.people_names.values())
        sizes = reports.person_claim_counts(session, first_id=chunk[0], last_id=chunk[-1])
        for group in _person_groups(chunk, sizes):
            if sizes.get(group[0], 0) > STREAM_CLAIMS:
                _emit_streamed(site, output, session, group[0], taken, people_refs, done)
                continue
            batch = reports.load_person_batch_cached(session, first_id=group[0],
                                                     last_id=group[-1], cache=site.claim_rows)
            done.unapproved |= batch.unapproved
            done.held |= batch.held
            for person_id in group:
                context = contexts.build_dossier(person_id=person_id, overview=overview,
                                                 batch=batch, graph=site.graph,
                                                 pages=site.pages, people_refs=people_refs,
                                                 include_retracted=site.include_retracted,
                                                 checkpoint=site.footer["../"],
                                                 drafts=site.drafts, claim_refs=site.claim_refs,
                                                 allegations=site.allegations)
                stem = site.people_names[person_id]
                part_size = contexts.DOSSIER_PART_SIZE
                if len(context.allegations) > part_size:
                    first, parts = contexts.split_dossier(context, stem=stem, taken=taken,
                                                          part_size=part_size)
                    for part_stem, part in parts:
                        _emit(site, output, f"people/{part_stem}", "dossier.md.j2", "d", part,
                              1, reviews=True)
                    _emit(site, output, f"people/{stem}", "dossier.md.j2", "d", first, 1)
                    context = first
                else:
                    _emit(site, output, f"people/{stem}", "dossier.md.j2", "d", context, 1,
                          reviews=True)
                done.entries.append(_index_entry(site, person_id, context))
        return done
    batch = reports.load_source_batch_cached(session, first_id=chunk[0], last_id=chunk[-1],
                                             cache=site.claim_rows)
    for source_id in chunk:
        context = contexts.build_source_page(source_id=source_id, overview=overview,
                                             batch=batch, graph=site.graph, pages=site.pages,
                                             people_refs=people_refs,
                                             checkpoint=site.footer["../"],
                                             drafts=site.drafts, claim_refs=site.claim_refs)
        _emit(site, output, f"sources/{site.source_names[source_id]}", "source.md.j2", "s",
              context, 1)
        done.counts[source_id] = (len(context.claims), len(context.responses))
    return done


def _person_groups(chunk: list[int], sizes: dict[int, int]) -> Iterator[list[int]]:
    """A batch of people cut into the groups read together: consecutive people holding at
    most `BATCH_CLAIMS` claim rows in all, and alone each person holding more than
    `STREAM_CLAIMS` (read in claim batches)."""
    group: list[int] = []
    held = 0
    for person_id in chunk:
        size = sizes.get(person_id, 0)
        if group and (size > STREAM_CLAIMS or held + size > BATCH_CLAIMS):
            yield group
            group, held = [], 0
        if size > STREAM_CLAIMS:
            yield [person_id]
            continue
        group.append(person_id)
        held += size
    if group:
        yield group


def _emit_streamed(site: _Site, output: _Output, session: Session, person_id: int,
                   taken: set[str], people_refs: dict, done: _Done) -> None:
    """One person's dossier read, built and written in claim batches
    (`contexts.stream_dossier`): memory held to a batch, whatever their number of claims."""
    claims = reports.load_person_claims(session, person_id=person_id, drafts=site.drafts)
    done.unapproved |= claims.unapproved
    done.held |= claims.held
    statements: list[reports.Batch] = []

    def load_statements() -> reports.Batch:
        statements.append(reports.load_person_statements(session, person_id=person_id,
                                                         drafts=site.drafts))
        return statements[-1]

    stem = site.people_names[person_id]
    pages = contexts.stream_dossier(
        person_id=person_id, overview=site.overview, claims=claims,
        load=lambda ids: reports.load_claim_batch(session, claim_ids=ids, drafts=site.drafts),
        load_sources=lambda ids: reports.load_claim_sources(session, claim_ids=ids),
        load_statements=load_statements, graph=site.graph, stem=stem, taken=taken,
        pages=site.pages, people_refs=people_refs, include_retracted=site.include_retracted,
        checkpoint=site.footer["../"], drafts=site.drafts,
        part_size=contexts.DOSSIER_PART_SIZE, claim_batch=contexts.CLAIM_BATCH_SIZE)
    for page_stem, context in pages:
        # Only a split dossier's first page has no ClaimReview JSON-LD: it shows no
        # allegation in full.
        _emit(site, output, f"people/{page_stem}", "dossier.md.j2", "d", context, 1,
              reviews=not context.parts or bool(context.part))
    done.unapproved |= statements[0].unapproved
    done.held |= statements[0].held
    done.entries.append(_index_entry(site, person_id, context))


def _index_entry(site: _Site, person_id: int, context) -> contexts.IndexEntry:
    row = site.overview.people[person_id]
    return contexts.index_entry(context, contexts.PersonRef(
        name=row.name, slug=row.slug, page=f"people/{site.people_names[person_id]}.md"),
        row.kind)


def _publish_into(output: _Output, target: Session | Engine, out_dir: str | Path, env, *,
                  html: bool, batch_size: int, base: str | None, progress: Progress | None,
                  include_retracted: bool, jobs: int = 1, verify: bool = False,
                  drafts: bool = False, fragments=None,
                  footers: dict | None = None) -> PublishResult:
    """The body of `publish`: every page into `output`, then the manifest and the swap."""
    previous = _read_manifest(output)
    result = PublishResult(out_dir=Path(out_dir))
    with ExitStack() as reads:
        session = reads.enter_context(_session_for(target))
        overview = reports.load_overview(session)
        live = overview.live_people()
        people_names = _unique_names([(p.id, p.slug) for p in live], prefix="person")
        source_names = _unique_names(
            [(s.id, s.key) for s in sorted(overview.sources.values(), key=lambda s: s.key)],
            prefix="source")
        checkpoints = list_checkpoints(session)
        names = _write_checkpoints(output, checkpoints)
        newest = checkpoints[-1] if checkpoints else None
        footer = {prefix: contexts.checkpoint_ref(newest, overview=overview,
                                                  name=names[-1] if names else "",
                                                  prefix=prefix) for prefix in ("", "../")}
        site = _Site(env=env, html=html, base=base, include_retracted=include_retracted,
                     drafts=drafts,
                     overview=overview, graph=contexts.origin_graph(overview),
                     pages=contexts.Pages(people=people_names, sources=source_names),
                     people_names=people_names, source_names=source_names, footer=footer,
                     claim_rows=reports.ClaimCache(drafts=drafts), fragments=fragments,
                     allegations=contexts.Allegations() if fragments is not None else None,
                     footers=footers)
        # Verify first: the longest task, it runs while the workers render.
        tasks: list[tuple[str, list[int]]] = [("verify", [])] if verify else []
        tasks += [("people", chunk) for chunk in _chunks([p.id for p in live], batch_size)]
        tasks += [("sources", chunk) for chunk in _chunks(sorted(overview.sources), batch_size)]
        entries: list = []
        counts: dict[int, tuple[int, int]] = {}
        engine = target if isinstance(target, Engine) else None
        with _renderers(site, output, session, jobs, len(tasks), engine,
                        release=reads.close) as render:
            for (kind, chunk), done in zip(tasks, render(tasks), strict=True):
                output.files += done.files
                output.written += done.written
                entries += done.entries
                counts.update(done.counts)
                result.unapproved |= done.unapproved
                result.held |= done.held
                if kind == "people":
                    result.people += len(chunk)
                    if progress:
                        progress("dossiers", result.people, len(live))
                elif kind == "sources":
                    result.sources += len(chunk)
                    if progress:
                        progress("source pages", result.sources, len(overview.sources))
            # The index needs every batch's entries and counts; its pages are then rendered
            # by the same workers, a page a task (on LIAR 39 pages, a tenth of an HTML
            # publish when the parent rendered them alone).
            pages = _index_pages(overview=overview, entries=entries, counts=counts,
                                 source_names=source_names, footer=footer, drafts=drafts)
            for done in render([("pages", [page]) for page in pages]):
                output.files += done.files
                output.written += done.written
    if html:
        output.write(STYLESHEET, stylesheet_text(env))
    result.removed = output.commit(previous)
    result.files, result.written = sorted(output.files), sorted(output.written)
    return result


# --- worker processes ----------------------------------------------------------------------

# A worker's share of the publish, set in the parent just before the pool forks it.
_WORKER: dict = {}


@contextmanager
def _renderers(site: _Site, output: _Output, session: Session, jobs: int, tasks: int,
               engine: Engine | None, release: Callable[[], None]
               ) -> Iterator[Callable[[list], Iterator[_Done]]]:
    """`render(tasks)`, rendering every task and giving back each one's `_Done` in task
    order: here, or in up to `jobs` forked worker processes (no more than the `tasks` of the
    first call); it may be called again, by the same workers, until the block ends.

    Workers inherit everything read so far (fork); each opens its own read transaction on
    `engine` (None: the caller passed its own session, whose transaction workers cannot
    share, so everything is rendered here), refuses to go on if the ledger's head moved since
    the parent read it (so every page is from one state of the ledger), stages its pages in
    the same staging folder and sends back which files it wrote. Results come back in task
    order, so the index and the manifest are the same whatever the number of workers.

    A worker that dies (killed, out of memory) fails the publish at once: `concurrent.futures`
    watches every worker's process, where `multiprocessing.Pool` forks a
    replacement and waits forever for the lost batch (and restarts a worker whose start fails
    without end). That was the hang seen on PostgreSQL, where opening a connection is what can
    fail. A worker's own errors, its start's included, come back as the error of its batch.

    Before it forks, the parent ends its read (`release`) and closes its pooled connections,
    so no open database connection crosses the fork: SQLite's locks are per process and its
    lock bookkeeping is process memory a child would inherit (SQLite's "How To Corrupt An
    SQLite Database File", 2.6), and a libpq socket is shared by both sides. The parent reads
    nothing after that; the workers' head check keeps every page from the state it read.
    """
    workers = min(jobs, tasks)
    if workers > 1 and (engine is None or not hasattr(os, "fork") or not _reopenable(engine)):
        workers = 1
    if workers <= 1:
        people_refs: dict = {}

        def here(tasks: list) -> Iterator[_Done]:
            for kind, chunk in tasks:
                yield _render_batch(site, output, session, kind, chunk, people_refs)

        yield here
        return
    import gc
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    release()
    engine.dispose()  # the parent's own pooled connections, closed here in the parent
    _WORKER.update(site=site, output=output, engine=engine, parent=os.getpid())
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_start_worker)

    def pooled(tasks: list) -> Iterator[_Done]:
        # Frozen, what the workers inherit is never collected there: no finalizer of the
        # parent's objects (a connection among them) runs in a worker. The workers are
        # forked by the first call's first submission.
        gc.freeze()
        try:
            results = pool.map(_work, tasks)
        finally:
            gc.unfreeze()
        try:
            yield from results
        except BrokenProcessPool:
            raise PublishFailed(
                "a publish worker process ended before its pages were done (killed, or out "
                "of memory); nothing was published: publish again, or with --jobs 1") from None

    try:
        yield pooled
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for key in ("site", "output", "engine", "parent"):
            _WORKER.pop(key, None)


def _reopenable(engine) -> bool:
    """True when forked workers can open the same database: PostgreSQL, or a SQLite file
    (not an in-memory database)."""
    url = getattr(engine, "url", None)
    if url is None:
        return False
    return url.get_backend_name() != "sqlite" or url.database not in (None, "", ":memory:")


def _start_worker() -> None:
    """A worker's start: its own connections and read transaction. Never raises (a failed
    start would break the pool with a traceback on stderr): the first task raises instead."""
    from contextlib import ExitStack

    from ledger.db import reading
    from ledger.store.events import head

    _end_with_parent()
    engine = _WORKER["engine"]
    # The parent closed its pooled connections before forking (`_batches`); any it still
    # holds checked out elsewhere are dropped here, never closed, so no byte goes down a
    # socket the parent still uses (SQLAlchemy's "Using Connection Pools with
    # Multiprocessing or os.fork()").
    engine.dispose(close=False)
    _WORKER["output"]._lock = None  # the parent holds the lock; a worker never releases it
    stack = ExitStack()
    _WORKER.update(stack=stack, people_refs={}, failed=None)
    try:
        session = stack.enter_context(reading(engine))
        overview = _WORKER["site"].overview
        moved = head(session) != (overview.sequence, overview.head_hash)
    except Exception as exc:  # handed to the first task, which raises it
        _WORKER["failed"] = exc
        return
    _WORKER.update(session=session, moved=moved)


def _end_with_parent() -> None:
    """Have the system end this worker if the publish's process dies (Linux), so no worker
    is left holding a connection."""
    import signal
    import sys

    if sys.platform.startswith("linux"):
        import ctypes
        from contextlib import suppress

        with suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != _WORKER["parent"]:
        os._exit(1)  # the parent died before that took effect


def _work(task: tuple[str, list[int]]) -> _Done:
    if _WORKER["failed"] is not None:
        raise _WORKER["failed"]
    if _WORKER["moved"]:
        raise PublishFailed("the ledger changed while publishing (its head moved); nothing "
                            "was published: publish again")
    output: _Output = _WORKER["output"]
    output.files, output.written = [], []
    done = _render_batch(_WORKER["site"], output, _WORKER["session"], *task,
                         people_refs=_WORKER["people_refs"])
    done.files, done.written = output.files, output.written
    return done


def _index_pages(*, overview, entries, counts, source_names, footer,
                 drafts: bool = False) -> list[tuple]:
    """The index, and in a large ledger the pages its lists are split into: people by
    initial (`index/people-a.md`), sources by number (`index/sources-1.md`); each as the
    arguments of `_emit` after the site and output (stem, template, variable, context,
    depth), the index first."""
    everyone = contexts.sorted_people(entries)
    people = [e for e in everyone if contexts.has_entries(e)]
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
        people_pages=people_pages, source_pages=source_pages, checkpoint=footer[""],
        drafts=drafts, sources=sources, people=everyone)
    pages: list[tuple] = [("index", "index.md.j2", "i", index, 0)]
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
                index_page="../index.md", checkpoint=footer["../"], drafts=drafts)
            pages.append((list_page.page[:-3], "listing.md.j2", "l", listing, 1))
    return pages


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


def example_reviews() -> Path:
    """The example's reviews: the reviewer's approvals and a legal hold."""
    return Path(str(resources.files("ledger.examples").joinpath("reviews.jsonl")))


def example_corrections() -> Path:
    """The example's corrections: values first recorded wrongly, then corrected."""
    return Path(str(resources.files("ledger.examples").joinpath("corrections.jsonl")))


def load_example(engine: Engine, *, force: bool = False):
    """Import the example bundle with the demo's fixed clock; refuse a non-empty ledger
    unless `force` (records already in it are then skipped, as any import does).

    Into an empty ledger the example is recorded as the story developed: each value in
    `corrections.jsonl` is first recorded as it was first read (the CBC report's date from its
    header), then corrected by an edit, so the dossiers show real updates and the ledger ends
    in the bundle's state. Then a reviewer, another actor than the fact-checker who
    recorded it, approves most claims, holds one and leaves one unreviewed
    (`reviews.jsonl`), and the head is signed with the demo key. A non-empty ledger (`force`)
    gets the bundle as it is, unreviewed and unsigned.
    """
    from ledger.db import reading, transaction, utc_now
    from ledger.io.bundle import import_records, read_records
    from ledger.store import count_events
    from ledger.store.checkpoints import add_checkpoint

    with reading(engine) as session:
        events = count_events(session)
    if events and not force:
        raise Conflict(f"this ledger is not empty ({events} events); `ledger demo` loads the "
                       "example into an empty ledger. Use --db with a new file, or --force "
                       "to add the example to this one")
    records = read_records(example_bundle())
    corrections = [] if events else [json.loads(line) for line in example_corrections()
                                     .read_text(encoding="utf-8").splitlines() if line.strip()]
    for correction in corrections:
        record = _corrected_record(records, correction)
        record[correction["field"]] = correction["first_recorded"]
    # The fixed clock only for a new ledger: events after a real ledger's own must not go
    # back in time (verify checks that times never decrease).
    clock = utc_now if events else demo_clock()
    with transaction(engine, actor=DEMO_FACT_CHECKER, clock=clock) as session:
        result = import_records(session, records)
        for correction in corrections:
            _apply_correction(session, correction)
    if events:
        return result
    with transaction(engine, actor=DEMO_REVIEWER, clock=clock) as session:
        for line in example_reviews().read_text(encoding="utf-8").splitlines():
            if line.strip():
                _apply_review(session, json.loads(line))
        # Never sign someone's own ledger with the demo key: only a new one gets here.
        add_checkpoint(session, private_key=demo_key(), name=DEMO_LEDGER_NAME)
    return result


def _apply_review(session: Session, review: dict) -> None:
    from ledger import store
    from ledger.store import reviews

    claim = store.get_claim(session, review["claim"])
    if review["action"] == "approve":
        reviews.approve_claim(session, claim=claim, note=review.get("note"))
    elif review["action"] == "hold":
        reviews.hold_claim(session, claim=claim, reason=review["reason"])
    else:
        raise LedgerError(f"the example's review action {review['action']!r} is unknown")


def demo_key():
    """The example's signing key. A DEMO key, committed to the repository so the demo is
    reproducible: anyone can sign with it, so its signatures prove nothing. Never use it for
    a real ledger (`ledger key generate` makes yours)."""
    from ledger.checkpoint import load_private_key

    data = resources.files("ledger.examples").joinpath("demo-key").read_bytes()
    return load_private_key(data, where="the demo key")


def _corrected_record(records: list[tuple[str, dict]], correction: dict) -> dict:
    kind = correction["type"]
    for _where, record in records:
        if record.get("type") == kind and (
                record.get("key") == correction.get("key") if kind == "source"
                else record.get("uid") == correction.get("uid")):
            if record.get(correction["field"]) != correction["corrected"]:
                raise LedgerError(f"the example's correction of {kind} {correction['field']} "
                                  "does not end in the bundle's value")
            return record
    raise LedgerError(f"the example's correction names a {kind} the bundle lacks")


def _apply_correction(session: Session, correction: dict) -> None:
    from ledger import store

    change = {correction["field"]: correction["corrected"]}
    if correction["type"] == "source":
        store.edit_source(session, store.get_source(session, correction["key"]), **change)
    else:
        store.edit_claim(session, store.get_claim(session, correction["uid"]), **change)
