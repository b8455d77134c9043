"""schema.org ClaimReview: export assessed claims, import existing fact-checks, embed in HTML.

A ClaimReview is written for every assessed claim: status corroborated, confirmed, disputed,
unsupported or false. Unverified claims are not assessed; retracted claims are withdrawn from
the ledger, not a verdict, so neither gets one.

Rating scale (reviewRating): `alternateName` is the ledger status; `ratingValue` places it on
a 1-5 scale, `worstRating` 1, `bestRating` 5:

    false 1 · unsupported 2 · disputed 3 · corroborated 4 · confirmed 5

Fields: `claimReviewed` the statement; `author` the publishing organization (`--publisher`,
env LEDGER_PUBLISHER, default "Fact Ledger"); `datePublished` the day the claim's current
status was recorded (from the event log, so the same ledger gives the same bytes); `url` the
claim in its subject's published dossier, `{base_url}/people/{slug}.html#claim-{id}` (relative
when no base URL is given); `itemReviewed` a Claim with `author` (the claimant, a Person or an
Organization), `datePublished` (the earliest publication among its sources), `appearance`
(every source that carries it, as a CreativeWork with url, headline, datePublished, author and
publisher) and `firstAppearance` (the earliest of them).

Import (`read_reviews` + `review_records`) takes JSON-LD (one object, a list, or an @graph) or
an HTML page with `<script type="application/ld+json">` blocks. The claimant becomes a person
(and whom the claim is about), appearances become sources (matched to known ones by URL), and
the rating becomes a status: `alternateName` when it is a ledger status or a common verdict
("Mostly true", "Pants on Fire", ...), else `ratingValue` placed on the 1-5 scale. A
`ratingValue` that is not a finite number or lies outside the review's own scale is refused;
a rating that cannot be mapped at all imports as `unverified`, with a warning. The
review's own `url`, `author` and `datePublished` describe the other publication and are not
kept; the claim's statement, rating, claimant, dates and source URLs are.

For HTML pages (the dossier): `claimreview_jsonld(...)` builds one review from plain values,
`from_allegation(...)` from a dossier's Allegation, and `jsonld_script(...)` serializes it
into a `<script type="application/ld+json">` element that no text inside can break out of.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlmodel import Session

from ledger import shapes, store, values
from ledger.errors import InvalidValue
from ledger.userfiles import read_text

RATING_SCALE = {"false": 1, "unsupported": 2, "disputed": 3, "corroborated": 4, "confirmed": 5}
WORST_RATING, BEST_RATING = 1, 5
ASSESSED = tuple(RATING_SCALE)
# JSON-LD nests a review, its claim, appearances and their authors: far fewer levels than this.
JSONLD_DEPTH = 32
DEFAULT_PUBLISHER = "Fact Ledger"
# Common verdict words of other fact-checkers, folded, and the ledger status they mean.
VERDICTS = {
    "true": "confirmed", "correct": "confirmed", "accurate": "confirmed",
    "mostly true": "corroborated", "mostly correct": "corroborated",
    "half true": "disputed", "mixture": "disputed", "mixed": "disputed",
    "misleading": "disputed", "partly false": "disputed", "missing context": "disputed",
    "mostly false": "unsupported", "barely true": "unsupported", "unproven": "unsupported",
    "unsupported": "unsupported", "no evidence": "unsupported", "unsubstantiated": "unsupported",
    "false": "false", "pants on fire": "false", "pants fire": "false", "fake": "false",
    "incorrect": "false", "wrong": "false",
}


def publisher_name(value: str | None = None) -> str:
    """The publishing organization: `value`, else LEDGER_PUBLISHER, else the default."""
    return values.line(value or os.environ.get("LEDGER_PUBLISHER") or DEFAULT_PUBLISHER,
                       field="publisher")


# --- building one review --------------------------------------------------------------------


def _prune(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v not in (None, "", [], {})}


def creative_work(*, url: str | None, headline: str | None, published: str | None = None,
                  publisher: str | None = None, author: str | None = None) -> dict[str, Any]:
    """A source as a schema.org CreativeWork."""
    return _prune({
        "@type": "CreativeWork", "url": url, "headline": headline, "datePublished": published,
        "author": _prune({"@type": "Person", "name": author}) if author else None,
        "publisher": _prune({"@type": "Organization", "name": publisher}) if publisher else None,
    })


def _earliest_key(work: dict[str, Any]) -> tuple[int, str]:
    published = work.get("datePublished")
    return (0, values.PartialDate(published).earliest().isoformat()) if published else (1, "")


def claimreview_jsonld(*, statement: str, status: str, url: str, publisher: str,
                       date_published: str | None = None, claimant: str | None = None,
                       claimant_kind: str = "person",
                       appearances: Iterable[dict[str, Any]] = (),
                       publisher_url: str | None = None) -> dict[str, Any]:
    """One ClaimReview as a JSON-LD object (see the module docstring for the fields).

    `appearances` are CreativeWork objects (see `creative_work`), in any order; the earliest
    dated one is the firstAppearance. `status` must be an assessed status.
    """
    if status not in RATING_SCALE:
        raise InvalidValue(f"a claim with status {status!r} is not assessed; ClaimReview needs "
                           f"one of {', '.join(ASSESSED)}")
    works = list(appearances)
    first = min(works, key=_earliest_key) if works else None
    claim = _prune({
        "@type": "Claim",
        "author": _prune({"@type": "Organization" if claimant_kind == "organization"
                          else "Person", "name": claimant}) if claimant else None,
        "datePublished": first.get("datePublished") if first else None,
        "appearance": works,
        "firstAppearance": first,
    })
    return _prune({
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": url,
        "claimReviewed": statement,
        "datePublished": date_published,
        "author": _prune({"@type": "Organization", "name": publisher, "url": publisher_url}),
        "reviewRating": {"@type": "Rating", "ratingValue": RATING_SCALE[status],
                         "bestRating": BEST_RATING, "worstRating": WORST_RATING,
                         "alternateName": status},
        "itemReviewed": claim,
    })


def from_allegation(allegation: Any, *, url: str, publisher: str | None = None,
                    date_published: str | None = None) -> dict[str, Any] | None:
    """The ClaimReview for a dossier's `Allegation` (ledger.dossier), or None if unassessed.

    For the HTML dossier: `url` is the claim's place on the page (e.g. "#claim-12"); embed
    the result with `jsonld_script`.
    """
    if allegation.status not in RATING_SCALE:
        return None
    seen: set[str] = set()
    works = []
    for evidence in allegation.evidence:
        ref = evidence.source
        if ref.key in seen:
            continue
        seen.add(ref.key)
        works.append(creative_work(url=ref.url, headline=ref.title, published=ref.published,
                                   publisher=ref.publisher, author=ref.author))
    claimant = allegation.claimant.name if allegation.claimant else None
    return claimreview_jsonld(statement=allegation.statement, status=allegation.status,
                              url=url, publisher=publisher_name(publisher),
                              date_published=date_published, claimant=claimant,
                              appearances=works)


def jsonld_script(data: dict[str, Any] | list[dict[str, Any]]) -> str:
    """`data` in a `<script type="application/ld+json">` element, safe in any HTML page.

    `<`, `>` and `&` are written as JSON escapes (so no `</script>` or `<!--` can appear),
    and so are U+2028 and U+2029; the JSON means exactly the same.
    """
    text = json.dumps(data, ensure_ascii=False, sort_keys=False, separators=(",", ":"))
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return f'<script type="application/ld+json">{text}</script>'


def insert_into_head(page: str, scripts: Iterable[str]) -> str:
    """An HTML page with `scripts` added just before its `</head>`."""
    block = "\n".join(scripts)
    if not block:
        return page
    marker = page.find("</head>")
    if marker < 0:
        raise ValueError("the page has no </head>")
    return page[:marker] + block + "\n" + page[marker:]


# --- export ---------------------------------------------------------------------------------


def export_reviews(session: Session, *, publisher: str | None = None,
                   base_url: str | None = None) -> Iterator[dict[str, Any]]:
    """A ClaimReview for every assessed claim a reviewer approved (and unchanged since) and
    that is not held, oldest claim first."""
    from ledger.store import reads
    from ledger.store.exchange import status_dates
    from ledger.store.reviews import publishable_ids

    name = publisher_name(publisher)
    from ledger.values import base_url as checked_base_url

    base = checked_base_url(base_url or os.environ.get("LEDGER_BASE_URL")) or ""
    days = status_dates(session)
    sources = reads.source_infos(session)
    publishable = publishable_ids(session)
    for view in reads.claim_views(session):
        claim = view.record
        if claim["status"] not in RATING_SCALE or claim["id"] not in publishable:
            continue
        subjects = [p for p in view.people if p.role == "subject"]
        page = f"people/{subjects[0].slug}.html#claim-{claim['id']}"
        claimant = view.claimant
        works = []
        for source_id in dict.fromkeys(view.source_ids):
            source = sources[source_id]
            works.append(creative_work(url=source.url, headline=source.title,
                                       published=source.published, publisher=source.publisher,
                                       author=source.author))
        yield claimreview_jsonld(
            statement=claim["statement"], status=claim["status"],
            url=f"{base}/{page}" if base else page, publisher=name,
            date_published=days.get(claim["uid"]), claimant=claimant.name if claimant else None,
            claimant_kind=claimant.kind if claimant else "person", appearances=works)


def dump_reviews(reviews: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The reviews as one JSON array (JSON-LD), pretty-printed."""
    yield json.dumps(list(reviews), ensure_ascii=False, indent=2) + "\n"


# --- import ---------------------------------------------------------------------------------

def jsonld_blocks(page: str) -> list[str]:
    """The text of every `<script type="application/ld+json">` in an HTML page, in order.

    Parsed by libxml2's HTML parser (lxml), in linear time on any input: a backtracking
    regex took minutes on a crafted page ('<script ' repeated), and so does the standard
    library's html.parser on unclosed tags.
    """
    from lxml import etree, html

    parser = html.HTMLParser(encoding="utf-8", recover=True, no_network=True, huge_tree=True,
                             remove_comments=True, remove_pis=True)
    try:
        root = html.document_fromstring(page.encode("utf-8"), parser=parser)
    except (etree.ParserError, ValueError):  # nothing but white space or comments
        return []
    return [script.text or "" for script in root.iter("script")
            if (script.get("type") or "").split(";")[0].strip().lower() == "application/ld+json"]


def read_reviews(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """The ClaimReview objects in a JSON-LD file or an HTML page, with where each was."""
    content = read_text(path, encoding="utf-8-sig")
    stripped = content.lstrip()
    blocks = jsonld_blocks(content) if stripped.startswith("<") else [content]
    found: list[tuple[str, dict[str, Any]]] = []
    for number, block in enumerate(blocks, start=1):
        try:
            data = json.loads(block)
            problem = values.nesting_problem(data, limit=JSONLD_DEPTH)
        except RecursionError:
            problem = f"it is nested more than {JSONLD_DEPTH} levels deep"
        except json.JSONDecodeError as exc:
            where = f"script {number}" if len(blocks) > 1 or stripped.startswith("<") else \
                str(path)
            raise InvalidValue(f"{where}: not valid JSON ({exc.msg}, line {exc.lineno})") \
                from None
        if problem:
            where = f"script {number}" if stripped.startswith("<") else str(path)
            raise InvalidValue(f"{where}: {problem}")
        for item in _walk(data):
            found.append((f"review {len(found) + 1}", item))
    if not found:
        raise InvalidValue(f"{str(path)!r} holds no ClaimReview")
    return found


def _walk(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _walk(item)
    elif isinstance(data, dict):
        kinds = data.get("@type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if "ClaimReview" in kinds:
            yield data
        elif "@graph" in data:
            yield from _walk(data["@graph"])


def _name(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name")
    return value.strip() if isinstance(value, str) and value.strip() else None


def _day(value: Any) -> str | None:
    """A schema.org date or datetime as a partial date (YYYY, YYYY-MM or YYYY-MM-DD)."""
    if not isinstance(value, str) or not value.strip():
        return None
    match = re.match(r"^(\d{4}(?:-\d{2}(?:-\d{2})?)?)", value.strip())
    return match.group(1) if match else None


def rating_status(rating: Any) -> str:
    """The ledger status a reviewRating means (see `rate`)."""
    return rate(rating)[0]


def rate(rating: Any) -> tuple[str, str | None]:
    """The ledger status a reviewRating means, and a warning when it cannot be mapped.

    `alternateName` (or `name`) when it is a ledger status or a known verdict, else
    `ratingValue` placed on the 1-5 scale. A `ratingValue` that is not a finite number (NaN,
    Infinity, a boolean), or lies outside `worstRating`..`bestRating`, is refused even with a
    known label: the review is malformed. A rating with no known label and no number is
    `unverified`, with a warning saying why.
    """
    if not isinstance(rating, dict):
        raise InvalidValue("reviewRating must be a Rating object")
    label = rating.get("alternateName") or rating.get("name")
    place = _place(rating) if "ratingValue" in rating else None
    if isinstance(label, str):
        folded = " ".join(re.sub(r"[^a-z ]", " ", values.fold(label)).split())
        if folded.replace(" ", "-") in RATING_SCALE:
            return folded.replace(" ", "-"), None
        if folded in VERDICTS:
            return VERDICTS[folded], None
    if place is None:
        return "unverified", (f"the rating {label!r} is not a ledger status or a known verdict, "
                              "and there is no ratingValue to place it; imported as unverified")
    return ASSESSED[round(place * (len(ASSESSED) - 1))], None


def _place(rating: dict[str, Any]) -> float:
    """Where ratingValue lies from worstRating (0.0) to bestRating (1.0); refused if outside."""
    value = _finite(rating["ratingValue"], "ratingValue")
    best = _finite(rating.get("bestRating", BEST_RATING), "bestRating")
    worst = _finite(rating.get("worstRating", WORST_RATING), "worstRating")
    if best == worst:
        raise InvalidValue(f"bestRating and worstRating are both {best:g}: no scale to place "
                           f"ratingValue {rating['ratingValue']!r} on")
    if not min(worst, best) <= value <= max(worst, best):
        raise InvalidValue(f"ratingValue {rating['ratingValue']!r} is outside the review's scale "
                           f"(worstRating {worst:g} to bestRating {best:g})")
    return (value - worst) / (best - worst)


def _finite(raw: Any, name: str) -> float:
    number = None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        number = float(raw)
    elif isinstance(raw, str):
        try:
            number = float(raw.strip())
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        raise InvalidValue(f"{name} {raw!r} is not a finite number")
    return number


def review_records(session: Session, reviews: list[tuple[str, dict[str, Any]]], *,
                   warnings: list[str] | None = None) -> list[tuple[str, dict[str, Any]]]:
    """Bundle records (people, sources, claims) for the reviews, for `import_records`.

    A rating that cannot be mapped adds a warning (naming the review) to `warnings`.
    """
    from ledger.store.exchange import cited_without_quote, find_source_by_url

    records: list[tuple[str, dict[str, Any]]] = []
    people: set[str] = set()
    keys: dict[str, str] = {}  # url or headline -> source key
    taken: set[str] = {s.key for s in store.list_sources(session)}
    for where, review in reviews:
        statement = review.get("claimReviewed")
        if not isinstance(statement, str) or not statement.strip():
            raise InvalidValue(f"{where}: no claimReviewed (the statement)")
        try:
            status, warning = rate(review.get("reviewRating"))
        except InvalidValue as exc:
            raise InvalidValue(f"{where}: {exc}") from None
        if warning is not None and warnings is not None:
            warnings.append(f"{where}: {warning}")
        item = review.get("itemReviewed") if isinstance(review.get("itemReviewed"), dict) \
            else {}
        claimant = _name(item.get("author"))
        if claimant is None:
            raise InvalidValue(f"{where}: itemReviewed has no author; the ledger needs the "
                               "claimant to know whom the claim is about")
        if claimant not in people:
            people.add(claimant)
            author = item.get("author")
            kind = "organization" if isinstance(author, dict) and \
                author.get("@type") == "Organization" else "person"
            records.append((where, {"type": "person", "name": claimant, "kind": kind}))
        works = item.get("appearance") or []
        works = works if isinstance(works, list) else [works]
        if isinstance(item.get("firstAppearance"), dict):
            works = [item["firstAppearance"], *works]
        attributions = []
        for work in works:
            key = _work_source(session, work, where, records, keys, taken, find_source_by_url)
            if key and key not in [a["source"] for a in attributions] and not \
                    cited_without_quote(session, statement=statement, source_key=key):
                attributions.append({"source": key})
        claim = {"type": "claim", "statement": statement.strip(), "about": [claimant],
                 "claimant": claimant, "status": status, "attributions": attributions}
        records.append((where, claim))
    return records


def _work_source(session, work, where, records, keys, taken, find_by_url) -> str | None:
    if isinstance(work, str):
        work = {"url": work}
    if not isinstance(work, dict):
        return None
    url = work.get("url") if isinstance(work.get("url"), str) else None
    headline = _name(work.get("headline")) or _name(work.get("name"))
    handle = url or headline
    if handle is None:
        return None
    if handle in keys:
        return keys[handle]
    from ledger.store.exchange import find_source_by_title

    known = find_by_url(session, url) if url else find_source_by_title(session, headline)
    if known is not None:
        keys[handle] = known.key
        return known.key
    publisher = _name(work.get("publisher"))
    published = _day(work.get("datePublished"))
    key = shapes.next_free(shapes.derived_key(publisher=publisher, title=headline or "source",
                                              published=published), taken)
    taken.add(key)
    keys[handle] = key
    records.append((where, _prune({
        "type": "source", "key": key, "title": headline or url, "url": url,
        "publisher": publisher, "author": _name(work.get("author")), "published": published,
    })))
    return key
