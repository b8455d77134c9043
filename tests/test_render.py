"""Tests for ledger.render: untrusted text stays inert in Markdown, YAML front matter and HTML."""

from __future__ import annotations

import html
import string
import sys
import time
import unicodedata
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import jinja2
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it.common.normalize_url import normalizeLink
from markdown_it.token import Token

import ledger.render as render
from ledger.render import (
    display_text,
    is_safe_link,
    jinja_environment,
    markdown_parser,
    md_inline,
    md_link,
    md_url,
    render_html,
    yaml_str,
)

PARSER = markdown_parser()
ENV = jinja_environment()

# ------------------------------------------------------------------------------------------
# A dossier-like skeleton with a slot in every kind of place user text goes
# ------------------------------------------------------------------------------------------

SKELETON = ENV.from_string(
    """---
title: {{ v[0]|yaml_str }}
subject: {{ v[1]|yaml_str }}
---

# Dossier: {{ v[0]|md }}

## {{ v[1]|md }}

{{ v[2]|md }} is alleged by {{ v[3]|md }}, in *“{{ v[4]|md }}”*.[^1]

- Quote: “{{ v[5]|md }}”
- {{ v[6]|md }} (denial)
- Source: {{ v[7]|md_link(url) }}

| Allegation | Status | Response |
|---|---|---|
| {{ v[8]|md }} | {{ v[9]|md }} | {{ v[10]|md }} |
|{{ v[11]|md }}|{{ v[12]|md }}|x|

> Voice: {{ v[13]|md }}

[evil]: https://evil.example/ref

[^1]: Footnote: {{ v[14]|md }}
"""
)
SLOTS = 15
LINK_SLOT = 7
MARKERS = [f"SLOT{i}Z" for i in range(SLOTS)]
SAFE_URLS = [
    "https://example.com/a",
    "mailto:editor@example.com",
    " HTTPS://Example.com/a b?c=1&d=<2>\\ ",
]


def render_skeleton(values: list[str], url: str = SAFE_URLS[0]) -> str:
    return SKELETON.render(v=values, url=url)


def inline_text(token: Token) -> str:
    """The text a reader sees in one inline token: text children, breaks as spaces."""
    parts = []
    for child in token.children or ():
        if child.type == "text":
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)


def inline_shape(token: Token) -> list[tuple[str, str | None]]:
    """Every non-text child of an inline token, with its href if any."""
    return [
        (child.type, child.attrGet("href"))  # type: ignore[misc]
        for child in token.children or ()
        if child.type != "text"
    ]


def block_shape(tokens: list[Token]) -> list[tuple[str, str, object]]:
    return [(token.type, token.tag, token.attrs.get("style")) for token in tokens]


def expected_text(benign: str, values: list[str], url: str) -> str:
    text = benign
    for index, value in enumerate(values):
        shown = display_text(value)
        if index == LINK_SLOT and not shown:
            shown = display_text(url)
        text = text.replace(MARKERS[index], shown)
    # Markdown trims the edges of a block; only an empty value can leave template space there.
    return text.strip()


def check_document(values: list[str], url: str = SAFE_URLS[0]) -> str:
    """Assert the skeleton filled with ``values`` has the benign skeleton's structure."""
    assert len(values) == SLOTS
    benign_env: dict = {}
    hostile_env: dict = {}
    benign = PARSER.parse(render_skeleton(MARKERS, url), benign_env)
    document = render_skeleton(values, url)
    hostile = PARSER.parse(document, hostile_env)

    assert block_shape(hostile) == block_shape(benign)
    assert hostile_env.get("references") == benign_env.get("references")
    front_matter = yaml.safe_load(hostile[0].content)
    assert front_matter == {"title": values[0], "subject": values[1]}
    benign_inlines = [token for token in benign if token.type == "inline"]
    hostile_inlines = [token for token in hostile if token.type == "inline"]
    for before, after in zip(benign_inlines, hostile_inlines, strict=True):
        assert inline_shape(after) == inline_shape(before)
        assert inline_text(after) == expected_text(inline_text(before), values, url)
    return document


class TagCollector(HTMLParser):
    """Start tags, attributes and text of an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []
        self.text: list[str] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend((name, value or "") for name, value in attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def collect(page: str) -> TagCollector:
    collector = TagCollector()
    collector.feed(page)
    collector.close()
    return collector


DANGEROUS_PREFIXES = ("javascript:", "vbscript:", "data:")


def is_dangerous(value: str) -> bool:
    """What a lenient browser might still run: controls and spaces dropped, case folded."""
    for candidate in (value, unquote(value)):
        squeezed = "".join(ch for ch in candidate if ord(ch) > 0x20).lower()
        if squeezed.startswith(DANGEROUS_PREFIXES):
            return True
    return False


def assert_safe_html(page: str) -> TagCollector:
    collector = collect(page)
    assert "script" not in collector.tags
    assert not collector.comments
    for name, value in collector.attributes:
        assert not name.startswith("on"), (name, value)
        assert not is_dangerous(value), (name, value)
    return collector


BENIGN_PAGE = collect(render_html(render_skeleton(MARKERS), title="t"))


def check_page(values: list[str], url: str = SAFE_URLS[0]) -> None:
    page = render_html(render_skeleton(values, url), title=values[0])
    collector = assert_safe_html(page)
    assert collector.tags == BENIGN_PAGE.tags
    text = "".join(collector.text)
    for value in values:
        assert display_text(value) in text
    assert f"<title>{html.escape(display_text(values[0]))}</title>" in page


# ------------------------------------------------------------------------------------------
# The hostile corpus
# ------------------------------------------------------------------------------------------

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    "<svg/onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    '<div onclick="alert(1)">block</div>',
    "<div>\n\nraw html block\n\n</div>",
    "<!-- comment -->",
    "<!--",
    "-->",
    "<?php echo 1; ?>",
    "<![CDATA[x]]>",
    "# Heading",
    "###### h6 ######",
    "Title\n=====",
    "Title\n---",
    "- item",
    "* item",
    "+ item",
    "1. item",
    "1) item",
    "> quote",
    ">>>> deep",
    "    indented code",
    "\tindented code",
    "```python\ncode\n```",
    "~~~\ncode\n~~~",
    "| a | b |\n|---|---|\n| c | d |",
    "a | b",
    "||",
    "\\|",
    "[evil]: https://evil.example",
    "[evil]",
    "[evil][]",
    "[x](javascript:alert(1))",
    "[x](https://evil.example)",
    "![x](https://evil.example/x.png)",
    "<https://evil.example>",
    "<javascript:alert(1)>",
    "https://bare.example www.bare.example",
    "**bold** __strong__ _em_ ~~strike~~",
    "`code` ``code``",
    "[^1]",
    "[^1]: injected note",
    "^[inline note]",
    "&lt;script&gt; &#60;script&#62; &amp; &copy",
    "trailing backslash\\",
    "hard  \nbreak",
    "line\\\nbreak",
    "***",
    "---",
    "___",
    "\u202eevil\u202c",
    "\u2066isolate\u2069 \u202aembed\u202b",
    "zero\u200bwidth\u2060joiner\ufeffbom",
    "nul\x00char",
    "esc\x1b[31mred",
    "c1\x85\x9b controls",
    "---\ntitle: x\n---",
    "\r\n\r\n# CRLF heading",
    "\u2028# after line separator",
    "\\",
    "&",
    "*",
    "",
    "   ",
    "\n",
    "\ud800 lone surrogate",
]


def test_hostile_corpus_in_every_slot_keeps_structure() -> None:
    for value in HOSTILE:
        check_document([value] * SLOTS)
        check_page([value] * SLOTS)


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_value_is_inert_in_markdown(value: str) -> None:
    tokens = PARSER.parse(f"Value: {md_inline(value)}")
    assert [token.type for token in tokens] == ["paragraph_open", "inline", "paragraph_close"]
    assert all(child.type == "text" for child in tokens[1].children or ())
    assert inline_text(tokens[1]) == f"Value: {display_text(value)}".strip()


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_value_is_inert_in_html(value: str) -> None:
    page = render_html(f"Value: {md_inline(value)}", title=value)
    collector = assert_safe_html(page)
    assert collector.tags == ["html", "head", "meta", "meta", "title", "body", "main", "p"]
    assert "<script" not in page.lower()
    assert "<!--" not in page
    for invisible in "\u202e\u202c\u2066\u2069\u200b\ufeff\x00\x1b":
        assert invisible not in page


def test_bidi_and_zero_width_are_shown_as_escapes() -> None:
    page = render_html(md_inline("Han\u202eDong\u200b"), title="\u202ex")
    assert "Han&lt;U+202E&gt;Dong&lt;U+200B&gt;" in page
    assert "<title>&lt;U+202E&gt;x</title>" in page


def test_link_reference_definition_in_a_value_defines_nothing() -> None:
    env: dict = {}
    tokens = PARSER.parse(f"{md_inline('[evil]: https://evil.example')}\n\n[evil]\n", env)
    assert "references" not in env or not env["references"]
    assert not any(child.type == "link_open" for t in tokens for child in t.children or ())


# ------------------------------------------------------------------------------------------
# display_text: the documented transformation
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain", "plain"),
        ("a\nb", "a b"),
        ("a\r\nb", "a b"),
        ("a\rb\tc\vd\fe\x85f\u2028g\u2029h", "a b c d e f g h"),
        ("a\n\nb", "a  b"),
        ("  padded\t ", "padded"),
        ("\u00a0nbsp\u3000", "nbsp"),
        ("inner   spaces", "inner   spaces"),
        ("# *not* <markup>", "# *not* <markup>"),
        ("\u202eevil", "<U+202E>evil"),
        ("\u2066x\u2069", "<U+2066>x<U+2069>"),
        ("zero\u200bwidth", "zero<U+200B>width"),
        ("\ufeffbom", "<U+FEFF>bom"),
        ("soft\u00adhyphen", "soft<U+00AD>hyphen"),
        ("nul\x00", "nul<U+0000>"),
        ("\x1f\x7f\x9b", "<U+001F><U+007F><U+009B>"),
        ("tag\U000e0041", "tag<U+E0041>"),
        ("lone\ud800", "lone<U+D800>"),
        ("blank\u3164name", "blank<U+3164>name"),
        ("Han\u200dDong", "Han<U+200D>Dong"),
        ("\u200dedge\u200c", "<U+200D>edge<U+200C>"),
        (
            "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
            "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
        ),
        (
            "\U0001f468\u200d\U0001f469\u200d\U0001f467",
            "\U0001f468\u200d\U0001f469\u200d\U0001f467",
        ),
        ("\u2764\ufe0f\u200d\U0001f525", "\u2764\ufe0f\u200d\U0001f525"),
        ("\u0600\u0661", "\u0600\u0661"),
        ("<U+202E>", "<U+202E>"),
    ],
)
def test_display_text(raw: str, shown: str) -> None:
    assert display_text(raw) == shown


def test_every_control_and_format_character_is_shown() -> None:
    # The invisible table scans planes 0, 1 and 14 only; this checks that nothing is missed.
    folded = set("\t\n\v\f\r\x85")
    kept = set(render._PREPENDED_CONCATENATION_MARKS)
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if unicodedata.category(char) in ("Cc", "Cf", "Cs") and char not in folded | kept:
            assert display_text(f"a{char}b") == f"a<U+{code:04X}>b", hex(code)


def test_the_invisible_table_is_what_scanning_unicode_finds() -> None:
    # The ranges kept for this Python's Unicode version (when there are some) stand for the
    # scan; a version without them is scanned.
    assert render._invisible_code_points() == render._scanned_invisible_code_points()


# ------------------------------------------------------------------------------------------
# md_inline
# ------------------------------------------------------------------------------------------


def test_every_ascii_punctuation_character_renders_as_itself() -> None:
    for char in string.punctuation:
        for value in (char, f"{char}x", f"x{char}", f"x {char} y", f"1{char} x"):
            tokens = PARSER.parse(md_inline(value))
            assert [t.type for t in tokens] == ["paragraph_open", "inline", "paragraph_close"]
            assert inline_text(tokens[1]) == value, value


@pytest.mark.parametrize(
    ("value", "markdown"),
    [
        # The over-escaped examples of issue 11, from the Han Dong dossier.
        ("2023-03", "2023-03"),
        ("denial, official response", "denial, official response"),
        ("Prime Minister's Office", "Prime Minister's Office"),
        ("after Mr. Dong told us; (Toronto).", "after Mr. Dong told us; (Toronto)."),
        ('a "witting affiliate"', 'a "witting affiliate"'),
        # What stays markup in some position is escaped.
        ("- item", "\\- item"),
        ("+ item", "\\+ item"),
        ("# heading", "\\# heading"),
        ("1. item", "1\\. item"),
        ("12) item", "12\\) item"),
        ("=====", "\\====="),
        ("heading ##", "heading \\##"),
        ("*a* _b_ `c` ~~d~~", "\\*a\\* \\_b\\_ \\`c\\` \\~\\~d\\~\\~"),
        ("[x](y) ![i](j) <b>", "\\[x\\](y) \\!\\[i\\](j) \\<b\\>"),
        ("a | b", "a \\| b"),
        ("&amp; &#60; & &copy", "\\&amp; \\&#60; & &copy"),
        ("Stop!", "Stop\\!"),
        ("{.class}", "\\{.class}"),
        ("C:\\dir", "C:\\\\dir"),
    ],
)
def test_md_inline_escapes_only_what_would_be_markup(value: str, markdown: str) -> None:
    assert md_inline(value) == markdown
    assert inline_text(PARSER.parse(f"Value: {markdown}")[1]) == f"Value: {value}"


def test_md_inline_never_ends_with_a_backslash() -> None:
    assert md_inline("a\\") == "a&#92;"
    assert md_inline("a\\\\") == "a\\\\&#92;"
    cell = md_inline("x\\")
    tokens = PARSER.parse(f"| a | b |\n|---|---|\n|{cell}|y|\n")
    cells = [inline_text(token) for token in tokens if token.type == "inline"]
    assert cells == ["a", "b", "x\\", "y"]


def test_md_inline_converts_values_but_refuses_none() -> None:
    assert md_inline(42) == "42"
    assert md_inline(-1.5) == "\\-1.5"
    with pytest.raises(TypeError, match="None"):
        md_inline(None)


# ------------------------------------------------------------------------------------------
# Links
# ------------------------------------------------------------------------------------------

UNSAFE_URLS = [
    "javascript:alert(1)",
    "JAVASCRIPT:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "\tjavascript:alert(1)",
    "\njavascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "java\rscript:alert(1)",
    "\x00javascript:alert(1)",
    "\x01javascript:alert(1)",
    "javascript\x00:alert(1)",
    "\u200bjavascript:alert(1)",
    "\u202ejavascript:alert(1)",
    "\ufeffjavascript:alert(1)",
    "&#106;avascript:alert(1)",
    "&#x6A;avascript:alert(1)",
    "&#0000106avascript:alert(1)",
    "javascript&colon;alert(1)",
    "javascript&#58;alert(1)",
    "javascript&#x3a;alert(1)",
    "jav&#x09;ascript:alert(1)",
    "jav&Tab;ascript:alert(1)",
    "%6Aavascript:alert(1)",
    "javascript%3Aalert(1)",
    "%256Aavascript:alert(1)",
    "vbscript:msgbox(1)",
    "VBScript:msgbox(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "DATA:text/html,<script>alert(1)</script>",
    " data:image/png;base64,iVBORw0KGgo=",
    "data:image/svg+xml,<svg onload=alert(1)>",
    "file:///etc/passwd",
    "ftp://example.com/x",
]


@pytest.mark.parametrize("url", UNSAFE_URLS)
def test_unsafe_urls_are_never_linked(url: str) -> None:
    assert md_url(url) is None
    tokens = PARSER.parse(md_link("label", url))
    children = tokens[1].children or []
    assert all(child.type == "text" for child in children)
    assert inline_text(tokens[1]) == f"label ({display_text(url)})"


@pytest.mark.parametrize("url", UNSAFE_URLS)
def test_unsafe_urls_written_by_a_template_are_not_linked_in_html(url: str) -> None:
    markdown = f"[a]({url}) [b](<{url}>) ![c]({url}) <{url}> [d][ref]\n\n[ref]: <{url}>\n"
    page = render_html(markdown, title="t")
    assert_safe_html(page)
    assert "<script" not in page.lower()


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JAVA SCRIPT:alert(1)",
        "java\tscript:x",
        "%6Aavascript:x",
        "&#106;avascript:x",
        "&amp;#106;avascript:x",
        "javascript%253Ax",
        "foo:bar",
        "data:image/png;base64,x",
        "vbscript:x",
    ],
)
def test_is_safe_link_refuses_other_schemes(url: str) -> None:
    assert not is_safe_link(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/",
        "HTTP://example.com/",
        "mailto:a@example.com",
        "people/han-dong.html",
        "../sources/cbc.html",
        "#fn1",
        "?page=2",
        "//cdn.example.com/style.css",
        "people/a:b.html",
    ],
)
def test_is_safe_link_allows_web_and_relative_links(url: str) -> None:
    assert is_safe_link(url)


@pytest.mark.parametrize(
    ("url", "destination"),
    [
        ("https://example.com/a", "https://example.com/a"),
        ("  HTTPS://Example.com/a  ", "https://Example.com/a"),
        ("http://x.example/a b", "http://x.example/a%20b"),
        ("http://x.example/a\u202eb", "http://x.example/a%E2%80%AEb"),
        ("https://x.example/?a=1&b=<2>", "https://x.example/?a=1\\&b=\\<2\\>"),
        ("https://x.example/back\\slash", "https://x.example/back\\\\slash"),
        ("mailto:editor@example.com", "mailto:editor@example.com"),
        ("https://exa\nmple.com", "https://example.com"),
    ],
)
def test_md_url_accepts_web_urls(url: str, destination: str) -> None:
    assert md_url(url) == destination
    tokens = PARSER.parse(f"[x](<{destination}>)")
    links = [child for child in tokens[1].children or () if child.type == "link_open"]
    assert len(links) == 1


@pytest.mark.parametrize(
    "url",
    ["", "   ", "example.com", "/relative", "//evil.example", "http:foo", "https:", "mailto:"],
)
def test_md_url_refuses_relative_and_incomplete_urls(url: str) -> None:
    assert md_url(url) is None


def test_md_link() -> None:
    assert md_link("CBC *News*", "https://cbc.ca/x") == "[CBC \\*News\\*](<https://cbc.ca/x>)"
    assert md_link("", "https://cbc.ca/x") == "[https://cbc.ca/x](<https://cbc.ca/x>)"
    assert md_link("CBC", None) == "CBC"
    assert md_link("CBC", "") == "CBC"
    assert md_link("", "javascript:x") == "javascript:x"
    assert md_link("CBC", "javascript:x") == "CBC (javascript:x)"


@settings(max_examples=200, deadline=None)
@given(label=st.text(), url=st.text())
def test_md_link_property(label: str, url: str) -> None:
    tokens = PARSER.parse(f"See {md_link(label, url)} here")
    assert [token.type for token in tokens] == ["paragraph_open", "inline", "paragraph_close"]
    links = [child for child in tokens[1].children or () if child.type == "link_open"]
    destination = md_url(url)
    if destination is None:
        assert links == []
        assert [child.type for child in tokens[1].children or ()] == ["text"]
    else:
        assert len(links) == 1
        href = links[0].attrGet("href")
        assert isinstance(href, str)
        assert href.startswith(("http://", "https://", "mailto:"))
        assert is_safe_link(href)


@settings(max_examples=200, deadline=None)
@given(url=st.text().map(lambda rest: "https://example.com/" + rest))
def test_md_url_round_trips_through_markdown(url: str) -> None:
    destination = md_url(url)
    assert destination is not None
    tokens = PARSER.parse(f"[x](<{destination}>)")
    links = [child for child in tokens[1].children or () if child.type == "link_open"]
    assert len(links) == 1
    assert links[0].attrGet("href") == normalizeLink(
        destination.replace("\\\\", "\0").replace("\\", "").replace("\0", "\\")
    )


# ------------------------------------------------------------------------------------------
# YAML
# ------------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(value=st.text(alphabet=st.characters(codec=None, exclude_categories=())))
def test_yaml_str_is_one_line_and_round_trips(value: str) -> None:
    scalar = yaml_str(value)
    assert "\n" not in scalar and "\r" not in scalar
    assert not any(char in scalar for char in "\x85\u2028\u2029")
    assert yaml.safe_load(f"title: {scalar}\n") == {"title": value}
    tokens = PARSER.parse(f"---\ntitle: {scalar}\n---\n\nbody\n")
    assert tokens[0].type == "front_matter"
    assert yaml.safe_load(tokens[0].content) == {"title": value}


def test_yaml_str_scalars() -> None:
    assert yaml_str(None) == "null"
    assert yaml_str(True) == "true"
    assert yaml_str(7) == "7"
    assert yaml_str("7") == '"7"'
    assert yaml_str("a\u2028b\x85c") == '"a\\u2028b\\u0085c"'
    assert yaml_str("---\n...") == '"---\\n..."'


# ------------------------------------------------------------------------------------------
# The property tests the issue asks for
# ------------------------------------------------------------------------------------------

HOSTILE_ALPHABET = st.sampled_from(
    [
        *string.punctuation,
        *string.whitespace,
        *"aZ09 ",
        *"\x00\x1b\x85\u00a0\u2028\u202e\u2066\u200b\u200d\ufeff\u3000\u0645\U0001f468“é",
    ]
)
VALUE = st.one_of(st.text(), st.text(alphabet=HOSTILE_ALPHABET), st.sampled_from(HOSTILE))
VALUES = st.lists(VALUE, min_size=SLOTS, max_size=SLOTS)


@settings(max_examples=200, deadline=None)
@given(values=VALUES, url=st.sampled_from(SAFE_URLS))
def test_any_text_in_every_slot_keeps_the_markdown_structure(values: list[str], url: str) -> None:
    check_document(values, url)


@settings(max_examples=200, deadline=None)
@given(values=VALUES, url=st.sampled_from(SAFE_URLS))
def test_any_text_in_every_slot_keeps_the_html_structure(values: list[str], url: str) -> None:
    check_page(values, url)


STOCK_PARSER = markdown_parser()
STOCK_PARSER.inline.ruler.disable("escaped_run")
MARKDOWN_ALPHABET = st.sampled_from([*"\\*_[]()!<>&`~^#|:-.; a1\né\u202e"])


@settings(max_examples=200, deadline=None)
@given(
    source=st.one_of(
        st.text(),
        st.text(alphabet=MARKDOWN_ALPHABET),
        st.text().map(md_inline),
        st.lists(st.text(alphabet=MARKDOWN_ALPHABET).map(md_inline)).map(" *x* ".join),
    )
)
def test_fast_escape_rule_renders_like_the_stock_rule(source: str) -> None:
    assert PARSER.render(source) == STOCK_PARSER.render(source)


# ------------------------------------------------------------------------------------------
# Size
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("char", ["*", ">"])
def test_a_megabyte_value_renders_in_under_two_seconds(char: str) -> None:
    value = char * 1_000_000
    start = time.process_time()
    markdown = f"# Dossier\n\n- Quote: {md_inline(value)}\n"
    page = render_html(markdown, title=value)
    assert time.process_time() - start < 2.0
    assert page.count("<li>") == 1 and "<blockquote" not in page and "<em>" not in page
    assert page.count(char if char == "*" else "&gt;") >= 1_000_000


@pytest.mark.parametrize("char", ["*", ">"])
def test_a_megabyte_of_raw_markdown_renders_in_under_two_seconds(char: str) -> None:
    start = time.process_time()
    render_html(char * 1_000_000, title="t")
    assert time.process_time() - start < 2.0


# ------------------------------------------------------------------------------------------
# render_html
# ------------------------------------------------------------------------------------------


def test_render_html_document_shell() -> None:
    page = render_html("# Han Dong\n", title="Han <Dong> & co", stylesheet="../style.css?v=1&x")
    assert page == (
        "<!doctype html>\n"
        '<html lang="en">\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>Han &lt;Dong&gt; &amp; co</title>\n"
        '<link rel="stylesheet" href="../style.css?v=1&amp;x">\n'
        "</head>\n"
        "<body>\n"
        "<main>\n"
        "<h1>Han Dong</h1>\n"
        "</main>\n"
        "</body>\n"
        "</html>\n"
    )


def test_render_html_options_are_checked() -> None:
    assert '<html lang="fr-CA">' in render_html("", title="t", lang="fr-CA")
    assert "<link" not in render_html("", title="t")
    with pytest.raises(ValueError):
        render_html("", title="t", lang='en" onload="x')
    for stylesheet in ("javascript:alert(1)", "data:text/css,x", " "):
        with pytest.raises(ValueError):
            render_html("", title="t", stylesheet=stylesheet)


def test_the_masthead_is_checked_on_every_page_and_takes_lists_too() -> None:
    nav = [["Index", "../index.md"], ("People", "../index.md#people")]
    page = render_html("", title="t", site="Desk", nav=nav)
    assert '<li><a href="../index.html">Index</a></li>' in page
    assert render_html("", title="u", site="Desk", nav=nav).count("masthead") == 1
    for _ in range(2):  # a bad link is refused each time, not remembered as a page
        with pytest.raises(ValueError):
            render_html("", title="t", site="Desk", nav=[("x", "javascript:alert(1)")])


def test_render_html_drops_front_matter_and_raw_html() -> None:
    page = render_html(
        "---\ntitle: x\nsecret: y\n---\n\n<b>raw</b>\n\n<div>\nblock\n</div>\n", title="t"
    )
    assert "secret" not in page
    assert "<b>" not in page and "<div>" not in page
    assert "&lt;b&gt;raw&lt;/b&gt;" in page


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("people/han-dong.md", "people/han-dong.html"),
        ("../sources/cbc.md#quote", "../sources/cbc.html#quote"),
        ("index.MD?x=1", "index.html?x=1"),
        ("people/han-dong.html", "people/han-dong.html"),
        ("https://example.com/README.md", "https://example.com/README.md"),
        ("//example.com/README.md", "//example.com/README.md"),
        ("notes.mdx", "notes.mdx"),
        ("people/.md", "people/.md"),
        ("#section.md", "#section.md"),
    ],
)
def test_relative_markdown_links_become_html(href: str, expected: str) -> None:
    page = render_html(f"[a]({href}) and [b][ref]\n\n[ref]: {href}\n", title="t")
    hrefs = [value for name, value in collect(page).attributes if name == "href"]
    assert hrefs == [expected, expected]


def test_render_html_tables_footnotes_strikethrough_and_determinism() -> None:
    markdown = render_skeleton(["Han Dong", *["value"] * (SLOTS - 1)])
    page = render_html(markdown, title="Han Dong")
    assert page == render_html(markdown, title="Han Dong")
    tags = collect(page).tags
    for tag in ("table", "thead", "tbody", "th", "td", "section", "sup", "blockquote", "h1"):
        assert tag in tags
    assert "<s>x</s>" in render_html("~~x~~", title="t")
    assert "title:" not in page


# ------------------------------------------------------------------------------------------
# Jinja environment
# ------------------------------------------------------------------------------------------


def test_environment_settings() -> None:
    env = jinja_environment()
    assert env.undefined is jinja2.StrictUndefined
    assert env.autoescape is False
    assert env.trim_blocks and env.lstrip_blocks and env.keep_trailing_newline
    assert {"md", "md_link", "md_url", "yaml_str"} <= set(env.filters)
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing|md }}").render()
    assert env.from_string("{{ x }}").render(x="<b>") == "<b>"
    assert env.from_string("{{ x|md }}").render(x="<b>") == "\\<b\\>"
    template = env.from_string(
        "{% for x in xs %}\n  {% if x %}\n- {{ x|md }}\n  {% endif %}\n{% endfor %}\n"
    )
    assert template.render(xs=["a", "", "b"]) == "- a\n- b\n"


def test_shipped_templates_are_found() -> None:
    shipped = Path(render.__file__).resolve().parent.parent / "templates"
    names = {path.relative_to(shipped).as_posix() for path in shipped.rglob("*.j2")}
    assert names <= set(jinja_environment().list_templates())


def test_user_templates_override_and_extend_the_shipped_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        render,
        "_shipped_templates_loader",
        lambda: jinja2.DictLoader(
            {"page.md.j2": "{% block body %}shipped{% endblock %}\n", "other.md.j2": "other\n"}
        ),
    )
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "page.md.j2").write_text(
        '{% extends "default:page.md.j2" %}{% block body %}mine+{{ super() }}{% endblock %}'
    )
    (second / "page.md.j2").write_text("second\n")
    (second / "extra.md.j2").write_text("extra {{ x|md }}\n")
    env = jinja_environment(extra_dirs=[first, second])
    assert env.get_template("page.md.j2").render() == "mine+shipped"
    assert env.get_template("extra.md.j2").render(x="#") == "extra \\#\n"
    assert env.get_template("other.md.j2").render() == "other\n"
