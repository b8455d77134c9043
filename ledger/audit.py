"""The reviewer's audit: which attributions hold, before anything is published.

`audit(session)` checks the whole ledger (or the part a filter names) and returns findings;
it never prints and never writes. Each finding has a stable code (see `CODES` and
docs/audit.md), a severity, the claim, source or person it concerns, a message and a detail
dictionary.

Everything is read with a few set-based queries (`ledger.store.audit`); the origin graph is
built once; each stored text is prepared once (`ledger.quotes.TextIndex`) and every quote is
re-checked against the text as it is now, with the fuzzy search for a closest passage run
only for quotes that are not found.

Partial dates compare conservatively: "2023-03" against "2023-03-22" is never out of order,
because some day of March 2023 is consistent with it. Only dates that contradict each other
whatever day they mean are reported.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from difflib import SequenceMatcher
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from ledger.origins import OriginGraph
from ledger.replies import reply_status
from ledger.speech import TITLES, Speaker, SpeechText, name_tokens
from ledger.store import audit as queries
from ledger.store.audit import AttributionRow, ClaimRow, ResponseRow, SourceRow
from ledger.values import ON_RECORD_SOURCINGS, PartialDate, fold, source_date_epoch

if TYPE_CHECKING:
    from sqlmodel import Session

Severity = Literal["error", "warning", "info"]
SubjectKind = Literal["claim", "source", "person"]

CODES: dict[str, Severity] = {
    "quote-not-found": "error",
    "quote-unverifiable": "warning",
    "quote-drifted": "warning",
    "speaker-mismatch": "error",
    "speaker-unconfirmed": "info",
    "elision-drops-negation": "error",
    "quote-cut-mid-sentence": "info",
    "anonymous-only": "warning",
    "single-origin": "warning",
    "no-response": "warning",
    "reply-overdue": "warning",
    "date-order": "warning",
    "citation-cycle": "error",
    "status-unsupported": "error",
    "possible-duplicate-person": "warning",
    "unused-source": "info",
}
"""Every finding code and its severity."""

SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")

SPOKEN_KINDS = frozenset({"denial", "partial-denial", "confirmation", "no-comment",
                          "official-response"})
"""Response kinds whose quote is the respondent's own words, so the speaker check applies;
an `action` quote reports a deed and a `no-response` records silence."""

NEAR_NAME_SIMILARITY = 0.9
"""Folded names at least this similar (difflib ratio) are possible duplicates: "Han Dong" and
"Hang Dong" (0.94) are, "Government of Canada" and "Government of China" (0.87) are not."""

_SUBJECT_ORDER = {"claim": 0, "source": 1, "person": 2}
_SEVERITY_ORDER = {s: i for i, s in enumerate(SEVERITIES)}


@dataclass(frozen=True)
class Finding:
    """One thing a reviewer should look at before publishing."""

    code: str
    severity: Severity
    subject: SubjectKind
    subject_id: int
    label: str
    message: str
    detail: dict[str, Any] = field(default_factory=dict)
    # Every claim, source and person the finding involves, for the audit's filters.
    concerns: frozenset[tuple[str, int]] = field(default=frozenset(), repr=False,
                                                 compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The finding as `ledger audit --json` prints it."""
        return {"code": self.code, "severity": self.severity,
                "subject": {"kind": self.subject, "id": self.subject_id, "label": self.label},
                "message": self.message, "detail": self.detail}

    def sort_key(self) -> tuple:
        """Claims, then sources, then people; by id; errors first."""
        return (_SUBJECT_ORDER[self.subject], self.subject_id, _SEVERITY_ORDER[self.severity],
                self.code, self.message)


def today_default() -> date:
    """The audit's "today": SOURCE_DATE_EPOCH (UTC) when set, for reproducible reports."""
    moment = source_date_epoch()
    return moment.date() if moment is not None else date.today()


def count_by_severity(findings: Iterable[Finding]) -> dict[str, int]:
    """How many findings of each severity, every severity present."""
    counts = dict.fromkeys(SEVERITIES, 0)
    for finding in findings:
        counts[finding.severity] += 1
    return counts


def audit(session: Session, *, claim: str | int | None = None, source: str | None = None,
          person: str | None = None, today: date | None = None) -> list[Finding]:
    """Audit the ledger and return the findings, sorted (claims, sources, people).

    `claim`, `source` and `person` narrow the audit to findings that involve that claim
    (by id), that source (by key) or that person (by any reference); given together, a
    finding must involve all of them. A claim's findings involve the people it concerns and
    the sources it rests on. `today` decides which reply requests are overdue; it defaults to
    `today_default()`. Unresolved references raise NotFound.

    >>> findings = audit(session)  # doctest: +SKIP
    >>> [f.code for f in findings if f.severity == "error"]  # doctest: +SKIP
    ['quote-not-found']
    """
    from ledger.store import get_claim, get_person, get_source

    wanted: list[tuple[str, int]] = []
    scope: set[int] | None = None

    def narrow(ids: set[int]) -> None:
        nonlocal scope
        scope = ids if scope is None else scope & ids

    if claim is not None:
        claim_id = get_claim(session, claim).id
        wanted.append(("claim", claim_id))
        narrow({claim_id})
    if source is not None:
        source_id = get_source(session, source).id
        wanted.append(("source", source_id))
        narrow(queries.claims_touching(session, source_id=source_id))
    if person is not None:
        person_id = get_person(session, person, field="person").id
        wanted.append(("person", person_id))
        narrow(queries.claims_touching(session, person_id=person_id))
    findings = _Auditor(session, today=today or today_default(), scope=scope).run()
    if wanted:
        findings = [f for f in findings if all(w in f.concerns for w in wanted)]
    return sorted(findings, key=Finding.sort_key)


@lru_cache(maxsize=4096)
def _earliest(value: str) -> date:
    return PartialDate(value).earliest()


@lru_cache(maxsize=4096)
def _latest(value: str) -> date:
    return PartialDate(value).latest()


def _by_earliest(bound: tuple[date, date, SourceRow]) -> tuple[date, str]:
    return bound[0], bound[2].key


def _by_latest(bound: tuple[date, date, SourceRow]) -> tuple[date, str]:
    return bound[1], bound[2].key


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tail(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else "…" + text[-(limit - 1) :]


class _Auditor:
    """One audit run: the rows loaded once, then each check in turn."""

    def __init__(self, session: Session, *, today: date, scope: set[int] | None) -> None:
        self.session = session
        self.today = today
        self.rows = queries.claim_rows(session, claim_ids=scope)
        self.sources: dict[int, SourceRow] = queries.source_rows(session)
        self.links = queries.link_rows(session)
        self.graph = OriginGraph(self.links)
        people, self.aliases = queries.people_rows(session)
        self.people = {p.id: p for p in people}
        self.merged = self._merged_map()
        self.findings: list[Finding] = []
        self._forms: dict[int, list[tuple[str, ...]]] | None = None
        self._names: dict[tuple[str, ...], set[int]] | None = None
        self._voices: dict[str, Speaker | None] = {}

    # --- helpers ---------------------------------------------------------------------------

    def canonical(self, person_id: int) -> int:
        """The person a merged duplicate joined (the id itself when not merged)."""
        return self.merged.get(person_id, person_id)

    def _merged_map(self) -> dict[int, int]:
        merged: dict[int, int] = {}
        for person_id, person in self.people.items():
            target, seen = person.merged_into_id, {person_id}
            if target is None:
                continue
            while target in self.people and self.people[target].merged_into_id:
                if target in seen:
                    break
                seen.add(target)
                target = self.people[target].merged_into_id
            merged[person_id] = target
        return merged

    def name(self, person_id: int) -> str:
        person = self.people.get(self.canonical(person_id))
        return person.name if person else f"person {person_id}"

    def key(self, source_id: int) -> str:
        return self.sources[source_id].key

    def add(self, code: str, subject: SubjectKind, subject_id: int, label: str, message: str,
            detail: dict[str, Any], concerns: Iterable[tuple[str, int]] = ()) -> None:
        self.findings.append(Finding(
            code=code, severity=CODES[code], subject=subject, subject_id=subject_id,
            label=label, message=message, detail=detail,
            concerns=frozenset([(subject, subject_id), *concerns])))

    # --- the run ---------------------------------------------------------------------------

    def run(self) -> list[Finding]:
        rows = self.rows
        live = {c.id: c for c in rows.claims if c.status != "retracted"}
        self.claims = live
        self.attributions: dict[int, list[AttributionRow]] = defaultdict(list)
        for a in rows.attributions:
            if a.claim_id in live:
                self.attributions[a.claim_id].append(a)
        self.responses: dict[int, list[ResponseRow]] = defaultdict(list)
        for r in rows.responses:
            if r.claim_id in live:
                self.responses[r.claim_id].append(r)
        self.replies = defaultdict(list)
        for r in rows.replies:
            if r.claim_id in live:
                self.replies[r.claim_id].append(r)
        self.subjects: dict[int, list[int]] = defaultdict(list)
        self.involved: dict[int, set[tuple[str, int]]] = defaultdict(set)
        for claim_id, person_id, role in rows.claim_people:
            if claim_id in live:
                self.involved[claim_id].add(("person", self.canonical(person_id)))
                if role == "subject":
                    self.subjects[claim_id].append(self.canonical(person_id))
        for claim in live.values():
            if claim.claimant_id is not None:
                self.involved[claim.id].add(("person", self.canonical(claim.claimant_id)))

        self._date_bounds = {
            sid: (_earliest(s.published), _latest(s.published), s) if s.published else None
            for sid, s in self.sources.items()}
        self.check_quotes()
        for claim in live.values():
            self.check_claim(claim)
        self.check_source_dates()
        self.check_cycles()
        self.check_unused_sources()
        self.check_people()
        return self.findings

    # --- quotes ----------------------------------------------------------------------------

    def check_quotes(self) -> None:
        """Re-check every quote against its source's text as stored now."""
        from ledger.quotes import TextIndex, recheck

        work: dict[int, list[AttributionRow | ResponseRow]] = defaultdict(list)
        attributions, responses = self.attributions, self.responses
        for claim_id in self.claims:
            for a in attributions.get(claim_id, ()):
                if a.quote:
                    work[a.source_id].append(a)
            for r in responses.get(claim_id, ()):
                if r.quote and r.source_id is not None:
                    work[r.source_id].append(r)
        with_text = [sid for sid in work if self.sources[sid].has_text]
        for source_id in sorted(set(work) - set(with_text)):
            for row in work[source_id]:
                self.quote_finding("quote-unverifiable", row, source_id, None)
        for source_id, text in queries.source_texts(self.session, with_text):
            index = None
            speech = _Speech(self, source_id, text)
            for row in work[source_id]:
                # The stored anchor still holds: the passage there is the quote as typed.
                if row.__class__ is AttributionRow:
                    start = row.anchor_start
                    if start is not None and text[start : row.anchor_end] == row.quote.strip():
                        speech.check(row, start, row.anchor_end, None)
                        continue
                if index is None:  # prepared only for a source with a quote to search
                    index = TextIndex(text)
                try:
                    if isinstance(row, AttributionRow):
                        check = recheck(text=text, quote=row.quote, start=row.anchor_start,
                                        end=row.anchor_end, prefix=row.anchor_prefix,
                                        suffix=row.anchor_suffix, index=index)
                    else:
                        check = index.check(quote=row.quote)
                except ValueError:  # nothing left of the quote once normalized
                    self.quote_finding("quote-not-found", row, source_id, None)
                    continue
                if check.status == "not-found":
                    found_in = row.anchor_sha256
                    drifted = found_in and found_in != self.sources[source_id].text_sha256
                    self.quote_finding("quote-drifted" if drifted else "quote-not-found", row,
                                       source_id, check)
                else:
                    speech.check(row, check.start, check.end,
                                 index if check.match == "elided" else None)

    def speaker_of(self, row: AttributionRow | ResponseRow) -> Speaker | None:
        """Who the ledger says spoke a quote, or None when no one is named: an attribution's
        voice with named sourcing; a response's respondent (and its voice) for the kinds
        that quote the respondent's words."""
        if isinstance(row, AttributionRow):
            if row.sourcing != "named" or not row.voice:
                return None
            return self.voice_speaker(row.voice, label=row.voice)
        if row.kind not in SPOKEN_KINDS:
            return None
        person = self.canonical(row.respondent_id)
        label = self.name(person)
        if row.voice:
            label = f"{label} (voice: {row.voice})"
        forms = set(self.person_forms(person))
        description = set(self.person_words(person))
        if row.voice:
            voiced = self.voice_speaker(row.voice, label=row.voice)
            if voiced is not None:
                forms |= set(voiced.forms)
                description |= voiced.description
        return Speaker(label, tuple(sorted(forms)), frozenset(description))

    def person_forms(self, person_id: int) -> list[tuple[str, ...]]:
        """A person's name and aliases as folded words (merged duplicates' names too)."""
        if self._forms is None:
            forms: dict[int, list[tuple[str, ...]]] = defaultdict(list)
            for pid, person in self.people.items():
                forms[self.canonical(pid)].append(name_tokens(person.name))
            for pid, key in self.aliases:
                forms[self.canonical(pid)].append(name_tokens(key))
            self._forms = forms
        return self._forms.get(person_id, [])

    def person_words(self, person_id: int) -> tuple[str, ...]:
        person = self.people.get(person_id)
        return name_tokens(person.description) if person and person.description else ()

    def voice_speaker(self, voice: str, *, label: str) -> Speaker | None:
        """The people a voice names ("Michael Chong, relaying …", "an article published by
        Global News"), by any of their names, and the name it opens with; None when it names
        no one."""
        if voice in self._voices:
            return self._voices[voice]
        names = self.name_index()
        words = name_tokens(voice)
        forms: set[tuple[str, ...]] = set()
        description: set[str] = set()
        for size in range(min(len(words), 8), 0, -1):
            for i in range(len(words) - size + 1):
                for pid in names.get(words[i : i + size], ()):
                    forms.update(self.person_forms(pid))
                    description.update(self.person_words(pid))
        opening = _opening_name(voice)
        if opening:
            forms.add(opening)
        speaker = Speaker(label, tuple(sorted(forms)), frozenset(description)) if forms else None
        self._voices[voice] = speaker
        return speaker

    def who(self, found: tuple[str, ...] | None) -> int | None:
        """The one person in the ledger a name the text gives belongs to, if there is one."""
        if not found:
            return None
        ids = {pid for form, pids in self.name_index().items() for pid in pids
               if Speaker("", (form,)).matches(found)}
        return next(iter(ids)) if len(ids) == 1 else None

    def name_index(self) -> dict[tuple[str, ...], set[int]]:
        """Every name and alias of every person, as folded words, to the people holding it."""
        if self._names is None:
            names: dict[tuple[str, ...], set[int]] = defaultdict(set)
            for pid in self.people:
                for form in self.person_forms(self.canonical(pid)):
                    names[form].add(self.canonical(pid))
            self._names = names
        return self._names

    def quote_finding(self, code: str, row, source_id: int, check) -> None:
        claim = self.claims[row.claim_id]
        key = self.key(source_id)
        is_attribution = isinstance(row, AttributionRow)
        what = "quote" if is_attribution else f"quote of {self.name(row.respondent_id)}'s response"
        detail: dict[str, Any] = {"source": key}
        detail["attribution" if is_attribution else "response"] = row.id
        detail["quote"] = row.quote
        if code == "quote-unverifiable":
            message = (f"{key!r} has no stored text, so the {what} cannot be verified; add "
                       f"it with `ledger source edit {key} --text-file F`")
        elif code == "quote-drifted":
            source = self.sources[source_id]
            detail.update(found_in=row.anchor_sha256, current=source.text_sha256,
                          retrieved=source.retrieved)
            message = (f"the {what} was in an earlier capture of {key!r} (text sha256 "
                       f"{row.anchor_sha256[:12]}…) but is gone from the current one (sha256 "
                       f"{source.text_sha256[:12]}…, retrieved {source.retrieved}): "
                       f"“{_short(row.quote)}”")
        else:
            message = f"the {what} is not in the stored text of {key!r}: “{_short(row.quote)}”"
            detail.update(closest=check.closest if check else "",
                          similarity=check.similarity if check else 0.0,
                          diff=check.diff if check else None)
            if check and check.closest:
                message += (f"; closest passage ({check.similarity:.0%} similar): "
                            f"“{_short(check.closest)}”")
        self.add(code, "claim", claim.id, claim.statement, message, detail,
                 {*self.involved[claim.id], ("source", source_id)})

    # --- claims ----------------------------------------------------------------------------

    def check_claim(self, claim: ClaimRow) -> None:
        claim_id = claim.id
        attributions = self.attributions.get(claim_id, ())
        source_ids = sorted({a.source_id for a in attributions})
        status = claim.status
        # The origin walk only matters for two sources or more, or a corroborated claim.
        origins = (sorted(self.graph.independent_origins(source_ids))
                   if len(source_ids) > 1 or status == "corroborated" else source_ids)
        base: frozenset | None = None

        def add(code: str, message: str, detail: dict[str, Any], extra=()) -> None:
            # The concerns are built only for a claim that has a finding.
            nonlocal base
            if base is None:
                base = frozenset([("claim", claim_id), *self.involved.get(claim_id, ()),
                                  *[("source", s) for s in source_ids]])
            self.findings.append(Finding(
                code, CODES[code], "claim", claim_id, claim.statement, message, detail,
                base.union(extra) if extra else base))

        # Unknown sourcing is not on the record either: it cannot clear the warning.
        if attributions and not any(a.sourcing in ON_RECORD_SOURCINGS for a in attributions):
            keys = [self.key(s) for s in source_ids]
            unknown = sum(a.sourcing == "unknown" for a in attributions)
            if not unknown:
                message = (f"every attribution ({len(attributions)}) is anonymous: the claim "
                           f"rests only on unnamed voices ({', '.join(keys)})")
            else:
                message = (f"no attribution ({len(attributions)}) puts a voice on the record "
                           f"({unknown} of unknown sourcing): the claim may rest only on "
                           f"unnamed voices ({', '.join(keys)}); record who speaks with "
                           "`ledger claim cite ID --source KEY --voice V`")
            add("anonymous-only", message, {"sources": keys})
        if len(source_ids) > 1 and len(origins) == 1:
            keys = [self.key(s) for s in source_ids]
            origin = self.sources[origins[0]]
            add("single-origin",
                f"its {len(source_ids)} sources ({', '.join(keys)}) all trace back to one "
                f"origin: {origin.key} ({_short(origin.title, 60)})",
                {"origin": origin.key, "sources": keys}, [("source", origin.id)])
        if status == "corroborated" or status == "confirmed":
            self.check_status(claim, attributions, origins, add)
        self.check_reply(claim, add)
        if source_ids:
            self.check_claim_dates(claim, source_ids, add)

    def check_status(self, claim: ClaimRow, attributions, origins: list[int], add) -> None:
        if claim.status == "corroborated" and len(origins) < 2:
            names = [self.key(o) for o in origins]
            add("status-unsupported",
                f"marked corroborated, but its sources trace back to {len(origins)} "
                f"independent origin{'s' if len(origins) != 1 else ''}"
                + (f" ({', '.join(names)})" if names else "") + "; corroboration needs two",
                {"status": claim.status, "origins": names})
        if claim.status == "confirmed":
            confirmed = any(r.kind == "confirmation" for r in self.responses[claim.id])
            official = any(a.sourcing == "official-record" for a in attributions)
            if not (confirmed or official):
                add("status-unsupported",
                    "marked confirmed, but there is neither a confirmation response nor an "
                    "official-record attribution", {"status": claim.status})

    def check_reply(self, claim: ClaimRow, add) -> None:
        canonical = self.merged.get
        responses = self.responses.get(claim.id, ())
        responded = {canonical(r.respondent_id, r.respondent_id) for r in responses}
        replies = self.replies.get(claim.id, ())
        asked = {canonical(r.addressee_id, r.addressee_id) for r in replies}
        subjects = self.subjects.get(claim.id)
        if subjects and responded.isdisjoint(subjects) and asked.isdisjoint(subjects):
            names = [self.name(p) for p in dict.fromkeys(subjects)]
            add("no-response",
                f"no response from {' or '.join(names)} and no reply request recorded; "
                "record one with `ledger reply request`", {"subjects": names})
        for reply in replies:
            addressee = self.canonical(reply.addressee_id)
            status = reply_status(sent=reply.sent, deadline=reply.deadline, today=self.today,
                                  responses=[(r.kind, r.date) for r in responses
                                             if self.canonical(r.respondent_id) == addressee])
            if status.overdue:
                name = self.name(addressee)
                add("reply-overdue",
                    f"asked {name} on {reply.sent}; no response by the {reply.deadline} "
                    "deadline",
                    {"reply": reply.id, "to": name, "sent": reply.sent,
                     "deadline": reply.deadline, "today": self.today.isoformat()},
                    [("person", addressee)])

    def check_claim_dates(self, claim: ClaimRow, source_ids: list[int], add) -> None:
        # Each source's partial date is read once per audit, not once per claim citing it.
        bounds = self._date_bounds
        dated = [b for b in map(bounds.__getitem__, source_ids) if b is not None]
        if not dated:
            return
        first_earliest, _, first = min(dated, key=_by_earliest)
        for response in self.responses.get(claim.id, ()):
            if response.date and _latest(response.date) < first_earliest:
                add("date-order",
                    f"{self.name(response.respondent_id)}'s response is dated {response.date}, "
                    f"before the claim was first reported ({first.key}, {first.published})",
                    {"response": response.id, "date": response.date, "source": first.key,
                     "published": first.published},
                    [("person", self.canonical(response.respondent_id))])
        if claim.occurred:
            happened = _earliest(claim.occurred)
            _, early_latest, early = min(dated, key=_by_latest)
            if happened > early_latest:
                add("date-order",
                    f"the claim says it happened {claim.occurred}, after {early.key} reported "
                    f"it ({early.published})",
                    {"occurred": claim.occurred, "source": early.key,
                     "published": early.published})

    # --- sources ---------------------------------------------------------------------------

    def check_source_dates(self) -> None:
        for source_id, target_id in sorted(set(self.links)):
            source, target = self.sources[source_id], self.sources[target_id]
            if not (source.published and target.published):
                continue
            if _latest(source.published) < _earliest(target.published):
                self.add("date-order", "source", source.id, source.key,
                         f"{source.key} ({source.published}) is dated before {target.key} "
                         f"({target.published}), which it relies on",
                         {"published": source.published, "relies_on": target.key,
                          "relies_on_published": target.published},
                         [("source", target.id)])

    def check_cycles(self) -> None:
        for members in self.graph.cycles():
            path = self.graph.cycle_path(members)
            chain = " → ".join(self.key(s) for s in path)
            first = self.sources[members[0]]
            self.add("citation-cycle", "source", first.id, first.key,
                     f"sources rely on each other in a cycle: {chain}; none of them can be "
                     "traced to an origin outside it",
                     {"cycle": [self.key(s) for s in members], "path": chain},
                     [("source", s) for s in members])

    def check_unused_sources(self) -> None:
        used = queries.used_source_ids(self.session)
        for source in sorted(self.sources.values()):
            if source.id not in used:
                self.add("unused-source", "source", source.id, source.key,
                         f"no attribution or response uses {source.key} and no source relies "
                         "on it", {})

    # --- people ----------------------------------------------------------------------------

    def check_people(self) -> None:
        """Two people whose names (or aliases) fold to the same form, or nearly the same."""
        active = {pid: p for pid, p in self.people.items() if not p.merged_into_id}
        forms: dict[str, set[int]] = defaultdict(set)
        primary = {pid: fold(p.name) for pid, p in active.items()}
        for pid, folded in primary.items():
            forms[folded].add(pid)
        for pid, alias_key in self.aliases:
            if pid in active:
                forms[alias_key].add(pid)
        reported: set[tuple[int, int]] = set()
        for folded, ids in sorted(forms.items()):
            ordered = sorted(ids)
            for i, a in enumerate(ordered):
                for b in ordered[i + 1 :]:
                    if (a, b) not in reported:
                        reported.add((a, b))
                        self.duplicate(a, b, folded, 1.0)
        for a, b, ratio in _near_pairs(primary, {pid: p.kind for pid, p in active.items()}):
            if (a, b) not in reported:
                reported.add((a, b))
                self.duplicate(a, b, None, ratio)

    def duplicate(self, a: int, b: int, folded: str | None, ratio: float) -> None:
        keep, other = self.people[a], self.people[b]
        if folded is not None:
            how = f"fold to the same form {folded!r}"
        else:
            how = f"are nearly the same once folded ({ratio:.0%} similar)"
        self.add("possible-duplicate-person", "person", other.id, other.name,
                 f"{other.name!r} and {keep.name!r} (person {keep.id}) {how}; if they are one "
                 f"person, `ledger person merge {keep.id} {other.id}`",
                 {"other": {"id": keep.id, "name": keep.name}, "folded": folded,
                  "similarity": round(ratio, 4)},
                 [("person", keep.id)])


def _block_keys(folded: str) -> set[str]:
    """The name and every form of it with one character deleted.

    Two names one edit apart (a letter added, dropped or changed, or two neighbours swapped)
    share at least one of these keys, so only they are ever compared.
    """
    return {folded, *(folded[:i] + folded[i + 1 :] for i in range(len(folded)))}


def _near_pairs(names: dict[int, str], kinds: dict[int, str]) -> list[tuple[int, int, float]]:
    """Pairs of ids (same kind) whose folded names are one edit apart and at least
    NEAR_NAME_SIMILARITY alike.

    Names are compared only when they share a blocking key, so 10,000 people cost about
    200,000 dictionary entries and a handful of comparisons, never 50 million.
    """
    # Most keys belong to one name only: keep a list just for the keys that are shared.
    first: dict[str, int] = {}
    shared: dict[str, list[int]] = {}
    for pid, folded in names.items():
        for key in _block_keys(folded):
            holder = first.setdefault(key, pid)
            if holder != pid:
                shared.setdefault(key, [holder]).append(pid)
    found: dict[tuple[int, int], float] = {}
    for members in shared.values():
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                pair = (a, b) if a < b else (b, a)
                if pair in found or names[a] == names[b] or kinds[a] != kinds[b]:
                    continue
                ratio = SequenceMatcher(None, names[a], names[b], autojunk=False).ratio()
                if ratio >= NEAR_NAME_SIMILARITY:
                    found[pair] = ratio
    return [(a, b, r) for (a, b), r in sorted(found.items())]


def _opening_name(voice: str) -> tuple[str, ...]:
    """The capitalized words a voice opens with ("Eric Balsam, CSIS spokesperson" gives
    ('eric', 'balsam')), roles aside; empty when it opens otherwise ("an article")."""
    words = []
    for word in voice.replace(",", " , ").split():
        if not word[:1].isupper():
            break
        words.append(word)
    tokens = name_tokens(" ".join(words))
    return tokens if any(t not in TITLES for t in tokens) else ()


class _Speech:
    """The speaker, elision and cut checks for the found quotes of one source."""

    def __init__(self, auditor: _Auditor, source_id: int, text: str) -> None:
        self.auditor = auditor
        self.source_id = source_id
        self.text = text
        self._speech: SpeechText | None = None

    @property
    def speech(self) -> SpeechText:
        if self._speech is None:  # prepared only for a source with a found quote
            source = self.auditor.sources[self.source_id]
            self._speech = SpeechText(self.text, language=source.language)
        return self._speech

    def check(self, row: AttributionRow | ResponseRow, start: int | None, end: int | None,
              index) -> None:
        if start is None or end is None:
            return
        auditor, quote = self.auditor, row.quote or ""
        if index is not None:  # elided: what do the ellipses leave out?
            parts = index.elided_parts(quote=quote)
            dropped, passages = self.speech.dropped_negations(parts)
            if dropped:
                what, key = _what(auditor, row), auditor.key(self.source_id)
                words = ", ".join(f"“{w}”" for w in dict.fromkeys(dropped))
                self.finding("elision-drops-negation", row,
                             f"the elided {what} leaves out {words}, which may turn its "
                             f"meaning around; {key!r} has “{_short(passages[0], 100)}” "
                             f"where the quote has an ellipsis: “{_short(quote)}”",
                             {"dropped": dropped, "omitted": passages})
            if parts:
                start, end = parts[0][0], parts[-1][1]
        for cut in self.speech.check_cut(start=start, end=end, quote=quote):
            what, key = _what(auditor, row), auditor.key(self.source_id)
            words = ", ".join(f"“{w}”" for w in dict.fromkeys(cut.words))
            edge = "starts" if cut.side == "start" else "ends"
            # The cut-off words next to the quote: the end of what comes before it, the
            # start of what comes after.
            cut_off = (_short(cut.cut_off) if cut.side == "end" else _tail(cut.cut_off))
            self.finding("quote-cut-mid-sentence", row,
                         f"the {what} {edge} inside a sentence of {key!r} without an "
                         f"ellipsis, and the words cut off hold {words}: “{cut_off}”",
                         {"side": cut.side, "words": list(cut.words), "cut_off": cut.cut_off})
        speaker = auditor.speaker_of(row)
        if speaker is None:
            return
        verdict = self.speech.check_speaker(start=start, end=end, speaker=speaker)
        if verdict.status == "confirmed":
            return
        what, key = _what(auditor, row), auditor.key(self.source_id)
        found = [a.shown for a in verdict.found]
        if verdict.status == "mismatch":
            others = []
            for attribution in verdict.found:
                pid = auditor.who(attribution.name)
                if pid is not None:
                    others.append({"id": pid, "name": auditor.name(pid)})
            credited = " or ".join(f"“{f}”" for f in dict.fromkeys(found))
            known = "".join(f" ({o['name']}, person {o['id']})" for o in others[:1])
            place = _PLACES.get(verdict.where or "", "")
            self.finding("speaker-mismatch", row,
                         f"{key!r} credits the {what} to {credited}{known} {place}, not to "
                         f"{speaker.label}: “{_short(quote)}”",
                         {"recorded": speaker.label, "found": found, "where": verdict.where,
                          "people": others},
                         [("person", o["id"]) for o in others])
        else:
            described = (f"; the text says only “{found[0]}”" if found else "")
            self.finding("speaker-unconfirmed", row,
                         f"{key!r} names no speaker for the {what} in its sentence, its "
                         f"paragraph or the paragraph before{described}; check that "
                         f"{speaker.label} said it", {"recorded": speaker.label,
                                                      "found": found,
                                                      "where": verdict.where})

    def finding(self, code: str, row, message: str, extra: dict[str, Any],
                concerns: Iterable[tuple[str, int]] = ()) -> None:
        auditor = self.auditor
        claim = auditor.claims[row.claim_id]
        detail: dict[str, Any] = {"source": auditor.key(self.source_id)}
        detail["attribution" if isinstance(row, AttributionRow) else "response"] = row.id
        detail["quote"] = row.quote
        detail.update(extra)
        auditor.add(code, "claim", claim.id, claim.statement, message, detail,
                    {*auditor.involved[claim.id], ("source", self.source_id), *concerns})


_PLACES = {"sentence": "in the quote's sentence", "paragraph": "in its paragraph",
           "previous paragraph": "in the paragraph before"}


def _what(auditor: _Auditor, row) -> str:
    if isinstance(row, AttributionRow):
        return "quote"
    return f"quote of {auditor.name(row.respondent_id)}'s response"
