"""Rendering that keeps untrusted text inert: Markdown filters, YAML scalars and HTML pages.

Every statement, quote, name and title in a dossier is untrusted: it was typed by a user or
copied from an article. It reaches Markdown only through :func:`md_inline` (the Jinja filter
``md``) and its relatives, which turn any string into a literal run of inline text, so it cannot
open a heading, a list, a link, an image, a table cell, an HTML tag or a comment. HTML pages are
then made from that Markdown by :func:`render_html`, with raw HTML off and links limited to
http, https, mailto and scheme-less relative references: by cmark-gfm (C, fast) brought to
exactly the HTML of :func:`markdown_parser` (markdown-it-py, the reference), or by the
reference itself for a document the fast path does not reproduce exactly.

What a reader sees of a value is exactly :func:`display_text` of it; the tests compare against
that function, so the transformation below is the contract:

* line breaks (LF, CR, CRLF, VT, FF, NEL, U+2028, U+2029) and tabs become one space each, because
  a value must stay inside its paragraph, list item or table cell;
* invisible characters become visible escapes such as ``<U+202E>``: C0 and C1 controls, lone
  surrogates, every format character (bidirectional overrides and isolates, zero-width space,
  word joiner, byte-order mark, soft hyphen, tag characters) and the blank Hangul fillers
  U+3164 and U+FFA0. They cannot inject markup, but a reversed or invisibly split name misleads
  a reader, and a fact-checker must be able to see that the source text contained them. Two
  exceptions keep real writing legible: ZWNJ and ZWJ (U+200C, U+200D) stay as they are when
  both neighbours are visible non-ASCII characters (Persian, Indic scripts, emoji sequences), and
  the prepended concatenation marks (U+0600..U+0605 and friends), which render as visible signs,
  are left alone;
* leading and trailing whitespace is removed, as Markdown would drop it anyway at the edge of a
  paragraph, heading or cell; inner runs of spaces are kept.

Nothing here prints or touches the database.
"""

from __future__ import annotations

import contextvars
import functools
import html
import importlib.resources
import json
import re
import unicodedata
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

import jinja2
import jinja2.ext
from jinja2 import nodes

if TYPE_CHECKING:  # markdown-it-py is imported where a parser is made: Markdown needs none
    from markdown_it import MarkdownIt
    from markdown_it.rules_core import StateCore
    from markdown_it.rules_inline import StateInline

__all__ = [
    "ALLOWED_SCHEMES",
    "display_text",
    "is_safe_link",
    "jinja_environment",
    "markdown_parser",
    "md_attrs",
    "md_inline",
    "md_link",
    "md_url",
    "render_html",
    "status_badge",
    "yaml_str",
]

#: URL schemes a link may use; anything else is shown as text, never linked.
ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})

# --------------------------------------------------------------------------------------------
# Text as it will be shown
# --------------------------------------------------------------------------------------------

_LINE_BREAK_RE = re.compile("\r\n|[\t\n\v\f\r\x85\u2028\u2029]")

_JOINERS = frozenset("\u200c\u200d")

# Format characters (category Cf) that render as visible signs rather than controlling text.
_PREPENDED_CONCATENATION_MARKS = frozenset(
    "\u0600\u0601\u0602\u0603\u0604\u0605\u06dd\u070f\u0890\u0891\u08e2\U000110bd\U000110cd"
)

# Letters that render as blank space and are a classic way to fake an "empty" or altered name.
_BLANK_LETTERS = frozenset("\u3164\uffa0")

# Unicode assigns format characters only in planes 0, 1 and 14 (tags); scanning just those
# keeps the one-time table build fast. Surrogates (D800-DFFF) fall inside plane 0.
_SCANNED_PLANES = (range(0x0000, 0x20000), range(0xE0000, 0xF0000))


def _is_invisible(char: str) -> bool:
    """True for a character :func:`display_text` shows as a ``<U+XXXX>`` escape (joiners aside)."""
    if char in _BLANK_LETTERS:
        return True
    if char in _PREPENDED_CONCATENATION_MARKS:
        return False
    return unicodedata.category(char) in ("Cc", "Cf", "Cs")


def _char_class(code_points: Sequence[int]) -> str:
    """A regex character class matching exactly ``code_points`` (sorted), as compact ranges."""
    parts: list[str] = []
    index = 0
    while index < len(code_points):
        start = end = code_points[index]
        while index + 1 < len(code_points) and code_points[index + 1] == end + 1:
            index += 1
            end = code_points[index]
        # \U escapes keep lone surrogates out of the pattern string itself.
        parts.append(f"\\U{start:08x}" if start == end else f"\\U{start:08x}-\\U{end:08x}")
        index += 1
    return "[" + "".join(parts) + "]"


# What the scan below finds, as ranges, for the Unicode version of Python 3.11's unicodedata:
# the scan costs 0.04 s, paid by every publish worker and every `ledger dossier`. Another
# version is scanned (a test holds the table to the scan).
_INVISIBLE_RANGES = {
    "14.0.0": (
        (0x0, 0x1F), (0x7F, 0x9F), (0xAD, 0xAD), (0x61C, 0x61C), (0x180E, 0x180E),
        (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x2064), (0x2066, 0x206F),
        (0x3164, 0x3164), (0xD800, 0xDFFF), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0),
        (0xFFF9, 0xFFFB), (0x13430, 0x13438), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
        (0xE0001, 0xE0001), (0xE0020, 0xE007F),
    ),
}


@functools.cache
def _invisible_code_points() -> tuple[int, ...]:
    """Every invisible code point, joiners included (they are decided by context)."""
    known = _INVISIBLE_RANGES.get(unicodedata.unidata_version)
    if known is None:
        return _scanned_invisible_code_points()
    return tuple(code for start, end in known for code in range(start, end + 1))


def _scanned_invisible_code_points() -> tuple[int, ...]:
    return tuple(code for plane in _SCANNED_PLANES for code in plane if _is_invisible(chr(code)))


@functools.cache
def _invisible_class() -> str:
    return _char_class(_invisible_code_points())


@functools.cache
def _show_invisible_table() -> dict[int, str]:
    # str.translate does the common case without a Python call per character; only the
    # joiners, which depend on their neighbours, go through a regex callback.
    return {
        code: f"<U+{code:04X}>" for code in _invisible_code_points() if chr(code) not in _JOINERS
    }


_JOINER_RE = re.compile("[\u200c\u200d]")


def _is_visible_non_ascii(char: str) -> bool:
    return ord(char) > 0x7F and not char.isspace() and not _is_invisible(char)


def _show_joiner(match: re.Match[str]) -> str:
    text, position = match.string, match.start()
    if (
        0 < position < len(text) - 1
        and _is_visible_non_ascii(text[position - 1])
        and _is_visible_non_ascii(text[position + 1])
    ):
        return match.group()
    return f"<U+{ord(match.group()):04X}>"


def display_text(text: str) -> str:
    """Return ``text`` as a reader will see it in a dossier (see the module docstring).

    Line breaks and tabs become single spaces, invisible and control characters become
    ``<U+XXXX>`` escapes, and outer whitespace is stripped. Every other character, including
    Markdown punctuation and inner runs of spaces, is kept exactly.

    >>> display_text("Han\\u202eDong\\n said ")
    'Han<U+202E>Dong  said'
    """
    folded = _LINE_BREAK_RE.sub(" ", text)
    # Joiners first: their context is the folded text, before any escape is inserted.
    if "\u200c" in folded or "\u200d" in folded:
        folded = _JOINER_RE.sub(_show_joiner, folded)
    return folded.translate(_show_invisible_table()).strip()


# --------------------------------------------------------------------------------------------
# Markdown filters
# --------------------------------------------------------------------------------------------

# What CommonMark and GFM would read as markup, wherever an inline value lands (paragraph,
# heading, list item, table cell, link label, emphasis): these characters anywhere, `!` and `^`
# before `[` (an image, an inline footnote) or at the end (a template's `[` may follow), `&`
# before what could be an entity.
# Everything else (`,` `;` `'` `(` `)` `.` `-` inside text) is never markup there and is left
# alone, so editors can read the Markdown in a diff. `~` is GFM's strikethrough.
_MD_ALWAYS = "`*_[]<>|~"
_MD_CONTEXT_RE = re.compile(r"[!^](?=\[|$)|&(?=#?[0-9A-Za-z]+;)")
# At the start of a value, which may be the start of a line: a list marker, heading, block
# quote, setext underline or attribute block (`{`), and an ordered-list number (`1.`, `2)`).
_MD_LINE_START_RE = re.compile(r"^(?:[-+#={]|\d+(?=[.)]))")
# A heading's closing sequence: a run of `#` at the end, after white space.
_MD_CLOSING_HASHES_RE = re.compile(r"(?<=\s)#+$")
# Values at most this long are cached: names, titles, labels and dates repeat on every page.
_CACHED_LENGTH = 400


def _as_text(value: object, filter_name: str) -> str:
    """Coerce a template value to text; None is a template bug, not something to print."""
    if value is None:
        raise TypeError(
            f"the {filter_name!r} filter got None; guard optional fields with {{% if %}}"
        )
    return value if isinstance(value, str) else str(value)


def _backslash_before(match: re.Match[str]) -> str:
    return "\\" + match.group()


def _escape_line_start(match: re.Match[str]) -> str:
    # Digits stay as they are; the `.` or `)` after them is what makes a list item.
    marker = match.group()
    return marker + "\\" if marker[0].isdigit() else "\\" + marker


def _escape_text(text: str) -> str:
    """md_inline of a string, uncached."""
    # isprintable() is false for every line break, tab, control, format character and lone
    # surrogate, and for all whitespace but the ASCII space; what it lets through that
    # display_text would still change is only the two blank letters. Such text shows as it is,
    # stripped.
    if text.isprintable() and (text.isascii() or _BLANK_LETTERS.isdisjoint(text)):
        escaped = text.strip()
    else:
        escaped = display_text(text)
    # Plain replaces for the characters escaped everywhere (a megabyte of `*` stays fast),
    # the backslash first so no inserted backslash is doubled; the contextual escapes look at
    # the unescaped `[` and so come before it is escaped.
    if "\\" in escaped:
        escaped = escaped.replace("\\", "\\\\")
    if "!" in escaped or "^" in escaped or "&" in escaped:
        escaped = _MD_CONTEXT_RE.sub(_backslash_before, escaped)
    for char in _MD_ALWAYS:
        if char in escaped:
            escaped = escaped.replace(char, "\\" + char)
    escaped = _MD_LINE_START_RE.sub(_escape_line_start, escaped, count=1)
    escaped = _MD_CLOSING_HASHES_RE.sub(_backslash_before, escaped, count=1)
    if escaped.endswith("\\\\"):
        # Every output backslash is half of an escape pair, so a trailing pair is the value's
        # own final backslash.
        escaped = escaped[:-2] + "&#92;"
    return escaped


_escape_cached = functools.lru_cache(maxsize=8192)(_escape_text)


def md_inline(value: object) -> str:
    """Return ``value`` as a literal inline run of CommonMark/GFM text (Jinja filter ``md``).

    The run renders as :func:`display_text` of the value, and it can add no block or inline
    structure wherever a template puts it (paragraph, heading, list item, table cell, link
    label). Only what CommonMark/GFM could read as markup is backslash-escaped: ``\\ ` * _ [ ]
    < > | ~`` anywhere, ``!`` and ``^`` before ``[`` or at the end, ``&`` before an entity, at
    the start ``- + # = {`` and the ``.`` or ``)`` after leading digits, and a heading's
    closing ``#`` run. Commas, apostrophes, parentheses, full stops and inner hyphens stay as
    written, so the Markdown reads like the text. Line breaks are folded first.

    One deviation from plain escaping: a trailing backslash is written as ``&#92;``. GFM splits
    table rows before inline parsing and treats any ``\\`` before ``|`` as escaping the pipe,
    so a value ending in ``\\\\`` placed right before a cell delimiter would swallow it.

    Non-string values are converted with ``str()``; None raises TypeError, because printing
    "None" in a dossier is always a template bug.

    >>> md_inline("# 1. <b>*x*</b> | Mr. Dong's (2023-03)")
    "\\\\# 1. \\\\<b\\\\>\\\\*x\\\\*\\\\</b\\\\> \\\\| Mr. Dong's (2023-03)"
    """
    # Exact type check: a str subclass could hash or compare in its own way in the cache.
    text = value if type(value) is str else _as_text(value, "md")
    if len(text) <= _CACHED_LENGTH and type(text) is str:
        return _escape_cached(text)
    return _escape_text(text)


_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_URL_TAB_OR_NEWLINE_RE = re.compile("[\t\n\r]")
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
_HTTP_AUTHORITY_RE = re.compile(r"//[^/?#\s]")
# Characters escaped with a backslash inside a <...> destination: they would end it, start an
# entity or start an escape.
_DEST_ESCAPES = {ord(char): "\\" + char for char in "\\<>&"}


@functools.cache
def _url_junk_re() -> re.Pattern[str]:
    """Whitespace plus every invisible character: what hides a scheme from a casual reader."""
    return re.compile(r"[\s" + _invisible_class()[1:])


@functools.cache
def _url_edges_re() -> re.Pattern[str]:
    junk = _url_junk_re().pattern
    return re.compile(f"^{junk}+|{junk}+$")


def _percent_encode_char(match: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in match.group().encode("utf-8"))


def md_url(url: str | None) -> str | None:
    """Return a Markdown link destination for ``url``, or None when it must not be linked.

    Only absolute http, https and mailto URLs are linked. The check is made as a browser would
    see the URL: ASCII tabs and newlines removed anywhere, whitespace, controls and invisible
    characters removed from both ends, the scheme compared case-insensitively. http(s) URLs also
    need an authority (``//host``). Everything else, including ``javascript:``, ``data:``,
    entity tricks such as ``javascript&colon;`` and relative references, gives None.

    The result goes between angle brackets, ``[label](<dest>)``: the scheme is lower-cased,
    inner whitespace and invisible characters are percent-encoded, and ``\\ < > &`` are
    backslash-escaped so Markdown hands the URL to the renderer unchanged.

    >>> md_url(" HTTPS://example.com/a b ")
    'https://example.com/a%20b'
    >>> md_url("java\\tscript:alert(1)") is None
    True
    """
    if not isinstance(url, str):
        return None
    cleaned = _url_edges_re().sub("", _URL_TAB_OR_NEWLINE_RE.sub("", url))
    match = _SCHEME_RE.match(cleaned)
    if match is None:
        return None
    scheme = match.group(1).lower()
    rest = cleaned[match.end() :]
    if scheme not in ALLOWED_SCHEMES or not rest:
        return None
    if scheme != "mailto" and not _HTTP_AUTHORITY_RE.match(rest):
        return None
    if _SURROGATE_RE.search(rest):
        return None  # a lone surrogate cannot be percent-encoded as UTF-8
    rest = _url_junk_re().sub(_percent_encode_char, rest)
    return f"{scheme}:{rest.translate(_DEST_ESCAPES)}"


def md_link(label: object, url: str | None) -> str:
    """Return a Markdown link to ``url`` labelled ``label`` (Jinja filter ``md_link``).

    Gives ``[label](<dest>)`` when :func:`md_url` accepts the URL; an empty label is replaced by
    the URL itself so no link is invisible. When the URL is refused, the label is followed by
    the URL as plain escaped text in parentheses, ``label (javascript:...)``, so the reader
    still sees what the source said; with no URL at all, just the label.

    >>> md_link("CBC", "https://cbc.ca/x")
    '[CBC](<https://cbc.ca/x>)'
    >>> md_link("CBC", "javascript:alert(1)")
    'CBC (javascript:alert(1))'
    """
    text = md_inline(label)
    shown_url = md_inline(url) if url else ""
    destination = md_url(url)
    if destination is None:
        if not shown_url:
            return text
        return f"{text} ({shown_url})" if text else shown_url
    return f"[{text or shown_url}](<{destination}>)"


_CSS_TOKEN_JUNK_RE = re.compile(r"[^a-z0-9-]+")


def status_badge(status: object, web: bool = False) -> str:
    """Markdown for a claim status (Jinja filter ``status_badge``).

    For HTML pages (``web``) a span with classes ``badge status-<status>``, which the
    stylesheet colours: ``[disputed]{.badge .status-disputed}``. The word itself stays the
    span's text, so the badge reads the same in print, without colour and to a screen reader.
    For Markdown files it is the word in bold.
    """
    if type(status) is str and type(web) is bool:
        return _status_badge_cached(status, web)  # a handful of statuses, on every page
    return _status_badge(status, web)


def _status_badge(status: object, web: bool) -> str:
    text = md_inline(_as_text(status, "status_badge"))
    if not web:
        return f"**{text}**"
    token = _CSS_TOKEN_JUNK_RE.sub("-", str(status).lower()).strip("-") or "unknown"
    return f"[{text}]{{.badge .status-{token}}}"


_status_badge_cached = functools.lru_cache(maxsize=256)(_status_badge)


def md_attrs(anchor: object, *classes: str) -> str:
    """An attribute block or span suffix, ``{#anchor .class}`` (Jinja filter ``attrs``).

    For the Markdown of HTML pages: on its own line before a block it gives that block an id
    (``{{ ("claim-" ~ a.id)|attrs("allegation") }}`` above a heading); right after a
    ``[text]`` span it marks the span up. An id or class that is not a plain token (letters,
    digits, ``-``, ``_``, starting with a letter) raises ValueError: these come from templates,
    never from user text.
    """
    parts = [f"#{anchor}"] if anchor else []
    parts += [f".{name}" for name in classes]
    for part in parts:
        if not _ATTRIBUTE_TOKEN_RE.fullmatch(part, 1):
            raise ValueError(f"not an HTML id or class: {part[1:]!r}")
    return "{" + " ".join(parts) + "}"


# --------------------------------------------------------------------------------------------
# YAML front matter
# --------------------------------------------------------------------------------------------

# Characters a JSON string may carry raw but YAML must not: DEL and C1 controls (not printable
# in YAML), NEL and U+2028/U+2029 (YAML 1.1 line breaks), BOM, non-characters and surrogates.
_YAML_UNSAFE_RE = re.compile(r"[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


def yaml_str(value: object) -> str:
    """Return ``value`` as a one-line YAML scalar for front matter (Jinja filter ``yaml_str``).

    Strings become double-quoted JSON strings, which YAML reads back exactly; characters YAML
    forbids or treats as line breaks are written as ``\\uXXXX`` escapes, so the scalar never
    spans lines and cannot close the front matter. None, booleans and integers are written as
    YAML null, true/false and numbers; anything else is quoted as ``str(value)``.

    >>> yaml_str('He said: "no"\\n---')
    '"He said: \\\\"no\\\\"\\\\n---"'
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    quoted = json.dumps(value if isinstance(value, str) else str(value), ensure_ascii=False)
    return _YAML_UNSAFE_RE.sub(lambda match: f"\\u{ord(match.group()):04x}", quoted)


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------


def is_safe_link(url: str) -> bool:
    """True when ``url`` may be an href: http, https, mailto, or a reference with no scheme.

    Relative references (``people/han-dong.html``, ``../sources/cbc.html``, ``#fn1``,
    ``//host/x``) are allowed because published pages link to each other. Anything that
    names another scheme is refused. The scheme is looked for after removing whitespace and
    invisible characters anywhere and after undoing percent-encoding and HTML entities
    (repeatedly), which is stricter than any browser, so no spelling of ``javascript:``,
    ``vbscript:`` or ``data:`` gets through.
    """
    probe = url
    for _ in range(5):
        match = _SCHEME_RE.match(_url_junk_re().sub("", probe))
        if match is not None and match.group(1).lower() not in ALLOWED_SCHEMES:
            return False
        decoded = html.unescape(_percent_decode(probe))
        if decoded == probe:
            return True
        probe = decoded
    return False  # still changing after five rounds of decoding: not a link we made


def _percent_decode(text: str) -> str:
    # Invalid UTF-8 is replaced rather than raised: we only look for a scheme.
    return unquote(text, errors="replace")


# A run of escape pairs and of characters that cannot start any inline rule (those are all
# ASCII punctuation or a newline). Possessive quantifiers: the run never needs backtracking,
# and without them the regex engine's bookkeeping made megabyte values slow.
_ESCAPED_RUN_RE = re.compile(r"(?:[^\n!-/:-@\[-`{-~]++|\\[!-/:-@\[-`{-~])++")


def _escaped_run(state: StateInline, silent: bool) -> bool:
    """Consume a run of backslash escapes as plain text in one step.

    Escaped values are mostly escape pairs, and the stock rule makes one token per pair: a
    megabyte of ``*`` took seconds. The result is the same text the stock rule produces after
    ``text_join``, so rendering is unchanged (a property test compares the two).
    """
    if state.src[state.pos] != "\\":
        return False
    match = _ESCAPED_RUN_RE.match(state.src, state.pos, state.posMax)
    if match is None:
        return False
    if not silent:
        # Inside the run every backslash opens a pair, so a left-to-right replace finds exactly
        # the escaped backslashes. NUL is a safe placeholder: markdown-it has already replaced
        # every NUL in the source with U+FFFD.
        text = match.group().replace("\\\\", "\0").replace("\\", "").replace("\0", "\\")
        # append_pending (markdown-it-py 4) keeps long alternations of text and escapes linear;
        # `pending +=` on an attribute copies the whole buffer each time.
        append_pending = getattr(state, "append_pending", None)
        if append_pending is not None:
            append_pending(text)
        else:  # pragma: no cover - markdown-it-py < 4
            state.pending += text
    state.pos = match.end()
    return True


def _rewrite_md_href(href: str) -> str:
    """``page.md#x`` -> ``page.html#x`` for relative links; other hrefs are returned unchanged."""
    if _SCHEME_RE.match(href) or href.startswith("//"):
        return href
    cut = min((i for i in (href.find("?"), href.find("#")) if i >= 0), default=len(href))
    path, tail = href[:cut], href[cut:]
    stem = path[:-3]
    if path[-3:].lower() != ".md" or stem in ("", ".", "..") or stem.endswith("/"):
        return href
    return stem + ".html" + tail


def _relative_md_links_to_html(state: StateCore) -> None:
    # A token pass, not a regex over HTML: only real link hrefs are touched.
    for token in state.tokens:
        for child in token.children or ():
            if child.type == "link_open":
                href = child.attrGet("href")
                if isinstance(href, str):
                    child.attrSet("href", _rewrite_md_href(href))


# Attribute blocks and spans (`{#claim-1 .allegation}`, `[disputed]{.badge}`) may set only an
# id or classes, and only these spellings: templates use them for anchors and badges, and
# nothing else (style, URLs, event handlers) can be set from Markdown.
_ATTRIBUTE_VALUE_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]*(?: [A-Za-z][A-Za-z0-9_-]*)*")
_ATTRIBUTE_TOKEN_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def _only_safe_attributes(state: StateCore) -> None:
    for token in state.tokens:
        for item in (token, *(token.children or ())):
            for name in ("id", "class"):
                value = item.attrs.get(name)
                if value is not None and not _ATTRIBUTE_VALUE_RE.fullmatch(str(value)):
                    del item.attrs[name]


def _table_labels(state: StateCore) -> None:
    """Give each body cell its column's header text as `data-label`.

    On a narrow screen the stylesheet lays each row out as a stacked list, every cell under
    its label, so a table never needs a horizontal scroll.
    """
    labels: list[str] = []
    column = 0
    in_head = False
    for index, token in enumerate(state.tokens):
        if token.type == "thead_open":
            labels, in_head = [], True
        elif token.type == "thead_close":
            in_head = False
        elif token.type == "tr_open":
            column = 0
        elif token.type == "th_open" and in_head:
            inline = state.tokens[index + 1]
            labels.append(_plain_text(inline))
        elif token.type == "td_open":
            if column < len(labels) and labels[column]:
                token.attrSet("data-label", labels[column])
            column += 1


def _plain_text(token) -> str:
    return "".join(child.content for child in token.children or ()
                   if child.type in ("text", "code_inline"))


def _footnote_name(tokens, idx: int) -> str:
    """A footnote's anchor: `source-<label>` for a numeric label (the templates label a
    source's footnote with the source's id, so its anchor is the same on every page)."""
    meta = tokens[idx].meta
    label = meta.get("label")
    if isinstance(label, str) and label.isdigit():
        return f"source-{label}"
    return f"fn{meta['id'] + 1}"


def _footnote_caption(self, tokens, idx: int, options, env) -> str:
    # One number per source, however often it is cited (the stock caption says "[2:1]").
    return f"[{tokens[idx].meta['id'] + 1}]"


def _footnote_ref(self, tokens, idx: int, options, env) -> str:
    name = _footnote_name(tokens, idx)
    sub = tokens[idx].meta.get("subId", -1)
    ref = f"cite-{name}" + (f"-{sub}" if sub > 0 else "")
    caption = _footnote_caption(self, tokens, idx, options, env)
    return (f'<sup class="footnote-ref"><a href="#{name}" id="{ref}">{caption}</a></sup>')


def _footnote_open(self, tokens, idx: int, options, env) -> str:
    return f'<li id="{_footnote_name(tokens, idx)}" class="footnote-item">'


def _footnote_anchor(self, tokens, idx: int, options, env) -> str:
    # One link back, to the first citation: a source cited twenty times would otherwise end
    # with twenty arrows.
    if tokens[idx].meta.get("subId", -1) > 0:
        return ""
    name = _footnote_name(tokens, idx)
    return (f' <a href="#cite-{name}" class="footnote-backref" '
            'aria-label="Back to the first citation">\u21a9\ufe0e</a>')


def markdown_parser() -> MarkdownIt:
    """Return a new MarkdownIt configured as dossiers are rendered.

    CommonMark with raw HTML and linkify off, GFM tables and strikethrough, footnotes (their
    anchors ``source-<label>`` for numeric labels, one caption number per note), front matter
    (parsed, then dropped from HTML), attribute blocks and spans limited to ``id`` and
    ``class`` (for anchors and badges), table cells labelled with their column header,
    :func:`is_safe_link` as the link validator, relative ``*.md`` links rewritten to
    ``*.html``, and an inline rule that reads a run of backslash escapes in one step (same
    output as the stock rule, linear time on megabyte values).
    """
    from markdown_it import MarkdownIt
    from mdit_py_plugins.attrs import attrs_block_plugin, attrs_plugin
    from mdit_py_plugins.footnote import footnote_plugin
    from mdit_py_plugins.front_matter import front_matter_plugin

    parser = (
        MarkdownIt("commonmark", {"html": False, "linkify": False})
        .enable(["table", "strikethrough"])
        .use(footnote_plugin)
        .use(front_matter_plugin)
        .use(attrs_block_plugin, allowed=("id", "class"))
        .use(attrs_plugin, spans=True, after=("span_close",), allowed=("id", "class"))
    )
    parser.validateLink = is_safe_link  # type: ignore[method-assign]
    parser.inline.ruler.before("escape", "escaped_run", _escaped_run)
    parser.core.ruler.push("relative_md_links_to_html", _relative_md_links_to_html)
    parser.core.ruler.push("only_safe_attributes", _only_safe_attributes)
    parser.core.ruler.push("table_labels", _table_labels)
    parser.add_render_rule("front_matter", lambda *_args: "")
    parser.add_render_rule("footnote_ref", _footnote_ref)
    parser.add_render_rule("footnote_open", _footnote_open)
    parser.add_render_rule("footnote_anchor", _footnote_anchor)
    parser.add_render_rule("footnote_caption", _footnote_caption)
    return parser


@functools.cache
def _html_parser() -> MarkdownIt:
    return markdown_parser()


# --------------------------------------------------------------------------------------------
# The fast path: cmark-gfm
# --------------------------------------------------------------------------------------------
#
# markdown-it-py parses dossiers at about 0.27 MB/s; GitHub's cmark-gfm (C, through
# `cmarkgfm`) is 15-20x faster. The HTML is still made from the same Markdown (the same
# templates, a user's overrides included), and the rules that make it safe stay the
# project's own: a document is rendered by cmark-gfm and then brought to exactly the HTML
# :func:`markdown_parser` gives (attribute blocks and spans, footnote anchors, table labels,
# `.md` links, :func:`is_safe_link`). Anything that path does not reproduce exactly (raw HTML,
# images, an unsafe link, attributes or footnotes written other than as the shipped
# templates write them) makes :func:`_cmark_body` return None, and the document is rendered
# by markdown-it-py, the reference. Untrusted text never reaches this choice as markup: every
# value is escaped by :func:`md_inline` first, so in the fast path's output every tag is one
# the renderer made, and the rewrites below match tags, never text.

# Marks standing in for attribute blocks and spans while cmark-gfm renders (private-use
# characters: a document that already contains one is rendered by markdown-it-py).
_BLOCK_MARK, _SPAN_OPEN, _SPAN_CLOSE = "\ue000", "\ue001", "\ue002"
_ATTR_PART = r"[#.][A-Za-z][A-Za-z0-9_-]*"
_ATTRS = rf"\{{({_ATTR_PART}(?: {_ATTR_PART})*)\}}"
# An attribute block as `md_attrs` writes it: its own line, after a blank line (or at the
# start), right before an ATX heading.
# The `{` comes first, so the engine looks only at braces (a leading lookbehind made it try
# every position: 1.1 s of 300 dossiers, now 0.04 s).
_ATTR_BLOCK_RE = re.compile(
    rf"\{{(?:(?<=\n\n\{{)|(?<![\s\S]\{{))({_ATTR_PART}(?: {_ATTR_PART})*)\}}\n(?=#{{1,6}} )"
)
# An attribute span `[text]{.badge}`: an unescaped `[`, text with no unescaped markup (only
# backslash escapes and characters that start no inline rule), and no emphasis delimiter
# right outside it (the marks would change how a delimiter run flanks). Possessive: the two
# alternatives never overlap, so the run needs no backtracking.
_ATTR_SPAN_RE = re.compile(
    rf"(?<![\\*_~])\[((?:[^\\\[\]\n!&*<>^_`|~]++|\\[!-/:-@\[-`{{-~])*+)\]{_ATTRS}(?![*_~])"
)
# What markdown-it-py would read as attributes and the marks above did not replace: a `{` that
# starts a line (after any indentation, quote or list markers), or `]{` after an unescaped `]`.
# Looked for from each `{` (a search from every line start scanned the whole page).
_ATTR_LEFT_LINE_RE = re.compile(r"(?:[ \t]*(?:>|[-+*]|\d{1,9}[.)]))*[ \t]*\{")
_ATTR_LEFT_BRACKET_RE = re.compile(r"\](?<!\\\])\{")
_FRONT_OPEN_RE = re.compile(r"---[ \t]*\n")
_FRONT_CLOSE_RE = re.compile(r"(?m)^(?: {0,3}-{3,}[ \t]*|\.\.\.[ \t]*)$")
_NEWLINES_RE = re.compile(r"\r\n?")

_BLOCK_ATTRS_RE = re.compile("<p>" + _BLOCK_MARK + r"(\d+)" + _BLOCK_MARK + r"</p>\n<(h[1-6])>")
_SPAN_OPEN_RE = re.compile(_SPAN_OPEN + r"(\d+)" + _SPAN_OPEN)
# A fragment (`#claim-1`) is kept exactly as cmark-gfm wrote it (see _converted_href), so
# only other hrefs are matched: a third of a dossier's links never reach the callback.
_HREF_RE = re.compile(r'<a href="([^"#][^"]*|)"')
# An href spelt only with these is written as it is (see _converted_href); `//` starts a host.
_PLAIN_HREF_RE = re.compile(r"[A-Za-z0-9._~/#-]+")
_TABLE_RE = re.compile(r"<table>\n(.*?)</table>", re.S)
_CELL_RE = re.compile(
    r'<(t[hd])(?: style="text-align: (left|center|right)")?>(.*?)</t[hd]>'
    r"|<tr>",
    re.S,
)
_TAG_RE = re.compile(r"<[^>]*>")
_FOOTNOTE_REF_RE = re.compile(
    r'<sup class="footnote-ref"><a href="#fn-([^"]*)" id="fnref-[^"]*?(?:-(\d+))?" '
    r"data-footnote-ref>(\d+)</a></sup>"
)
# A reference whose label is not ASCII digits (then the callback path decides).
_FOOTNOTE_ODD_REF_RE = re.compile(r'<sup class="footnote-ref"><a href="#fn-(?![0-9]+")')
_FOOTNOTE_REPEAT_RE = re.compile(r'id="cite-source-([0-9]+)-([0-9]+)" data-footnote-ref>')
_FOOTNOTE_SECTION = '<section class="footnotes" data-footnotes>\n<ol>\n'
_FOOTNOTE_ITEM_RE = re.compile(
    r'<li id="fn-([^"]*)">\n<p>((?:(?!</p>)[\s\S])*?)(?: <a href="#fnref-[^"]*" '
    r'class="footnote-backref"[^>]*>↩(?:<sup class="footnote-ref">\d+</sup>)?</a>)+</p>\n</li>'
)


@functools.cache
def _cmark():
    """cmark-gfm's library, the table and strikethrough extensions, the options, and the two
    functions `cmarkgfm` does not bind (so its own wrapper leaks every document): freeing the
    parsed tree and the rendered string."""
    import ctypes

    from cmarkgfm import _cmark as binding

    lib = binding.lib
    lib.cmark_gfm_core_extensions_ensure_registered()
    extensions = [lib.cmark_find_syntax_extension(name) for name in (b"table", b"strikethrough")]
    options = (
        lib.CMARK_OPT_FOOTNOTES
        | lib.CMARK_OPT_STRIKETHROUGH_DOUBLE_TILDE
        | lib.CMARK_OPT_TABLE_PREFER_STYLE_ATTRIBUTES
    )
    node_free = ctypes.CDLL(binding.__file__).cmark_node_free
    node_free.argtypes, node_free.restype = [ctypes.c_void_p], None
    # cmark's default allocator is the C library's calloc and realloc.
    free = ctypes.CDLL(None).free
    free.argtypes, free.restype = [ctypes.c_void_p], None
    return binding.ffi, lib, extensions, options, node_free, free


def _cmark_render(data: bytes) -> str:
    """cmark-gfm's HTML for UTF-8 Markdown, with footnotes, tables and `~~` strikethrough."""
    ffi, lib, extensions, options, node_free, free = _cmark()
    parser = lib.cmark_parser_new(options)
    try:
        for extension in extensions:
            lib.cmark_parser_attach_syntax_extension(parser, extension)
        lib.cmark_parser_feed(parser, data, len(data))
        root = lib.cmark_parser_finish(parser)
        try:
            rendered = lib.cmark_render_html(
                root, options, lib.cmark_parser_get_syntax_extensions(parser)
            )
        finally:
            node_free(int(ffi.cast("uintptr_t", root)))
        try:
            return ffi.string(rendered).decode("utf-8")
        finally:
            free(int(ffi.cast("uintptr_t", rendered)))
    finally:
        lib.cmark_parser_free(parser)


def _attributes_left(text: str) -> bool:
    """True if markdown-it-py would read attributes in `text`: a `{` that starts a line
    (after any indentation, quote or list markers), or `]{` after an unescaped `]`."""
    if _ATTR_LEFT_BRACKET_RE.search(text):
        return True
    brace = text.find("{")
    while brace >= 0:  # each line with a brace, once (linear, however many braces)
        if _ATTR_LEFT_LINE_RE.match(text, text.rfind("\n", 0, brace) + 1):
            return True
        end = text.find("\n", brace)
        brace = -1 if end < 0 else text.find("{", end)
    return False


def _has_marks(text: str) -> bool:
    # Three substring searches in C; `frozenset.isdisjoint` hashes every character.
    return _BLOCK_MARK in text or _SPAN_OPEN in text or _SPAN_CLOSE in text


@functools.lru_cache(maxsize=65_536)
def _attributes(spec: str) -> str | None:
    """` id="x" class="a b"` for `#x .a .b` (in markdown-it-py's order), or None if the
    attributes are not ones markdown-it-py's plugin would give the same way."""
    values: dict[str, str] = {}
    for part in spec.split(" "):
        if part[0] == "#":
            if "id" in values:
                return None
            values["id"] = part[1:]
        else:
            values["class"] = f"{values['class']} {part[1:]}" if "class" in values else part[1:]
    return "".join(f' {name}="{value}"' for name, value in values.items())


def _spans(text: str, span) -> str:
    """`_ATTR_SPAN_RE.sub(span, text)`, run only on the lines that hold a `]{`. A span never
    crosses a line (its text and attributes hold no newline) and its lookarounds read the
    same at a line's edge as at the newline beside it, so each line's matches, in order, are
    the page's: the search no longer starts at every `[` of the other lines' links (0.7-0.9 s
    -> 0.5-0.6 s over the 1,602 bodies of the benchmark ledger)."""
    found = text.find("]{")
    if found < 0:
        return text
    parts: list[str] = []
    done = 0
    while found >= 0:
        # A run of lines that each hold a `]{` (a table's rows) is searched in one call.
        start = text.rfind("\n", 0, found) + 1
        end = text.find("\n", found)
        while end >= 0:
            found = text.find("]{", end)
            if found < 0 or text.rfind("\n", 0, found) != end:
                break
            end = text.find("\n", found)
        else:
            found = -1
        if end < 0:
            end = len(text)
        parts.append(text[done:start])
        parts.append(_ATTR_SPAN_RE.sub(span, text[start:end]))
        done = end
    parts.append(text[done:])
    return "".join(parts)


def _cmark_body(markdown: str) -> str | None:
    """The HTML body :func:`markdown_parser` renders for ``markdown``, made with cmark-gfm;
    None when this document needs markdown-it-py (see the section comment)."""
    if _has_marks(markdown):
        return None
    text = _NEWLINES_RE.sub("\n", markdown)
    if text.startswith("-"):
        opening = _FRONT_OPEN_RE.match(text)
        closing = _FRONT_CLOSE_RE.search(text, opening.end()) if opening else None
        if closing is None:
            return None
        text = text[closing.end() + 1 :].lstrip("\n")
    attributes: list[str] = []

    def span(match: re.Match[str]) -> str:
        attributes.append(match.group(2))
        return f"{_SPAN_OPEN}{len(attributes) - 1}{_SPAN_OPEN}{match.group(1)}{_SPAN_CLOSE}"

    if "{" in text:
        # The blocks found by a split (in C) and each replaced by its mark: no callback and
        # match object per block (one per allegation).
        parts = _ATTR_BLOCK_RE.split(text)
        if len(parts) > 1:
            attributes += parts[1::2]
            parts[1::2] = [f"{_BLOCK_MARK}{index}{_BLOCK_MARK}\n\n"
                           for index in range(len(parts) // 2)]
            text = "".join(parts)
        text = _spans(text, span)
        if _attributes_left(text):
            return None
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: markdown-it-py keeps it as it is
        return None
    page = _cmark_render(data)
    if "<!--" in page or "<img" in page:
        return None  # raw HTML (markdown-it-py shows it as text) or an image
    converted = [_attributes(spec) for spec in attributes]
    if None in converted:
        return None
    if attributes:
        # Each block's heading given its attributes, the same way: split at the marks.
        parts = _BLOCK_ATTRS_RE.split(page)
        for index in range(1, len(parts), 3):
            parts[index] = f"<{parts[index + 1]}{converted[int(parts[index])]}>"
            parts[index + 1] = ""
        page = "".join(parts)
        # Split at the marks (in C) and put each span's start back: no callback per span.
        parts = _SPAN_OPEN_RE.split(page)
        parts[1::2] = [f"<span{converted[int(index)]}>" for index in parts[1::2]]
        page = "".join(parts)
        page = page.replace(_SPAN_CLOSE, "</span>")
        if _has_marks(page):
            return None
    if "<del>" in page:
        page = page.replace("<del>", "<s>").replace("</del>", "</s>")
    if 'class="footnote' in page:
        page = _footnotes(page)
        if page is None:
            return None
    page = _links(page)
    if page is not None and "<table>" in page:
        page = _TABLE_RE.sub(_labelled_table, page)
    return page


def _renumbered_repeats(page: str) -> str:
    """`id="cite-source-<label>-<n>" data-footnote-ref>` with n one less: cmark-gfm numbers a
    note's repeated citations from 2, markdown-it-py from 1. Split at them (in C), so no
    callback and match object per citation."""
    parts = _FOOTNOTE_REPEAT_RE.split(page)
    for index in range(1, len(parts), 3):
        parts[index] = (
            f'id="cite-source-{parts[index]}-{int(parts[index + 1]) - 1}" data-footnote-ref>'
        )
        parts[index + 1] = ""
    return "".join(parts)


def _footnotes(page: str) -> str | None:
    """cmark-gfm's footnotes as markdown-it-py's with the project's anchors: `source-<id>`,
    one caption number per note, one link back to the first citation."""
    unnumbered = False

    def ref(match: re.Match[str]) -> str:
        nonlocal unnumbered
        label, repeat, number = match.groups()
        unnumbered |= not label.isdigit()
        name = f"source-{label}"
        suffix = f"-{int(repeat) - 1}" if repeat else ""
        return (
            f'<sup class="footnote-ref"><a href="#{name}" id="cite-{name}{suffix}">'
            f"[{number}]</a></sup>"
        )

    def item(match: re.Match[str]) -> str:
        nonlocal unnumbered
        label, content = match.groups()
        unnumbered |= not label.isdigit()
        name = f"source-{label}"
        return (
            f'<li id="{name}" class="footnote-item"><p>{content} <a href="#cite-{name}" '
            'class="footnote-backref" aria-label="Back to the first citation">'
            "\u21a9\ufe0e</a></p>\n</li>"
        )

    if _FOOTNOTE_ODD_REF_RE.search(page):
        page = _FOOTNOTE_REF_RE.sub(ref, page)
    else:
        # Every label is ASCII digits, so cmark-gfm wrote each reference exactly as
        # _FOOTNOTE_REF_RE reads it, and its parts can be respelled by plain replaces (a raw
        # `<` never comes from text; `</a></sup>` ends only a reference); only a repeated
        # citation's number needs a callback. Same result as the regex, per reference.
        page = page.replace(
            '<sup class="footnote-ref"><a href="#fn-', '<sup class="footnote-ref"><a href="#source-'
        ).replace('" id="fnref-', '" id="cite-source-')
        page = _renumbered_repeats(page)
        page = page.replace('" data-footnote-ref>', '">[').replace("</a></sup>", "]</a></sup>")
    head, found, tail = page.partition(_FOOTNOTE_SECTION)
    if found:
        tail = _FOOTNOTE_ITEM_RE.sub(item, tail)
        page = (
            f'{head}<hr class="footnotes-sep" />\n<section class="footnotes">\n'
            f'<ol class="footnotes-list">\n{tail}'
        )
    if unnumbered or 'id="fn-' in page or "data-footnote" in page:
        return None
    return page


def _links(page: str) -> str | None:
    """Every href checked with :func:`is_safe_link` (None if one fails: markdown-it-py then
    leaves that link as text), relative `.md` links made `.html`, in markdown-it-py's
    spelling of the URL."""
    # The page split at its links (in C), each distinct href converted once, and the links
    # put back by a list lookup: the regex substitution's result without a Python callback
    # and a match object per link (325,000 links, 1,300 distinct, on a 10k-claim site).
    parts = _HREF_RE.split(page)
    if len(parts) == 1:
        return page
    values = parts[1::2]
    converted = {value: _converted_href(value) for value in set(values)}
    if None in converted.values():
        return None
    parts[1::2] = [converted[value] for value in values]
    return "".join(parts)


@functools.lru_cache(maxsize=65_536)
def _converted_href(value: str) -> str | None:
    """`<a href="...">`'s start as markdown-it-py writes it for cmark-gfm's escaped `value`,
    or None for a link it would leave as text. Cached: a dossier links the same few pages
    hundreds of times (on a 10k-claim site, 1,300 distinct hrefs of 325,000)."""
    if _PLAIN_HREF_RE.fullmatch(value) and not value.startswith("//"):
        # A link between the site's own pages (`../sources/cbc-dong.md#claim-3`): no entity,
        # no percent escape, no scheme, nothing normalizeLink encodes or escaping changes.
        # The site's own links are most of a publish's distinct hrefs (24,000 on LIAR).
        return f'<a href="{_rewrite_md_href(value)}"'
    return _normalized_href(value)


def _normalized_href(value: str) -> str | None:
    """:func:`_converted_href` for any `value`: unescaped, checked, normalized, escaped."""
    from markdown_it.common.normalize_url import normalizeLink

    url = html.unescape(value)
    if url.startswith("#"):
        return f'<a href="{value}"'
    if not url or not is_safe_link(url):
        return None
    return f'<a href="{_escape_attribute(normalizeLink(_rewrite_md_href(url)))}"'


def _escape_attribute(value: str) -> str:
    # markdown-it-py's escapeHtml: & < > " (not html.escape's ').
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _render_body(markdown: str) -> str:
    """The HTML of a Markdown document: cmark-gfm's fast path, else markdown-it-py."""
    body = _cmark_body(markdown)
    return _html_parser().render(markdown) if body is None else body


_HEADER_CELL_RE = re.compile(r"<th>(.*?)</th>", re.S)


def _labelled_table(match: re.Match[str]) -> str:
    """A table with each body cell labelled with its column's header text (`data-label`),
    and alignment spelled as markdown-it-py spells it."""
    inner = match.group(1)
    head, found, body = inner.partition("</thead>")
    if found and 'style="' not in inner:
        # No alignment, so every cell opens as a bare `<td>` (text never holds a raw `<`):
        # each row's cells are labelled in one join, not one regex callback per cell.
        tags = [
            f'<td data-label="{_escape_attribute(label)}">' if label else "<td>"
            for label in (
                html.unescape(_TAG_RE.sub("", cell)) for cell in _HEADER_CELL_RE.findall(head)
            )
        ]
        rows = body.split("<tr>")
        for index in range(1, len(rows)):
            cells = rows[index].split("<td>")
            if len(cells) > 1:
                rows[index] = cells[0] + "".join(
                    (tags[column] if column < len(tags) else "<td>") + cell
                    for column, cell in enumerate(cells[1:])
                )
        return f"<table>\n{head}</thead>{'<tr>'.join(rows)}</table>"
    labels: list[str] = []
    column = 0

    def cell(found: re.Match[str]) -> str:
        nonlocal column
        tag, align, content = found.groups()
        if tag is None:  # <tr>
            column = 0
            return found.group()
        style = f' style="text-align:{align}"' if align else ""
        label = ""
        if tag == "th":
            labels.append(html.unescape(_TAG_RE.sub("", content)))
        else:
            if column < len(labels) and labels[column]:
                label = f' data-label="{_escape_attribute(labels[column])}"'
            column += 1
        return f"<{tag}{style}{label}>{content}</{tag}>"

    return "<table>\n" + _CELL_RE.sub(cell, match.group(1)) + "</table>"


_LANG_RE = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")


def render_html(
    markdown: str,
    *,
    title: str,
    stylesheet: str | None = None,
    lang: str = "en",
    nav: Sequence[tuple[str, str]] = (),
    site: str | None = None,
    footer: str | None = None,
) -> str:
    """Render a Markdown document (a dossier) as a complete, deterministic HTML5 page.

    ``title`` is shown as :func:`display_text` of it and escaped. ``stylesheet`` is an href
    for a ``<link rel="stylesheet">``; it must pass :func:`is_safe_link`, else ValueError.
    ``lang`` must look like a language tag (``en``, ``fr-CA``), else ValueError. Front matter
    is not part of the body.

    ``site`` (the masthead's name) and ``nav`` (label and href pairs, ``*.md`` hrefs rewritten
    to ``*.html``) make a ``<header>`` with the site's navigation; ``footer`` is Markdown for
    a ``<footer>`` after the page's main content (the verification anchor). Labels are shown
    as text; an href that fails :func:`is_safe_link` raises ValueError.

    >>> page = render_html("# Han Dong", title="Han Dong")
    >>> "<h1>Han Dong</h1>" in page
    True
    """
    if not _LANG_RE.fullmatch(lang):
        raise ValueError(f"not a language tag: {lang!r}")
    head = [
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(display_text(title))}</title>",
    ]
    if stylesheet is not None:
        if not stylesheet.strip() or not is_safe_link(stylesheet):
            raise ValueError(f"not a stylesheet link: {stylesheet!r}")
        head.append(f'<link rel="stylesheet" href="{html.escape(stylesheet, quote=True)}">')
    masthead = (_masthead(site, tuple(tuple(link) for link in nav))
                if site is not None or nav else ())
    body = _render_body(markdown).strip("\n")
    closing = []
    if footer is not None:
        closing = ['<footer class="page-footer">', _footer_body(footer), "</footer>"]
    lines = [
        "<!doctype html>",
        f'<html lang="{lang}">',
        "<head>",
        *head,
        "</head>",
        "<body>",
        *masthead,
        "<main>",
        *([body] if body else []),
        "</main>",
        *closing,
        "</body>",
        "</html>",
    ]
    return "\n".join(lines) + "\n"


@functools.lru_cache(maxsize=16)
def _footer_body(footer: str) -> str:
    # A publish's pages share a few footers (one per checkpoint line): each made once.
    return _render_body(footer).rstrip("\n")


@functools.lru_cache(maxsize=64)
def _masthead(site: str | None, nav: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    # A site's pages share a masthead for each folder depth: each made once.
    lines = ['<header class="masthead">']
    if site is not None:
        lines.append(f'<p class="site-name">{html.escape(display_text(site))}</p>')
    if nav:
        links = []
        for label, href in nav:
            if not href.strip() or not is_safe_link(href):
                raise ValueError(f"not a navigation link: {href!r}")
            target = html.escape(_rewrite_md_href(href), quote=True)
            links.append(f'<li><a href="{target}">{html.escape(display_text(label))}</a></li>')
        lines += ['<nav aria-label="Site">', "<ul>", *links, "</ul>", "</nav>"]
    lines.append("</header>")
    return tuple(lines)


# --------------------------------------------------------------------------------------------
# Jinja
# --------------------------------------------------------------------------------------------


def _shipped_templates_loader() -> jinja2.BaseLoader:
    """Loader for the templates shipped as ``ledger.templates``.

    Installed, they are the package ``ledger.templates``; in a development tree that is not
    installed, the same files sit in the repository's top-level ``templates/`` directory.
    """
    try:
        root = importlib.resources.files("ledger.templates")
    except ModuleNotFoundError:
        return jinja2.FileSystemLoader(Path(__file__).resolve().parent.parent / "templates")
    if isinstance(root, Path):
        return jinja2.FileSystemLoader(root)
    return jinja2.PackageLoader("ledger.templates", ".")  # e.g. installed from a zip


# Bump when the templates compile differently with the same source (an extension's tag
# changes what it calls): the compiled templates on disk are kept by source alone.
_COMPILE_VERSION = "1"


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Jinja's own cache of compiled templates: compiling the dossier templates was a quarter
    of `ledger dossier` (0.25 s a process). Jinja keeps it in a folder of this user's under
    the temporary directory, made private (0700) and checked to be theirs; an entry is used
    only while its template's source is unchanged, and only by the compiler it was made with
    (`_COMPILE_VERSION`). None where that folder cannot be made."""
    try:
        return jinja2.FileSystemBytecodeCache(
            pattern=f"__jinja2_ledger{_COMPILE_VERSION}_%s.cache")
    except (OSError, RuntimeError):
        return None


class Fragments:
    """The text of a template's page-independent fragments (`{% once key %}`), rendered once
    per publish and reused by every page that shows them: an allegation is on the dossier of
    each of its people, the same text each time.

    A publish makes one and passes it to its templates as `ledger_fragments`, only while the
    templates in effect are the shipped ones (an override could make a fragment read the
    page). Keyed by the template, the fragment's key, the environment (Markdown, or the dual
    one of an HTML publish) and `web`; bounded to `limit` characters, the least recently used
    dropped first. One per process: a forked worker fills its own."""

    def __init__(self, limit: int = 32_000_000) -> None:
        from collections import OrderedDict

        self.limit = limit
        self.size = 0
        self.hits = 0
        self._texts: OrderedDict[tuple, tuple[str, int]] = OrderedDict()

    def get(self, key: tuple) -> tuple[str, int] | None:
        found = self._texts.get(key)
        if found is not None:
            self._texts.move_to_end(key)
            self.hits += 1
        return found

    def put(self, key: tuple, text: str, marks: int) -> None:
        if len(text) > self.limit:
            return
        old = self._texts.pop(key, None)
        if old is not None:
            self.size -= len(old[0])
        self._texts[key] = (text, marks)
        self.size += len(text)
        while self.size > self.limit:
            _key, (dropped, _marks) = self._texts.popitem(last=False)
            self.size -= len(dropped)

    def __len__(self) -> int:
        return len(self._texts)


class OnceExtension(jinja2.ext.Extension):
    """`{% once key %}...{% endonce %}`: the body's text, rendered once per `key` and reused,
    when the render's context holds a `Fragments` as `ledger_fragments` (a publish with the
    shipped templates); otherwise rendered each time, like any other text. The body may
    hold blocks and includes; it must depend only on what `key` names."""

    tags = frozenset({"once"})

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        key = parser.parse_expression()
        body = parser.parse_statements(("name:endonce",), drop_needle=True)
        # The template's name is part of the key: `{% once 5 %}` in two templates are two.
        call = self.call_method("_fragment",
                                [nodes.ContextReference(), nodes.Const(parser.name), key])
        return nodes.CallBlock(call, [], [], body).set_lineno(lineno)

    @staticmethod
    def _fragment(context, template: str | None, key, caller) -> str:
        fragments = context.get("ledger_fragments")
        if fragments is None:
            return caller()
        full = (template, key, id(context.environment), context.get("web"))
        found = fragments.get(full)
        opened = _dual_opened.get(None)  # the dual render's count of its opening marks
        if found is not None:
            text, marks = found
            if opened is not None:
                opened[0] += marks
            return text
        before = opened[0] if opened is not None else 0
        text = caller()
        fragments.put(full, text, (opened[0] - before) if opened is not None else 0)
        return text


def _is_once(node) -> bool:
    """True for the call block of a `{% once %}` tag."""
    call = node.call if isinstance(node, nodes.CallBlock) else None
    return (isinstance(call, nodes.Call) and isinstance(call.node, nodes.ExtensionAttribute)
            and call.node.identifier == OnceExtension.identifier
            and call.node.name == "_fragment")


def jinja_environment(*, extra_dirs: Sequence[Path] = ()) -> jinja2.Environment:
    """Return the one Jinja environment every dossier template is rendered with.

    Templates in ``extra_dirs`` (searched in order) override the shipped ones of the same name;
    an override can still extend the original as ``"default:NAME"``. Undefined names raise
    (StrictUndefined), block tags leave no blank lines, the final newline is kept, and
    autoescape is off because the output is Markdown: untrusted text is escaped explicitly
    with the filters ``md``, ``md_link``, ``md_url`` and ``yaml_str``. Table cells need no
    extra filter: ``md`` already escapes ``|`` and never ends in a backslash.
    """
    shipped = _shipped_templates_loader()
    loader = jinja2.ChoiceLoader(
        [
            *(jinja2.FileSystemLoader(directory) for directory in extra_dirs),
            shipped,
            jinja2.PrefixLoader({"default": shipped}, delimiter=":"),
        ]
    )
    environment = jinja2.Environment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        bytecode_cache=_bytecode_cache(),
        extensions=[OnceExtension],
    )
    environment.filters.update(md=md_inline, md_link=md_link, md_url=md_url, yaml_str=yaml_str,
                               status_badge=status_badge, attrs=md_attrs)
    return environment


# --------------------------------------------------------------------------------------------
# One render for both outputs
# --------------------------------------------------------------------------------------------
#
# An HTML publish needs each page twice: its Markdown file (`web` false) and the Markdown of
# its HTML page (`web` true). The two renders differ only where a template reads `web`, so a
# second Jinja environment compiles each template with both outcomes written out: every
# statement or printed expression that reads `web` is emitted twice, first with `web` replaced
# by the constant true, then by false, between three marks, and the rest once. One render of
# that "dual" template gives both pages, split apart by :func:`_split_dual`. The transform
# only takes templates whose output it can split exactly (see :func:`_dual_tree`); for any
# other template, a page whose text holds a mark of its own, or a render that fails, the
# caller renders twice as before, so the two pages are always exactly the two renders'.

_DUAL_OPEN, _DUAL_MIDDLE, _DUAL_CLOSE = "\x02", "\x03", "\x04"
_DUAL_MARKS_RE = re.compile("[\x02\x03\x04]")
_DUAL_SPLIT_RE = re.compile("([\x02\x03\x04])")
# Bump when the transform changes: compiled dual templates are cached on disk by source.
_DUAL_VERSION = "3"


class _NotDual(Exception):
    """A template that the dual transform cannot split exactly (rendered twice instead)."""


_dual_opened: contextvars.ContextVar[list[int]] = contextvars.ContextVar("ledger_dual_opened")


class _DualMarks:
    """`ledger_dual.open` in a dual template: the opening mark, counted (a page whose text
    holds more than the templates emitted is rendered twice). An attribute, not a call:
    Jinja reads one several times faster."""

    @property
    def open(self) -> str:
        _dual_opened.get()[0] += 1
        return _DUAL_OPEN


def _not_dual() -> str:
    raise _NotDual


def _reads_web(node) -> bool:
    items = node if isinstance(node, list) else [node]
    for item in items:
        if isinstance(item, nodes.Name) and item.name == "web":
            return True
        if any(name.name == "web" for name in item.find_all(nodes.Name)):
            return True
    return False


def _with_web(node, value: bool):
    """A copy of `node` (a node, a list of nodes or a field value) with `web` as `value`."""
    if isinstance(node, list):
        return [_with_web(item, value) for item in node]
    if isinstance(node, tuple):
        return tuple(_with_web(item, value) for item in node)
    if not isinstance(node, nodes.Node):
        return node
    if isinstance(node, nodes.Name) and node.name == "web":
        return nodes.Const(value, lineno=node.lineno, environment=node.environment)
    copy = object.__new__(type(node))
    for name in node.fields:
        setattr(copy, name, _with_web(getattr(node, name), value))
    for name in node.attributes:
        setattr(copy, name, getattr(node, name, None))
    return copy


def _check_twice(body: list) -> None:
    """Raise _NotDual unless `body` can run twice with no effect beyond its output: no
    assignment, no call (a macro, `super()`, `loop.changed()`, a joiner), no definitions."""
    unsafe = (
        nodes.Assign,
        nodes.AssignBlock,
        nodes.NSRef,
        nodes.Call,
        nodes.Macro,
        nodes.CallBlock,
        nodes.FilterBlock,
        nodes.Block,
        nodes.Extends,
        nodes.Import,
        nodes.FromImport,
        nodes.ExprStmt,
    )
    for item in body:
        if isinstance(item, unsafe) or any(True for _ in item.find_all(unsafe)):
            raise _NotDual


def _check_captured(node) -> None:
    """Raise _NotDual if output captured into a value (a macro, `set` or `filter` block, a
    call block, a recursive loop) could carry marks: `web`, an include, a block, `self`."""
    if _reads_web(node) or any(True for _ in node.find_all((nodes.Include, nodes.Block))):
        raise _NotDual
    if any(name.name in ("self", "super") for name in node.find_all(nodes.Name)):
        raise _NotDual


def _twice(node):
    """`node` with `web` true, then with `web` false, between the marks."""
    opening = nodes.Output([_opening_mark()])
    return [
        opening,
        *_with_web([node], True),
        nodes.Output([nodes.TemplateData(_DUAL_MIDDLE)]),
        *_with_web([node], False),
        nodes.Output([nodes.TemplateData(_DUAL_CLOSE)]),
    ]


def _opening_mark():
    return nodes.Getattr(nodes.Name("ledger_dual", "load"), "open", "load")


def _dual_body(body: list) -> list:
    result: list = []
    for node in body:
        if isinstance(node, nodes.Output):
            children: list = []
            for child in node.nodes:
                if isinstance(child, nodes.TemplateData):
                    if _DUAL_MARKS_RE.search(child.data):
                        raise _NotDual
                    children.append(child)
                elif not _reads_web(child):
                    _check_captured_expr(child)
                    children.append(child)
                else:
                    _check_twice([child])
                    children += [
                        _opening_mark(),
                        _with_web(child, True),
                        nodes.TemplateData(_DUAL_MIDDLE),
                        _with_web(child, False),
                        nodes.TemplateData(_DUAL_CLOSE),
                    ]
            result.append(nodes.Output(children, lineno=node.lineno))
        elif _is_once(node) and not _reads_web(node.call):
            # `{% once %}`: its body's text is printed where it stands, so it is split like
            # the rest (the fragment keeps the count of the marks it opened).
            node.body = _dual_body(node.body)
            result.append(node)
        elif isinstance(
            node, (nodes.Macro, nodes.CallBlock, nodes.AssignBlock, nodes.FilterBlock)
        ) or (isinstance(node, nodes.For) and node.recursive):
            _check_captured(node)
            result.append(node)
        elif isinstance(node, (nodes.Extends, nodes.Import, nodes.FromImport, nodes.Assign)):
            if _reads_web(node):
                raise _NotDual
            result.append(node)
        elif isinstance(node, nodes.If) and not _reads_web(
            [node.test, *(branch.test for branch in node.elif_)]
        ):
            node.body = _dual_body(node.body)
            for branch in node.elif_:
                branch.body = _dual_body(branch.body)
            node.else_ = _dual_body(node.else_)
            result.append(node)
        elif isinstance(node, nodes.For) and not _reads_web(
            [node.target, node.iter, *([node.test] if node.test else [])]
        ):
            node.body, node.else_ = _dual_body(node.body), _dual_body(node.else_)
            result.append(node)
        elif isinstance(node, nodes.Block) or (
            isinstance(node, nodes.With) and not _reads_web([*node.targets, *node.values])
        ):
            node.body = _dual_body(node.body)
            result.append(node)
        elif isinstance(node, (nodes.If, nodes.For, nodes.With, nodes.Include)):
            _check_twice([node])
            result += _twice(node)
        elif _reads_web(node):
            raise _NotDual
        else:
            result.append(node)
    return result


def _check_captured_expr(node) -> None:
    # A printed `super()` or `self.block()` goes straight to the page; anywhere else in an
    # expression (a filter's argument, a test) its marks would be measured, not split.
    if (
        isinstance(node, nodes.Call)
        and isinstance(node.node, nodes.Name)
        and node.node.name == "super"
        and not node.args
    ):
        return
    if any(name.name in ("self", "super") for name in node.find_all(nodes.Name)):
        raise _NotDual


def _dual_tree(tree):
    """The template `tree` with both outcomes of `web` written out; a template the transform
    cannot split exactly instead raises _NotDual when rendered."""
    environment = tree.environment
    # `web` assigned or a parameter is another variable than the page's; a template included
    # without context does not see `web` at all (an error the two renders must raise).
    if not any(
        name.name == "web" and name.ctx != "load" for name in tree.find_all(nodes.Name)
    ) and not any(not include.with_context for include in tree.find_all(nodes.Include)):
        try:
            dual = nodes.Template(_dual_body(tree.body), lineno=tree.lineno)
            dual.set_environment(environment)
            dual.set_lineno(tree.lineno)  # the nodes made here; a traceback's line numbers
            return dual
        except _NotDual:
            pass
    refused = nodes.Template(
        [nodes.Output([nodes.Call(nodes.Name("ledger_not_dual", "load"), [], [], None, None)])],
        lineno=tree.lineno,
    )
    refused.set_environment(environment)
    refused.set_lineno(tree.lineno)
    return refused


class _DualEnvironment(jinja2.Environment):
    """An environment whose templates are compiled by :func:`_dual_tree`."""

    #: Set once a template refused the transform: from then on every page renders twice.
    refused = False

    def _parse(self, source, name, filename):
        return _dual_tree(super()._parse(source, name, filename))


_dual_environments: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _dual_environment(environment: jinja2.Environment) -> _DualEnvironment:
    dual = _dual_environments.get(environment)
    if dual is None:
        try:
            cache = jinja2.FileSystemBytecodeCache(
                pattern=f"__jinja2_ledger_dual{_DUAL_VERSION}.{_COMPILE_VERSION}_%s.cache"
            )
        except (OSError, RuntimeError):
            cache = None
        dual = _DualEnvironment(
            loader=environment.loader,
            undefined=environment.undefined,
            trim_blocks=environment.trim_blocks,
            lstrip_blocks=environment.lstrip_blocks,
            keep_trailing_newline=environment.keep_trailing_newline,
            autoescape=environment.autoescape,
            bytecode_cache=cache,
            # One publish, one set of templates: no stat of a template's file at every
            # include (an allegation's `_updates.md.j2`: 44,000 stats of 801 pages).
            auto_reload=False,
            extensions=[OnceExtension],
        )
        dual.filters.update(environment.filters)
        dual.globals.update(environment.globals)
        dual.globals.update(ledger_dual=_DualMarks(), ledger_not_dual=_not_dual)
        _dual_environments[environment] = dual
    return dual


def _split_dual(text: str, opened: int) -> tuple[str, str] | None:
    """The `web` and the Markdown page in a dual render's `text`, or None when the marks in
    it are not exactly the `opened` groups the templates emitted (a value of the page's own
    carried one).

    The groups nest (a template included inside one is dual too). The text is split at its
    marks (in C) and the pieces walked once: a piece belongs to the web page when it lies in
    the web half (between the opening and the middle mark) of every group around it, to the
    Markdown file when it lies in the Markdown half of every one. (Peeling the innermost parts
    with a regex pass per nesting level read the whole page several times: 0.3 s of 801
    pages.)"""
    if not (
        text.count(_DUAL_OPEN) == text.count(_DUAL_MIDDLE) == text.count(_DUAL_CLOSE) == opened
    ):
        return None
    if not opened:
        return text, text
    pieces = _DUAL_SPLIT_RE.split(text)
    web: list[str] = [pieces[0]]
    markdown: list[str] = [pieces[0]]
    halves: list[bool] = []  # per open group: True while in its web half
    in_web_half = in_markdown_half = 0  # open groups in their web half, in their Markdown half
    for index in range(1, len(pieces), 2):
        mark = pieces[index]
        if mark == _DUAL_OPEN:
            halves.append(True)
            in_web_half += 1
        elif mark == _DUAL_MIDDLE:
            if not halves or not halves[-1]:
                return None
            halves[-1] = False
            in_web_half -= 1
            in_markdown_half += 1
        else:
            if not halves or halves[-1]:
                return None
            halves.pop()
            in_markdown_half -= 1
        piece = pieces[index + 1]
        if piece:
            if not in_markdown_half:
                web.append(piece)
            if not in_web_half:
                markdown.append(piece)
    if halves:
        return None
    return "".join(web), "".join(markdown)


def render_both(environment: jinja2.Environment, name: str, context: dict) -> tuple[str, str]:
    """Render template `name` of `environment` with `web` true and with `web` false, as two
    renders would: the Markdown of the HTML page, then the Markdown file. One render does
    both where the templates allow it (see "One render for both outputs"); otherwise, and
    whenever that render fails, the two renders are made as before (so an error is the one
    they raise)."""
    dual = _dual_environment(environment)
    if not dual.refused:
        token = _dual_opened.set([0])
        try:
            text = dual.get_template(name).render(context)
            opened = _dual_opened.get()[0]
        except _NotDual:
            dual.refused = True  # the same templates serve every page
            text = None
        except Exception:  # the two renders below raise what they raise
            text = None
        finally:
            _dual_opened.reset(token)
        split = None if text is None else _split_dual(text, opened)
        if split is not None:
            return split
    template = environment.get_template(name)
    markdown = template.render({**context, "web": False})  # first, as publish always did
    return template.render({**context, "web": True}), markdown
