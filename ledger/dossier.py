"""Template contexts for dossiers, source pages and the index, each built by one function.

Templates never query: each gets one typed object, documented here field by field, built from
rows the store read in batches (`ledger.store.reports`).

- `build_dossier` -> `DossierContext` (template `dossier.md.j2`, variable `d`): one person.
- `build_source_page` -> `SourcePageContext` (`source.md.j2`, variable `s`): the reviewer's
  view of one source.
- `IndexContext` (`index.md.j2`, variable `i`): everyone with counts, and every source.

Every text field is untrusted and reaches Markdown only through the `md` filters, or through
the same functions (`ledger.render.md_inline`, `md_link`) in the `*md` properties: the
Markdown of a person link, a citation, a source line, a piece of evidence, a response and a
claim reference, made once per object instead of by a Jinja macro per use (macro calls were
most of the time a publish took). The shipped templates print those properties; the macros in
`_macros.md.j2` return them too, and a restyled template may still build its own from the
plain fields. Links
between pages (`page` fields) are made here from safe file names, or None when the dossier is
rendered alone (`ledger dossier`), where no other page exists.

Dates are partial (`2021`, `2021-02`, `2021-02-14`) and print as written. Reply status words
compare against a reference day: `--as-of` when given, else the day of the ledger's newest
event (never the clock, so the same ledger gives the same bytes). A deadline has passed when
its last day is before the reference day.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass, replace
from functools import cached_property
from itertools import pairwise
from typing import Any

from ledger.origins import OriginGraph, describe_origins
from ledger.render import md_inline, md_link
from ledger.replies import reply_status
from ledger.store.claims import MINOR_EDIT
from ledger.store.reports import (
    AttributionRow,
    Batch,
    ClaimEventRow,
    ClaimRow,
    Overview,
    PersonClaims,
    ReplyRow,
    ResponseRow,
    SourceRow,
)

KIND_LABELS = {
    "denial": "Denial",
    "partial-denial": "Partial denial",
    "confirmation": "Confirmation",
    "no-comment": "No comment",
    "no-response": "No response",
    "official-response": "Official response",
    "action": "Action",
}
SOURCING_LABELS = {
    "named": "named",
    "anonymous": "anonymous",
    "document": "document",
    "official-record": "official record",
}
QUOTE_CHECK_LABELS = {
    "verified": "found in the stored text",
    "not-found": "NOT found in the stored text",
    "unverifiable": "not checked: no stored text",
    "no-quote": "no quote recorded",
}
# A published dossier with more allegations than this is split: a first page with the summary
# and the statements, and part pages of this many allegations each, so no page is huge.
DOSSIER_PART_SIZE = 100
# A dossier with more allegations than this gets a compact summary (a list with per-status
# counts) instead of one huge table.
SUMMARY_TABLE_LIMIT = 50
# The source fields a correction is shown for, with their names in words.
SOURCE_FIELD_LABELS = {
    "title": "title",
    "publisher": "publisher",
    "author": "author",
    "url": "URL",
    "published": "publication date",
    "kind": "kind",
    "language": "language",
}
ROLE_LABELS = {"subject": "about", "target": "target", "mentioned": "mentioned"}


# --- the context objects -------------------------------------------------------------------


@dataclass(frozen=True)
class PersonRef:
    """A person named in a page: `page` links to their dossier (None: not linked)."""

    name: str
    slug: str
    page: str | None

    @cached_property
    def md(self) -> str:
        """Markdown: the name, linked to `page` when there is one."""
        name = md_inline(self.name)
        return f"[{name}](<{self.page}>)" if self.page else name


@dataclass(frozen=True)
class SourceRef:
    """A source as a page cites it.

    `number` is its footnote number in the dossier (0 outside dossiers); `id` labels its
    footnote (`[^id]`, so its HTML anchor `source-<id>` is the same on every page); `page`
    links to the source's own page (None: not linked); `url` is as typed, linked only if
    http(s)/mailto. Reader text names it by publisher (else title), never by its key.
    """

    number: int
    id: int
    key: str
    title: str
    publisher: str | None
    author: str | None
    published: str | None
    url: str | None
    kind: str
    page: str | None

    @cached_property
    def name_md(self) -> str:
        """Markdown: the publisher (else the title), linked to `page` when there is one."""
        name = md_inline(self.publisher or self.title)
        return f"[{name}](<{self.page}>)" if self.page else name

    @cached_property
    def cite_md(self) -> str:
        """Markdown: `name_md` with the footnote mark `[^id]` (none outside dossiers)."""
        return f"{self.name_md}[^{self.id}]" if self.number else self.name_md

    @cached_property
    def line_md(self) -> str:
        """Markdown: the source in one line: title, publisher, author, date, link, page."""
        parts = [f"“{md_inline(self.title)}”"]
        if self.publisher:
            parts.append(f", {md_inline(self.publisher)}")
        if self.author:
            parts.append(f", by {md_inline(self.author)}")
        parts.append(f", {md_inline(self.published or 'undated')}.")
        if self.url:
            parts.append(f" {md_link(self.url, self.url)}")
        if self.page:
            parts.append(f" [What it carries](<{self.page}>).")
        return "".join(parts)


@dataclass(frozen=True)
class Evidence:
    """One attribution: a source carries the claim, with the exact quote and the voice.

    `anonymous` is true for sourcing "anonymous"; `sourcing_label` is the sourcing in words;
    `quote_status` is the verifier's result (verified, not-found, unverifiable, no-quote),
    `quote_check` says it in words.
    """

    source: SourceRef
    quote: str | None
    voice: str | None
    sourcing: str
    sourcing_label: str
    anonymous: bool
    quote_status: str
    quote_check: str

    @cached_property
    def md(self) -> str:
        """Markdown: the voice, the citation and the quote; a quote that is not in the stored
        text says so. The sourcing and the quote checks of an allegation are summed up once
        (`Allegation.sourcing_text`), not after every quote."""
        parts = ["**Anonymous voice:** " if self.anonymous else "",
                 md_inline(self.voice or "voice not recorded"), ", in ", self.source.cite_md]
        if self.quote:
            parts.append(f": “{md_inline(self.quote)}”")
        if self.quote_status == "not-found":
            # Words, not markup: the page's structure never depends on what a check found.
            parts.append(f" (quote {md_inline(self.quote_check)})")
        return "".join(parts)


@dataclass(frozen=True)
class ResponseView:
    """An answer to a claim: who, what kind (`kind_label` in words), when, where, the quote.
    `id` gives its HTML anchor, `response-<id>`."""

    id: int
    respondent: PersonRef
    kind: str
    kind_label: str
    date: str | None
    source: SourceRef | None
    quote: str | None
    summary: str | None

    @cached_property
    def md(self) -> str:
        """Markdown: the kind, who, when, the citation, the quote and the summary."""
        return f"**{md_inline(self.kind_label)}**{self.md_after_kind}"

    @cached_property
    def md_after_kind(self) -> str:
        """Markdown: `md` without the kind (for a template that marks the kind up itself)."""
        parts = [f" by {self.respondent.md}, ", md_inline(self.date or "undated")]
        if self.source:
            parts.append(f", in {self.source.cite_md}")
        if self.quote:
            parts.append(f": “{md_inline(self.quote)}”")
        if self.summary:
            parts.append(f" (summary: {md_inline(self.summary)})")
        return "".join(parts)


@dataclass(frozen=True)
class ReplyView:
    """A right-of-reply request and what came of it; `status` says it in words
    ("asked on 2023-03-20, no response by the 2023-03-22 deadline")."""

    addressee: PersonRef
    sent: str
    deadline: str | None
    channel: str | None
    answered: bool
    answered_on: str | None
    overdue: bool
    status: str


@dataclass(frozen=True)
class CheckpointRef:
    """The signed checkpoint a page was built under (the newest when it was built).

    `sequence`, `head_hash`, `time` and `ledger` are what it signs; `key` is the signing key's
    fingerprint (`SHA256:...`, as `ssh-keygen -l` prints it); `name` its file name and `page`
    the link to it (None: not published beside the page); `covers` is False when the page was
    built from more events than the checkpoint signs.
    """

    sequence: int
    head_hash: str
    time: str
    ledger: str
    key: str
    name: str
    page: str | None
    covers: bool


@dataclass(frozen=True)
class UpdateView:
    """One dated change to an allegation after it was first recorded.

    `day` is the UTC day of the event (YYYY-MM-DD) and `sequence` its sequence number in the
    log; `kind` is one of status, edit, retraction, response, reply, source; `md` says what
    changed, in Markdown (old and new values for edits).
    """

    day: str
    sequence: int
    kind: str
    md: str


@dataclass(frozen=True)
class ClaimRef:
    """A claim mentioned outside its own section: statement, status and whom it is about."""

    id: int
    statement: str
    status: str
    subjects: tuple[PersonRef, ...]

    @cached_property
    def md(self) -> str:
        """Markdown: the quoted statement, its id (linked to its place in its first subject's
        dossier when published), whom it is about and its status."""
        about = (", about " + ", ".join(p.md for p in self.subjects)) if self.subjects else ""
        page = self.subjects[0].page if self.subjects else None
        label = f"claim {self.id}"
        if page:
            label = f"[{label}](<{page}#claim-{self.id}>)"
        return (f"“{md_inline(self.statement)}” ({label}{about}; "
                f"status {md_inline(self.status)})")


class ClaimRefs:
    """The claims' references of one publish, each built once and shared by every page that
    mentions the claim (its Markdown too). A ClaimRef depends only on the claim, its subjects
    and the publish's pages, never on the page showing it. Bounded: once `limit` refs are held
    the cache starts again, so memory stays flat however many claims the ledger has."""

    def __init__(self, limit: int = 65_536) -> None:
        self.limit = limit
        self._refs: dict[int, ClaimRef] = {}

    def get(self, claim_id: int) -> ClaimRef | None:
        return self._refs.get(claim_id)

    def put(self, ref: ClaimRef) -> None:
        if len(self._refs) >= self.limit:
            self._refs.clear()
        self._refs[ref.id] = ref

    def __len__(self) -> int:
        return len(self._refs)


class Allegations:
    """The allegations of one publish, each built once and shown by the dossier of each of
    its people: all but `roles` (the page's person's) is the same on every page, the sources'
    footnote numbers aside. A page numbers its own footnotes (`_Builder.number_sources`) and
    lists its own (`DossierContext.sources`, which a split dossier's parts are sorted by);
    the shipped templates never print an allegation's numbers, so a publish shares
    allegations only while its dossier templates are the shipped ones. Bounded like
    `ClaimRefs`."""

    def __init__(self, limit: int = 16_384) -> None:
        self.limit = limit
        self.hits = 0
        self._shown: dict[int, Allegation] = {}

    def get(self, claim_id: int) -> Allegation | None:
        found = self._shown.get(claim_id)
        if found is not None:
            self.hits += 1
        return found

    def put(self, allegation: Allegation) -> None:
        if len(self._shown) >= self.limit:
            self._shown.clear()
        self._shown[allegation.id] = allegation

    def __len__(self) -> int:
        return len(self._shown)


@dataclass(frozen=True)
class ReviewView:
    """Who reviewed an allegation and when, or that it is a draft (not approved; shown only
    on a `--drafts` build). `draft_label` says why it is a draft."""

    reviewer: str | None
    day: str | None
    draft: bool
    draft_label: str = ""

    @cached_property
    def md(self) -> str:
        """"Reviewed by … on …." or "**Draft:** not yet reviewed." as Markdown."""
        if self.draft:
            return f"**Draft:** {md_inline(self.draft_label)}."
        reviewer, day = md_inline(self.reviewer or "unknown"), md_inline(self.day or "")
        return f"Reviewed by {reviewer} on {day}."


def review_view(info: Any) -> ReviewView:
    """The review line of an allegation, from where it stands (ledger.store.reviews).
    Allegations that stand alike share one (frozen) view, and so its Markdown."""
    if info is not None and info.approved:
        return _shared_review_view(info.reviewer, (info.reviewed_at or "")[:10] or None, False,
                                   "")
    if info is not None and info.stale:
        label = f"changed since it was approved on {(info.reviewed_at or '')[:10]}; not " \
                "yet reviewed again"
    elif info is not None and info.decision == "rejected":
        label = "rejected by a reviewer"
    else:
        label = "not yet reviewed"
    return _shared_review_view(None, None, True, label)


@functools.lru_cache(maxsize=4096)
def _shared_review_view(reviewer: str | None, day: str | None, draft: bool,
                        label: str) -> ReviewView:
    return ReviewView(reviewer=reviewer, day=day, draft=draft, draft_label=label)


@dataclass(frozen=True)
class Allegation:
    """One claim in a dossier, with everything a reader needs to weigh it.

    `roles` are this person's roles in it (subject, target, mentioned). `origins` are the
    independent origins its sources trace back to through source links, `origins_text` says
    so in words ("3 sources, all tracing back to one origin"). `first_reported` is the
    earliest publication date among its sources. `response_status` sums up the answers in a
    few words for the summary table. `anonymous_only` is true when every source's voice is
    anonymous. `page` is the page that shows it in full when that is not the page listing it
    (a split dossier's part, `han-dong.2.md`), else "".
    """

    id: int
    statement: str
    status: str
    retracted: bool
    retraction_reason: str | None
    occurred: str | None
    claimant: PersonRef | None
    roles: tuple[str, ...]
    subjects: tuple[PersonRef, ...]
    targets: tuple[PersonRef, ...]
    mentioned: tuple[PersonRef, ...]
    evidence: tuple[Evidence, ...]
    source_count: int
    origins: tuple[SourceRef, ...]
    origins_text: str
    first_reported: str | None
    anonymous_only: bool
    responses: tuple[ResponseView, ...]
    replies: tuple[ReplyView, ...]
    response_status: str
    page: str = ""
    updates: tuple[UpdateView, ...] = ()
    review: ReviewView | None = None

    @cached_property
    def sourcing_text(self) -> str:
        """The sourcing and quote checks of every source, once: "4 anonymous; quotes: 3 found
        in the stored text, 1 not checked (no stored text)"."""
        if not self.evidence:
            return "no source recorded"
        sourcing = _counted(e.sourcing_label for e in self.evidence)
        quotes = _counted(_QUOTE_SUMMARY[e.quote_status] for e in self.evidence
                          if e.quote_status in _QUOTE_SUMMARY)
        return f"{sourcing}; quotes: {quotes}" if quotes else sourcing


def _counted(labels: Iterable[str]) -> str:
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    return ", ".join(f"{n} {label}" for label, n in counts.items())


_QUOTE_SUMMARY = {
    "verified": "found in the stored text",
    "not-found": "NOT found in the stored text",
    "unverifiable": "not checked (no stored text)",
}


@dataclass(frozen=True)
class Statement:
    """Something this person said about a claim that is not one of their allegations."""

    claim: ClaimRef
    response: ResponseView


@dataclass(frozen=True)
class DossierContext:
    """Everything `dossier.md.j2` shows about one person.

    Front matter: `title`, `slug`, `anchor` (`SEQ:HASH` of the newest event, which
    `ledger verify --anchor` checks), `sequence`, `head_hash`, `as_of`. `reference_day` is the
    day reply deadlines are judged against. `against`: allegations where the person is a
    subject; `concerning`: where they are a target or mentioned. `statements`: their responses
    to other claims; `alleges`: claims they make. `sources`: every source the page cites, in
    footnote order. `stylesheet` is set for HTML pages.

    A dossier of more than `DOSSIER_PART_SIZE` allegations is published split
    (`split_dossier`): its first page has the summary (`listed`, each allegation with the
    `page` that shows it), the statements and links to the `parts`; each part page (`part`
    1, 2, ...) shows some allegations in full and links back to `main_page`.
    """

    title: str
    slug: str
    name: str
    kind: str
    description: str | None
    aliases: tuple[str, ...]
    sequence: int
    head_hash: str
    anchor: str
    as_of: str | None
    reference_day: str | None
    against: tuple[Allegation, ...]
    concerning: tuple[Allegation, ...]
    statements: tuple[Statement, ...]
    alleges: tuple[ClaimRef, ...]
    sources: tuple[SourceRef, ...]
    index_page: str | None
    part: int = 0
    parts: tuple[ListPage, ...] = ()
    listed: tuple[Allegation, ...] = ()
    main_page: str | None = None
    checkpoint: CheckpointRef | None = None
    # A --drafts build: every page says so, in its front matter and at its top.
    drafts: bool = False
    # The person's Wikidata item (`Q…`), and its page.
    wikidata: str | None = None

    @property
    def wikidata_url(self) -> str | None:
        """https://www.wikidata.org/wiki/Q…, the person's `sameAs` in the JSON-LD."""
        return f"https://www.wikidata.org/wiki/{self.wikidata}" if self.wikidata else None

    @property
    def allegations(self) -> tuple[Allegation, ...]:
        """Against, then concerning: the allegations this page shows in full."""
        return self.against + self.concerning

    @property
    def summary_rows(self) -> tuple[Allegation, ...]:
        """The rows of the summary: every allegation (on a split dossier's first page, with
        the part page that shows it), none on a part page."""
        if self.part:
            return ()
        return self.listed or self.allegations

    @property
    def compact_summary(self) -> bool:
        """More than `SUMMARY_TABLE_LIMIT` allegations: the summary is a list, not a table."""
        return len(self.summary_rows) > SUMMARY_TABLE_LIMIT

    @property
    def status_counts(self) -> tuple[tuple[str, int], ...]:
        """(status, number of allegations), most frequent first, then by name."""
        counts: dict[str, int] = {}
        for allegation in self.summary_rows:
            counts[allegation.status] = counts.get(allegation.status, 0) + 1
        return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


@dataclass(frozen=True)
class SourceLinkView:
    """A link between sources: `relation` (cites, republishes, translates) and the other one."""

    relation: str
    source: SourceRef


@dataclass(frozen=True)
class SourceClaim:
    """A claim a source carries, with the attribution: quote, voice, sourcing, verification.
    `anchor` is the HTML id `claim-<id>` on the claim's first attribution in the page."""

    claim: ClaimRef
    evidence: Evidence
    anchor: str | None = None


@dataclass(frozen=True)
class SourcePageContext:
    """Everything one source carries: the reviewer's view (`source.md.j2`).

    `relies_on` / `relied_on_by`: its links both ways. `origins_text`: what it traces back to.
    `claims`: each attribution in it; `responses`: answers published in it, with their claim.
    `has_text`: a text snapshot is stored (`text_sha256`, `retrieved`).
    """

    title: str
    source: SourceRef
    language: str | None
    has_text: bool
    text_sha256: str | None
    retrieved: str | None
    relies_on: tuple[SourceLinkView, ...]
    relied_on_by: tuple[SourceLinkView, ...]
    origins: tuple[SourceRef, ...]
    origins_text: str
    claims: tuple[SourceClaim, ...]
    responses: tuple[Statement, ...]
    sequence: int
    head_hash: str
    anchor: str
    index_page: str | None
    checkpoint: CheckpointRef | None = None
    # A --drafts build: every page says so, in its front matter and at its top.
    drafts: bool = False


@dataclass(frozen=True)
class IndexEntry:
    """One person in the index, with the counts of their dossier's sections."""

    person: PersonRef
    kind: str
    against: int
    concerning: int
    statements: int
    alleges: int


@dataclass(frozen=True)
class SourceIndexEntry:
    """One source in the index, with how many claims and responses it carries."""

    source: SourceRef
    claims: int
    responses: int


@dataclass(frozen=True)
class ListPage:
    """One page of a split list: its label ("A", "sources 1-500"), link and number of rows."""

    label: str
    page: str
    count: int


@dataclass(frozen=True)
class IndexContext:
    """The index page (`index.md.j2`): people sorted by name, and sources by title.

    Only people with something recorded against, about or by them are listed (`unlisted` is
    how many are left out). In a large ledger the lists are split: `people` and `sources` are
    then empty and `people_pages` (by initial) and `source_pages` (by number) link to the
    pages (`listing.md.j2`) that hold them.
    """

    title: str
    sequence: int
    head_hash: str
    anchor: str
    people: tuple[IndexEntry, ...]
    sources: tuple[SourceIndexEntry, ...]
    unlisted: int = 0
    people_count: int = 0
    source_count: int = 0
    people_pages: tuple[ListPage, ...] = ()
    source_pages: tuple[ListPage, ...] = ()
    checkpoint: CheckpointRef | None = None
    # A --drafts build: every page says so, in its front matter and at its top.
    drafts: bool = False


@dataclass(frozen=True)
class ListingContext:
    """One page of a split index (`listing.md.j2`): some people or some sources, with links
    to the other pages of the same list (`pages`) and to the index (`index_page`)."""

    title: str
    sequence: int
    head_hash: str
    anchor: str
    people: tuple[IndexEntry, ...]
    sources: tuple[SourceIndexEntry, ...]
    pages: tuple[ListPage, ...]
    index_page: str
    checkpoint: CheckpointRef | None = None
    # A --drafts build: every page says so, in its front matter and at its top.
    drafts: bool = False


# --- building ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pages:
    """Where pages live, for links: file names by person id and source id, or none."""

    people: dict[int, str]
    sources: dict[int, str]
    prefix: str = "../"

    def person(self, person_id: int) -> str | None:
        name = self.people.get(person_id)
        return f"{self.prefix}people/{name}.md" if name else None

    def source(self, source_id: int) -> str | None:
        name = self.sources.get(source_id)
        return f"{self.prefix}sources/{name}.md" if name else None


NO_PAGES = Pages(people={}, sources={})


def _earliest(value: str) -> tuple[int, int, int]:
    parts = [int(p) for p in value.split("-")] + [1, 1]
    return parts[0], parts[1], parts[2]


def reference_day(overview: Overview, as_of: str | None) -> str | None:
    """The day reply deadlines are judged against: `as_of`, else the newest event's day."""
    if as_of:
        return as_of
    return overview.head_at[:10] if overview.head_at else None


class _Builder:
    """Shared lookups for one batch; `source_ref` numbers footnotes per page."""

    def __init__(self, overview: Overview, batch: Batch, graph: OriginGraph, pages: Pages,
                 reference: str | None, people_refs: dict[int, PersonRef] | None,
                 as_of: str | None = None, claim_refs: ClaimRefs | None = None,
                 allegations: Allegations | None = None) -> None:
        self.overview, self.batch, self.graph, self.pages = overview, batch, graph, pages
        self.reference, self.as_of = reference, as_of
        self.people_refs = {} if people_refs is None else people_refs
        self.claim_refs = claim_refs
        self.allegations = allegations
        self._numbers: dict[int, SourceRef] = {}
        self.use(batch)

    def use(self, batch: Batch) -> None:
        """Build from `batch` from now on, keeping the footnote numbers and people so far
        (a dossier read in claim batches)."""
        self.batch = batch
        # Groups: a claim without rows of a kind reads as none.
        self.roles = batch.roles_by_claim
        self.attributions = batch.attributions_by_claim
        self.responses = batch.responses_by_claim
        self.replies = batch.replies_by_claim

    # people and sources

    def person(self, person_id: int) -> PersonRef:
        ref = self.people_refs.get(person_id)
        if ref is None:
            row = self.overview.people[person_id]
            ref = PersonRef(name=row.name, slug=row.slug, page=self.pages.person(person_id))
            self.people_refs[person_id] = ref
        return ref

    def source_ref(self, source_id: int, *, numbered: bool = True) -> SourceRef:
        if numbered and source_id in self._numbers:
            return self._numbers[source_id]
        row: SourceRow = self.overview.sources[source_id]
        ref = SourceRef(number=len(self._numbers) + 1 if numbered else 0, id=source_id,
                        key=row.key,
                        title=row.title, publisher=row.publisher, author=row.author,
                        published=row.published, url=row.url, kind=row.kind,
                        page=self.pages.source(source_id))
        if numbered:
            self._numbers[source_id] = ref
        return ref

    def cited_sources(self) -> tuple[SourceRef, ...]:
        return tuple(sorted(self._numbers.values(), key=lambda ref: ref.number))

    def number_sources(self, claim_id: int) -> tuple[list[int], list[int]]:
        """Number the footnotes of the sources an allegation cites, in the order it first
        cites them: its attributions' sources, its independent origins, its responses'
        sources (its updates cite only its attributions' sources). Returns the sources and
        the origins. One definition of the order, so a dossier read in claim batches can
        number its footnotes in claim order before it builds its allegations in page order.
        """
        source_ids = list(dict.fromkeys(row.source_id for row in self.attributions[claim_id]))
        origin_ids = sorted(self.graph.independent_origins(source_ids),
                            key=lambda sid: self.overview.sources[sid].key)
        for source_id in source_ids + origin_ids:
            self.source_ref(source_id)
        for row in sorted(self.responses[claim_id], key=_response_order):
            if row.source_id is not None:
                self.source_ref(row.source_id)
        return source_ids, origin_ids

    def reset_numbers(self) -> None:
        self._numbers = {}

    # pieces

    def claim_ref(self, claim: ClaimRow) -> ClaimRef:
        if self.claim_refs is not None:
            ref = self.claim_refs.get(claim.id)
            if ref is not None:
                return ref
        subjects = tuple(self.person(r.person_id) for r in self.roles[claim.id]
                         if r.role == "subject")
        ref = ClaimRef(id=claim.id, statement=claim.statement, status=claim.status,
                       subjects=subjects)
        if self.claim_refs is not None:
            self.claim_refs.put(ref)
        return ref

    def evidence(self, row: AttributionRow, *, numbered: bool = True) -> Evidence:
        return Evidence(source=self.source_ref(row.source_id, numbered=numbered),
                        quote=row.quote, voice=row.voice, sourcing=row.sourcing,
                        sourcing_label=SOURCING_LABELS.get(row.sourcing, row.sourcing),
                        anonymous=row.sourcing == "anonymous", quote_status=row.quote_status,
                        quote_check=QUOTE_CHECK_LABELS.get(row.quote_status, row.quote_status))

    def response(self, row: ResponseRow, *, numbered: bool = True) -> ResponseView:
        source = (self.source_ref(row.source_id, numbered=numbered)
                  if row.source_id is not None else None)
        return ResponseView(id=row.id, respondent=self.person(row.respondent_id), kind=row.kind,
                            kind_label=KIND_LABELS.get(row.kind, row.kind), date=row.date,
                            source=source, quote=row.quote, summary=row.summary)

    def reply(self, row: ReplyRow) -> ReplyView:
        status = reply_status(sent=row.sent, deadline=row.deadline, today=self.reference,
                              responses=[(r.kind, r.date) for r in self.responses[row.claim_id]
                                         if r.respondent_id == row.addressee_id])
        answered_on = status.answered_on
        asked = f"asked on {row.sent}" + (f" ({row.channel})" if row.channel else "")
        if status.answered:
            if answered_on is None:
                text = f"{asked}, answered (the answer is not dated)"
            elif status.late:
                text = f"{asked}, answered on {answered_on}, after the {row.deadline} deadline"
            else:
                text = f"{asked}, answered on {answered_on}"
        elif status.overdue:
            text = f"{asked}, no response by the {row.deadline} deadline"
        elif row.deadline:
            text = f"{asked}, deadline {row.deadline}, no response yet"
        else:
            text = f"{asked}, no response recorded"
        return ReplyView(addressee=self.person(row.addressee_id), sent=row.sent,
                         deadline=row.deadline, channel=row.channel, answered=status.answered,
                         answered_on=answered_on, overdue=status.overdue, status=text)

    def allegation(self, claim: ClaimRow, roles: tuple[str, ...]) -> Allegation:
        source_ids, origin_ids = self.number_sources(claim.id)
        if self.allegations is not None:
            shared = self.allegations.get(claim.id)
            if shared is not None:
                return replace(shared, roles=roles)
            built = self._allegation(claim, roles, source_ids, origin_ids)
            self.allegations.put(built)
            return built
        return self._allegation(claim, roles, source_ids, origin_ids)

    def _allegation(self, claim: ClaimRow, roles: tuple[str, ...], source_ids: list[int],
                    origin_ids: list[int]) -> Allegation:
        by_role: dict[str, list] = defaultdict(list)
        for row in self.roles[claim.id]:
            by_role[row.role].append(self.person(row.person_id))
        evidence = tuple(self.evidence(row) for row in self.attributions[claim.id])
        origins = tuple(self.source_ref(sid) for sid in origin_ids)
        sources = self.overview.sources
        first_reported = min((day for day in (sources[sid].published for sid in source_ids)
                              if day), key=_earliest, default=None)
        responses = tuple(self.response(row) for row in
                          sorted(self.responses[claim.id], key=_response_order))
        replies = tuple(self.reply(row) for row in self.replies[claim.id])
        return Allegation(
            id=claim.id, statement=claim.statement, status=claim.status,
            retracted=claim.status == "retracted", retraction_reason=claim.retraction_reason,
            occurred=claim.occurred,
            claimant=self.person(claim.claimant_id) if claim.claimant_id else None,
            roles=roles, subjects=tuple(by_role["subject"]), targets=tuple(by_role["target"]),
            mentioned=tuple(by_role["mentioned"]), evidence=evidence,
            source_count=len(source_ids), origins=origins,
            origins_text=describe_origins(len(origin_ids), len(source_ids)),
            first_reported=first_reported,
            anonymous_only=bool(evidence) and all(e.anonymous for e in evidence),
            responses=responses, replies=replies,
            response_status=_response_status(responses, replies),
            updates=self.updates(claim, source_ids),
            review=review_view(self.batch.reviews.get(claim.id)))

    # updates: what changed after the claim was first recorded

    def updates(self, claim: ClaimRow, source_ids: list[int]) -> tuple[UpdateView, ...]:
        """The claim's later events (minor edits left out), the responses and reply requests
        recorded on a later UTC day than the claim, and corrections of its sources made after
        it was recorded; up to `as_of` when given, in sequence order."""
        events = self.batch.claim_events_by_claim.get(claim.id, [])
        if not events:
            return ()
        first = events[0]
        found: list[UpdateView] = []
        previous = json.loads(first.state) if len(events) > 1 else {}
        for event in events[1:]:
            state = json.loads(event.state)
            if event.action != MINOR_EDIT:
                found.extend(self._claim_update(event, previous, state))
            previous = state
        first_day = first.at[:10]
        responses = {row.id: row for row in self.responses[claim.id]}
        replies = {row.id: row for row in self.replies[claim.id]}
        for addition in self.batch.additions_by_claim.get(claim.id, ()):
            if addition.at[:10] <= first_day:
                continue  # recorded with the claim: part of the first report, not an update
            if addition.kind == "response" and addition.record_id in responses:
                view = self.response(responses[addition.record_id])
                text = (f"Response recorded: {md_inline(view.kind_label)} by "
                        f"{view.respondent.md}, {md_inline(view.date or 'undated')}.")
            elif addition.kind == "reply" and addition.record_id in replies:
                row = replies[addition.record_id]
                text = (f"Reply requested from {self.person(row.addressee_id).md}, sent "
                        f"{md_inline(row.sent)}"
                        + (f", deadline {md_inline(row.deadline)}." if row.deadline else "."))
            else:
                continue  # not shown under --as-of
            found.append(UpdateView(day=addition.at[:10], sequence=addition.seq,
                                    kind=addition.kind, md=text))
        for source_id in source_ids:
            found.extend(self._source_updates(source_id, after=first.seq))
        if self.as_of is not None:
            found = [u for u in found if u.day <= self.as_of]
        return tuple(sorted(found, key=lambda u: u.sequence))

    def _claim_update(self, event: ClaimEventRow, before: dict[str, Any],
                      after: dict[str, Any]) -> list[UpdateView]:
        day, seq = event.at[:10], event.seq
        if after.get("status") == "retracted" and before.get("status") != "retracted":
            reason = after.get("retraction_reason")
            text = "Retracted." + (f" Reason: {md_inline(reason)}" if reason else "")
            return [UpdateView(day=day, sequence=seq, kind="retraction", md=text)]
        parts: list[str] = []
        kind = "edit"
        if before.get("status") != after.get("status"):
            kind = "status"
            parts.append(f"Status changed: {md_inline(str(before.get('status')))} → "
                         f"{md_inline(str(after.get('status')))}.")
        if before.get("statement") != after.get("statement"):
            parts.append(f"Statement edited. Before: “{md_inline(before.get('statement') or '')}”"
                         f" Now: “{md_inline(after.get('statement') or '')}”")
        if before.get("occurred") != after.get("occurred"):
            parts.append(f"When it allegedly happened: {self._value(before.get('occurred'))} → "
                         f"{self._value(after.get('occurred'))}.")
        if before.get("claimant") != after.get("claimant"):
            parts.append(f"Alleged by: {self._person_by_uid(before.get('claimant'))} → "
                         f"{self._person_by_uid(after.get('claimant'))}.")
        old = [tuple(p) for p in before.get("people") or []]
        new = [tuple(p) for p in after.get("people") or []]
        added = [p for p in new if p not in old]
        removed = [p for p in old if p not in new]
        if added or removed:
            words = []
            if added:
                words.append("added " + ", ".join(self._role_md(p) for p in added))
            if removed:
                words.append("removed " + ", ".join(self._role_md(p) for p in removed))
            parts.append(f"People concerned: {'; '.join(words)}.")
        if len(parts) > 1:
            kind = "edit"
        return [UpdateView(day=day, sequence=seq, kind=kind, md=" ".join(parts))] if parts else []

    def _source_updates(self, source_id: int, *, after: int) -> list[UpdateView]:
        events = self.overview.source_events_by_source.get(source_id, [])
        found = []
        for before, event in pairwise(events):
            if event.seq <= after:
                continue
            old, new = json.loads(before.state), json.loads(event.state)
            changes = [f"{label} {self._value(old.get(name))} → {self._value(new.get(name))}"
                       for name, label in SOURCE_FIELD_LABELS.items()
                       if old.get(name) != new.get(name)]
            if old.get("text_sha256") != new.get("text_sha256"):
                changes.append("stored text replaced by a new capture")
            if changes:
                found.append(UpdateView(
                    day=event.at[:10], sequence=event.seq, kind="source",
                    md=f"Source {self.source_ref(source_id).cite_md} corrected: "
                       f"{'; '.join(changes)}."))
        return found

    @staticmethod
    def _value(value: object) -> str:
        return md_inline(str(value)) if value not in (None, "") else "not recorded"

    def _person_by_uid(self, uid: str | None) -> str:
        if uid is None:
            return "not recorded"
        person_id = self.overview.person_ids.get(uid)
        return self.person(person_id).md if person_id is not None else md_inline(uid)

    def _role_md(self, pair: tuple) -> str:
        role, uid = pair[0], pair[1]
        return f"{self._person_by_uid(uid)} ({md_inline(ROLE_LABELS.get(role, role))})"


def _response_order(row: ResponseRow) -> tuple:
    # Dated answers first, by date; undated after, in the order recorded.
    return (row.date is None, _earliest(row.date) if row.date else (0, 0, 0), row.id)


def _response_status(responses: tuple[ResponseView, ...], replies: tuple[ReplyView, ...]) -> str:
    if responses:
        kinds = list(dict.fromkeys(r.kind_label.lower() for r in responses))
        return ", ".join(kinds)
    if any(r.overdue for r in replies):
        return "no response by the deadline"
    if replies:
        return "asked, no response yet"
    return "none recorded"


def build_dossier(*, person_id: int, overview: Overview, batch: Batch, graph: OriginGraph,
                  pages: Pages = NO_PAGES, as_of: str | None = None,
                  people_refs: dict[int, PersonRef] | None = None,
                  include_retracted: bool = True,
                  checkpoint: CheckpointRef | None = None,
                  drafts: bool = False,
                  claim_refs: ClaimRefs | None = None,
                  allegations: Allegations | None = None) -> DossierContext:
    """The context of one person's dossier, from the batch that holds their claims.

    Under `as_of`, a claim none of whose sources had been published by then is left out, and
    so are the answers to it; each allegation's updates stop at that day. `people_refs`, a
    dict the caller keeps for one publish (same overview, same pages), lets every page share
    each person's reference and its Markdown; `claim_refs` (`ClaimRefs`) the same for the
    claims a page mentions (never under `as_of`), and `allegations` (`Allegations`) the
    allegations, for a publish with the shipped templates. A retracted claim stays, with its
    retraction notice, unless `include_retracted` is False.
    """
    builder = _Builder(overview, batch, graph, pages, reference_day(overview, as_of),
                       people_refs, as_of=as_of, claim_refs=claim_refs,
                       allegations=allegations)
    mine: dict[int, list[str]] = defaultdict(list)
    for row in batch.roles_by_person.get(person_id, ()):
        mine[row.claim_id].append(row.role)

    def known(claim_id: int) -> bool:
        return as_of is None or bool(builder.attributions[claim_id])

    against, concerning = [], []
    for claim_id in sorted(mine):
        if claim_id not in batch.claims or not known(claim_id):
            continue
        if not include_retracted and batch.claims[claim_id].status == "retracted":
            continue
        roles = tuple(dict.fromkeys(mine[claim_id]))
        allegation = builder.allegation(batch.claims[claim_id], roles)
        (against if "subject" in roles else concerning).append(allegation)
    statements, alleges = _said(builder, batch, person_id, mine=mine, known=known)
    return _dossier_context(builder, person_id, against=tuple(against),
                            concerning=tuple(concerning), statements=statements,
                            alleges=alleges, sources=builder.cited_sources(),
                            checkpoint=checkpoint, drafts=drafts)


def _said(builder: _Builder, batch: Batch, person_id: int, *, mine: Container[int],
          known: Callable[[int], bool]) -> tuple[tuple[Statement, ...], tuple[ClaimRef, ...]]:
    """What the person said: their responses to claims not in `mine` (the claims they have a
    role in), and the claims they allege."""
    statements = []
    for row in sorted((r for r in batch.responses_by_respondent.get(person_id, ())
                       if r.claim_id not in mine),
                      key=lambda r: (r.claim_id, *_response_order(r))):
        if row.claim_id in batch.claims and known(row.claim_id):
            statements.append(Statement(claim=builder.claim_ref(batch.claims[row.claim_id]),
                                        response=builder.response(row)))
    alleges = tuple(builder.claim_ref(claim)
                    for claim in batch.claims_by_claimant.get(person_id, ()) if known(claim.id))
    return tuple(statements), alleges


def _dossier_context(builder: _Builder, person_id: int, *, against: tuple[Allegation, ...],
                     concerning: tuple[Allegation, ...], statements: tuple[Statement, ...],
                     alleges: tuple[ClaimRef, ...], sources: tuple[SourceRef, ...],
                     checkpoint: CheckpointRef | None, drafts: bool) -> DossierContext:
    overview, pages = builder.overview, builder.pages
    person = overview.people[person_id]
    return DossierContext(
        title=f"Dossier: {person.name}", slug=person.slug, name=person.name, kind=person.kind,
        description=person.description, aliases=tuple(overview.aliases.get(person_id, ())),
        sequence=overview.sequence, head_hash=overview.head_hash, anchor=overview.anchor,
        as_of=builder.as_of, reference_day=builder.reference, against=against,
        concerning=concerning, statements=statements, alleges=alleges, sources=sources,
        index_page=f"{pages.prefix}index.md" if pages is not NO_PAGES else None,
        checkpoint=checkpoint, drafts=drafts, wikidata=person.wikidata)


#: Claims read and built at a time by `stream_dossier`.
CLAIM_BATCH_SIZE = 1_000


def stream_dossier(*, person_id: int, overview: Overview, claims: PersonClaims,
                   load: Callable[[list[int]], Batch],
                   load_sources: Callable[[list[int]], Batch],
                   load_statements: Callable[[], Batch], graph: OriginGraph, stem: str,
                   taken: set[str], pages: Pages = NO_PAGES,
                   people_refs: dict[int, PersonRef] | None = None,
                   include_retracted: bool = True, checkpoint: CheckpointRef | None = None,
                   drafts: bool = False, part_size: int = DOSSIER_PART_SIZE,
                   claim_batch: int = CLAIM_BATCH_SIZE
                   ) -> Iterator[tuple[str, DossierContext]]:
    """One person's published dossier, read and built `claim_batch` claims at a time, so a
    person with tens of thousands of claims holds one batch in memory (and the first page's
    one line per allegation), not every allegation at once.

    Yields (file stem, context) for each page, the same pages `build_dossier` gives for the
    whole batch: one page for at most `part_size` allegations; else the part pages `stem.2`,
    `stem.3` ... (a name in `taken`, another page's, gets `-part` added), each as soon as
    it is built, then the first page, with the summary (`listed`) and the statements. The
    listed allegations on the first page carry what the summary shows (statement, status,
    roles, dates, origins in words, response status, review, the `page` that shows it), not
    their evidence, responses, replies or updates: those are on the parts.

    `claims` is the page index (`ledger.store.reports.load_person_claims`); `load(ids)` reads
    claims in full, `load_sources(ids)` only their attributions and responses (to number the
    footnotes in claim order first, as `build_dossier` does) and `load_statements()` what
    the person alleges and answered outside their own claims.
    """
    builder = _Builder(overview, Batch(), graph, pages, reference_day(overview, None),
                       people_refs)
    shown = [claim_id for claim_id in claims.roles
             if include_retracted or claim_id not in claims.retracted]
    against = [claim_id for claim_id in shown if "subject" in claims.roles[claim_id]]
    subject = set(against)
    order = against + [claim_id for claim_id in shown if claim_id not in subject]
    del shown, subject
    # Footnotes are numbered in claim order over the whole dossier, as `build_dossier`
    # numbers them; the pages show the allegations against, then concerning.
    in_claim_order = sorted(order)
    for start in range(0, len(in_claim_order), claim_batch):
        ids = in_claim_order[start:start + claim_batch]
        builder.use(load_sources(ids))
        for claim_id in ids:
            builder.number_sources(claim_id)
    del in_claim_order
    built: list[Allegation] = []
    listed: list[Allegation] = []
    parts = _part_pages(len(order), stem=stem, taken=taken, part_size=part_size)
    base = _dossier_context(builder, person_id, against=(), concerning=(), statements=(),
                            alleges=(), sources=(), checkpoint=checkpoint, drafts=drafts)
    for start in range(0, len(order), claim_batch):
        ids = order[start:start + claim_batch]
        batch = load(ids)
        builder.use(batch)
        for claim_id in ids:
            built.append(builder.allegation(batch.claims[claim_id], claims.roles[claim_id]))
            if parts and (len(built) == part_size
                          or len(listed) + len(built) == len(order)):
                part = parts[len(listed) // part_size]
                yield part.page[:-3], _part_context(base, built, part=part, parts=parts,
                                                    stem=stem)
                listed.extend(_listed(allegation, part.page) for allegation in built)
                built = []
        del batch
    builder.use(load_statements())
    statements, alleges = _said(builder, builder.batch, person_id, mine=claims.roles,
                                known=lambda _claim_id: True)
    if not parts:
        yield stem, _dossier_context(
            builder, person_id, against=tuple(a for a in built if "subject" in a.roles),
            concerning=tuple(a for a in built if "subject" not in a.roles),
            statements=statements, alleges=alleges, sources=builder.cited_sources(),
            checkpoint=checkpoint, drafts=drafts)
        return
    yield stem, replace(base, statements=statements, alleges=alleges, listed=tuple(listed),
                        parts=parts, sources=_sources_of(s.response for s in statements))


def _part_pages(count: int, *, stem: str, taken: set[str],
                part_size: int) -> tuple[ListPage, ...]:
    """The part pages of a dossier of `count` allegations (none when one page holds them)."""
    if count <= part_size:
        return ()
    pages = []
    for index, start in enumerate(range(0, count, part_size)):
        name = f"{stem}.{index + 2}"
        size = min(part_size, count - start)
        pages.append(ListPage(label=f"allegations {start + 1}-{start + size}",
                              page=f"{name}-part.md" if name in taken else f"{name}.md",
                              count=size))
    return tuple(pages)


def split_dossier(context: DossierContext, *, stem: str, taken: set[str],
                  part_size: int = DOSSIER_PART_SIZE
                  ) -> tuple[DossierContext, list[tuple[str, DossierContext]]]:
    """A dossier of more than `part_size` allegations, built whole, as a first page and part
    pages: the same pages `stream_dossier` yields (see there). Returns the first page and
    (stem, context) of each part."""
    everything = context.allegations
    parts = _part_pages(len(everything), stem=stem, taken=taken, part_size=part_size)
    pages, listed = [], []
    for number, part in enumerate(parts):
        chunk = everything[number * part_size:(number + 1) * part_size]
        pages.append((part.page[:-3], _part_context(context, chunk, part=part, parts=parts,
                                                    stem=stem)))
        listed.extend(_listed(allegation, part.page) for allegation in chunk)
    main = replace(context, against=(), concerning=(), listed=tuple(listed), parts=parts,
                   sources=_sources_of(s.response for s in context.statements))
    return main, pages


def _part_context(base: DossierContext, chunk: Iterable[Allegation], *, part: ListPage,
                  parts: tuple[ListPage, ...], stem: str) -> DossierContext:
    """Part page `part` of a split dossier, showing the allegations `chunk` in full."""
    chunk = tuple(chunk)
    return replace(base, title=f"{base.title} ({part.label})",
                   against=tuple(a for a in chunk if "subject" in a.roles),
                   concerning=tuple(a for a in chunk if "subject" not in a.roles),
                   statements=(), alleges=(),
                   sources=_sources_of_allegations(chunk, numbered=base.sources),
                   part=parts.index(part) + 1, parts=parts, main_page=f"{stem}.md")


def _listed(allegation: Allegation, page: str) -> Allegation:
    """An allegation as a split dossier's first page lists it: what the summary shows, and
    the part page that shows the rest."""
    return replace(allegation, page=page, evidence=(), origins=(), responses=(), replies=(),
                   updates=())


def _sources_of(responses: Iterable[ResponseView]) -> tuple[SourceRef, ...]:
    found: dict[int, SourceRef] = {}
    for response in responses:
        if response.source is not None:
            found.setdefault(response.source.id, response.source)
    return tuple(found.values())


def _sources_of_allegations(allegations: Iterable[Allegation], *,
                            numbered: Iterable[SourceRef] = ()) -> tuple[SourceRef, ...]:
    """The sources the allegations cite, in footnote order. `numbered`: the dossier's own
    footnotes, when it has them (an allegation shared between dossiers, `Allegations`,
    carries the numbers of the page it was first built for); else the allegations' refs."""
    own = {ref.id: ref for ref in numbered}
    found: dict[int, SourceRef] = {}
    for allegation in allegations:
        for ref in (*allegation.origins, *(e.source for e in allegation.evidence)):
            found.setdefault(ref.id, own.get(ref.id, ref))
        for ref in _sources_of(allegation.responses):
            found.setdefault(ref.id, own.get(ref.id, ref))
    return tuple(sorted(found.values(), key=lambda ref: ref.number))


def build_source_page(*, source_id: int, overview: Overview, batch: Batch, graph: OriginGraph,
                      pages: Pages = NO_PAGES,
                      people_refs: dict[int, PersonRef] | None = None,
                      checkpoint: CheckpointRef | None = None,
                      drafts: bool = False,
                      claim_refs: ClaimRefs | None = None) -> SourcePageContext:
    """The context of one source's page, from the batch that holds what it carries
    (`people_refs` and `claim_refs` as for `build_dossier`)."""
    builder = _Builder(overview, batch, graph, pages, reference_day(overview, None),
                       people_refs, claim_refs=claim_refs)
    row = overview.sources[source_id]
    ref = builder.source_ref(source_id, numbered=False)
    relies_on = tuple(SourceLinkView(link.relation, builder.source_ref(link.target_id,
                                                                        numbered=False))
                      for link in overview.links_from.get(source_id, ()))
    relied_on_by = tuple(SourceLinkView(link.relation, builder.source_ref(link.source_id,
                                                                           numbered=False))
                         for link in overview.links_to.get(source_id, ()))
    origin_ids = sorted(graph.origins(source_id), key=lambda sid: overview.sources[sid].key)
    origins = tuple(builder.source_ref(sid, numbered=False) for sid in origin_ids)
    if origin_ids == [source_id]:
        origins_text = "an origin: it relies on no other recorded source"
    else:
        origins_text = (f"traces back to {len(origin_ids)} origin"
                        f"{'s' if len(origin_ids) != 1 else ''}")
    seen: set[int] = set()
    claims = []
    for a in batch.attributions_by_source.get(source_id, ()):
        claims.append(SourceClaim(claim=builder.claim_ref(batch.claims[a.claim_id]),
                                  evidence=builder.evidence(a, numbered=False),
                                  anchor=None if a.claim_id in seen else f"claim-{a.claim_id}"))
        seen.add(a.claim_id)
    responses = tuple(Statement(claim=builder.claim_ref(batch.claims[r.claim_id]),
                                response=builder.response(r, numbered=False))
                      for r in sorted(batch.responses_by_source.get(source_id, ()),
                                      key=_response_order))
    return SourcePageContext(
        title=f"Source: {row.title}", source=ref, language=row.language,
        has_text=row.text_sha256 is not None, text_sha256=row.text_sha256,
        retrieved=row.retrieved, relies_on=relies_on, relied_on_by=relied_on_by,
        origins=origins, origins_text=origins_text, claims=tuple(claims), responses=responses,
        sequence=overview.sequence, head_hash=overview.head_hash, anchor=overview.anchor,
        index_page=f"{pages.prefix}index.md" if pages is not NO_PAGES else None,
        checkpoint=checkpoint, drafts=drafts)


def origin_graph(overview: Overview) -> OriginGraph:
    """The origin graph over every source link."""
    return OriginGraph((link.source_id, link.target_id) for link in overview.links)


def index_entry(context: DossierContext, person: PersonRef, kind: str) -> IndexEntry:
    """One person's line in the index, from their dossier (or a split dossier's first page,
    which lists every allegation)."""
    shown = context.listed or context.allegations
    against = sum(1 for allegation in shown if "subject" in allegation.roles)
    return IndexEntry(person=person, kind=kind, against=against,
                      concerning=len(shown) - against, statements=len(context.statements),
                      alleges=len(context.alleges))


def index_initial(name: str) -> str:
    """The letter a name is listed under in a split index: A-Z, else "other"."""
    from ledger.values import fold

    folded = fold(name).lstrip()
    first = folded[:1].upper()
    return first if "A" <= first <= "Z" else "other"


def build_index(*, overview: Overview, entries: Iterable[IndexEntry],
                source_counts: dict[int, tuple[int, int]],
                source_page: Callable[[int], str | None],
                people_pages: tuple[ListPage, ...] = (),
                source_pages: tuple[ListPage, ...] = (),
                checkpoint: CheckpointRef | None = None, drafts: bool = False,
                sources: tuple[SourceIndexEntry, ...] | None = None,
                people: list[IndexEntry] | None = None) -> IndexContext:
    """The index: people with something recorded, sorted by name (case- and
    accent-insensitive), and sources by title. With `people_pages` or `source_pages` (a split
    index), that list is left to its pages. `sources` and `people`, when the caller sorted
    them already (`sorted_sources`, `sorted_people`), are not sorted again."""
    if people is None:
        people = sorted_people(entries)
    listed = tuple(e for e in people if has_entries(e))
    if sources is None:
        sources = sorted_sources(overview=overview, source_counts=source_counts,
                                 source_page=source_page)
    return IndexContext(title="Dossiers", sequence=overview.sequence,
                        head_hash=overview.head_hash, anchor=overview.anchor,
                        people=() if people_pages else listed,
                        sources=() if source_pages else sources,
                        unlisted=len(people) - len(listed), people_count=len(listed),
                        source_count=len(sources), people_pages=people_pages,
                        source_pages=source_pages, checkpoint=checkpoint, drafts=drafts)


def has_entries(entry: IndexEntry) -> bool:
    """True when something is recorded against, about or by the person."""
    return bool(entry.against or entry.concerning or entry.statements or entry.alleges)


def sorted_people(entries: Iterable[IndexEntry]) -> list[IndexEntry]:
    """People by name, case- and accent-insensitive."""
    from ledger.values import fold

    return sorted(entries, key=lambda e: (fold(e.person.name), e.person.name, e.person.slug))


def sorted_sources(*, overview: Overview, source_counts: dict[int, tuple[int, int]],
                   source_page: Callable[[int], str | None]) -> tuple[SourceIndexEntry, ...]:
    """Every source with its counts, by title (case- and accent-insensitive), then key."""
    from ledger.values import fold

    sources = []
    for source_id, row in sorted(overview.sources.items(),
                                 key=lambda item: (fold(item[1].title), item[1].key)):
        claims, responses = source_counts.get(source_id, (0, 0))
        sources.append(SourceIndexEntry(
            source=SourceRef(number=0, id=source_id, key=row.key, title=row.title,
                             publisher=row.publisher, author=row.author,
                             published=row.published, url=row.url, kind=row.kind,
                             page=source_page(source_id)),
            claims=claims, responses=responses))
    return tuple(sources)


def checkpoint_ref(record, *, overview: Overview, name: str,
                   prefix: str | None) -> CheckpointRef | None:
    """The footer's checkpoint: `record` (a stored checkpoint, or None), published as
    `checkpoints/<name>.txt` under `prefix` (None: not published, so not linked)."""
    if record is None:
        return None
    from ledger.checkpoint import fingerprint, load_public_key

    return CheckpointRef(
        sequence=record.seq, head_hash=record.head_hash, time=record.signed_at,
        ledger=record.ledger, key=fingerprint(load_public_key(record.public_key.encode())),
        name=f"{name}.txt",
        page=f"{prefix}checkpoints/{name}.txt" if prefix is not None else None,
        covers=record.seq == overview.sequence)
