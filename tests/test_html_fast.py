"""HTML through cmark-gfm (issue 13, item 3): the same Markdown, the same HTML, faster.

`render_html` renders a page's Markdown with cmark-gfm and brings it to exactly the HTML the
reference parser (`markdown_parser`, markdown-it-py) gives; a document the fast path cannot
reproduce exactly goes to the reference. These tests hold the fast path to the reference on
every page the shipped templates make (the example ledger and the hostile corpus) and on
every slot of a dossier-like skeleton filled with any text, and check that what it does not
do is handed over rather than rendered differently.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_hostile import build
from test_render import HOSTILE, SAFE_URLS, SLOTS, VALUES, render_skeleton

from ledger import render
from ledger.render import md_inline, render_html


def reference(markdown: str) -> str:
    return render.markdown_parser().render(markdown)


def assert_fast_and_same(markdown: str) -> None:
    fast = render._cmark_body(markdown)
    assert fast is not None, markdown[:500]
    assert fast.strip("\n") == reference(markdown).strip("\n")


def web_markdown(cli, out: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The Markdown of every HTML page (and of each distinct footer) `publish --html`
    renders."""
    seen: list[str] = []
    original = render._render_body

    def recording(markdown: str) -> str:
        seen.append(markdown)
        return original(markdown)

    monkeypatch.setattr(render, "_render_body", recording)
    cli.ok("publish", "--html", "--jobs", "1", "--out", str(out))  # rendered in this process
    return seen


def test_every_example_page_takes_the_fast_path_with_the_reference_html(
    story, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    documents = web_markdown(story, tmp_path / "site", monkeypatch)
    # 35 pages, and their footer (one text for the whole site, rendered once).
    footers = [d for d in documents if d.startswith("Verify this page:")]
    assert len(documents) - len(footers) >= 35 and footers
    for markdown in documents:
        assert_fast_and_same(markdown)


def test_hostile_pages_render_as_the_reference_does(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(cli, tmp_path, twin=False)
    documents = web_markdown(cli, tmp_path / "site", monkeypatch)
    fast = 0
    for markdown in documents:
        body = render._cmark_body(markdown)
        if body is not None:
            fast += 1
            assert body.strip("\n") == reference(markdown).strip("\n")
    # Hostile text is escaped before it reaches a page, so it never sends one to the
    # reference parser.
    assert fast == len(documents)


@settings(max_examples=200, deadline=None)
@given(values=VALUES, url=st.sampled_from(SAFE_URLS))
def test_any_text_in_every_slot_renders_as_the_reference_does(values: list[str], url: str) -> None:
    markdown = render_skeleton(values, url)
    fast = render._cmark_body(markdown)
    if fast is not None:
        assert fast.strip("\n") == reference(markdown).strip("\n")


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_in_attribute_spans_and_headings(value: str) -> None:
    escaped = md_inline(value)
    markdown = (
        f"{{#claim-1 .allegation}}\n### {escaped}\n\n"
        f"- [Denial]{{#response-2 .response-kind}} by {escaped} "
        f"([disputed]{{.badge .status-disputed}})\n"
    )
    assert_fast_and_same(markdown)


def test_the_skeleton_takes_the_fast_path() -> None:
    assert_fast_and_same(render_skeleton([f"value {i}" for i in range(SLOTS)]))


@pytest.mark.parametrize(
    "markdown",
    [
        "<b>raw</b> html\n",
        "<div>\nblock\n</div>\n",
        "![image](https://example.com/x.png)\n",
        "[x](javascript:alert(1))\n",
        "[x](<ftp://example.com/>)\n",
        "<javascript:alert(1)>\n",
        "- {.x}\n",
        "  {#a}\n# heading\n",
        "text\n{#a}\n# heading\n",
        "[a *b*]{.x}\n",
        "**[a]{.x}**\n",
        "[a]{#x #y}\n",
        "x[^note]\n\n[^note]: a named note\n",
        "\ue000 a private-use mark\n",
        "---\nunclosed: front matter\n",
        "lone \ud800 surrogate\n",
    ],
)
def test_what_the_fast_path_does_not_reproduce_goes_to_the_reference(markdown: str) -> None:
    assert render._cmark_body(markdown) is None
    page = render_html(markdown, title="t")
    assert reference(markdown).strip("\n") in page


def test_front_matter_attributes_footnotes_tables_and_links() -> None:
    markdown = (
        '---\ntitle: "x"\n\n---\n\n{#people}\n## People\n\n'
        "| Name | Count |\n| --- | ---: |\n| [Han *Dong*](<people/han-dong.md#x>) | 3 |\n\n"
        "A[^3] and again[^3], then[^4] ~~struck~~.\n\n"
        "[^3]: Source three, [page](<../sources/a.md>).\n[^4]: Source four.\n"
    )
    assert_fast_and_same(markdown)
    body = render._cmark_body(markdown)
    assert body is not None
    assert '<h2 id="people">People</h2>' in body
    assert '<td data-label="Name"><a href="people/han-dong.html#x">' in body
    assert '<td style="text-align:right" data-label="Count">3</td>' in body
    assert 'id="cite-source-3-1">[1]</a>' in body and '<li id="source-4"' in body
    assert "title:" not in body and "<s>struck</s>" in body


# The single regex `_attributes_left` replaced (it scanned the whole page from every line
# start): both must agree on every text.
ATTRIBUTES_LEFT = __import__("re").compile(
    r"(?m)^(?:[ \t]*(?:>|[-+*]|\d{1,9}[.)]))*[ \t]*\{|(?<!\\)\]\{"
)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=" \t\n>-+*.)019{}[]\\ax", max_size=40))
def test_attributes_left_agrees_with_the_one_regex(text: str) -> None:
    assert render._attributes_left(text) == bool(ATTRIBUTES_LEFT.search(text))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=" \n#{}.-abz\\*_~[]", max_size=40))
def test_attribute_blocks_and_spans_are_found_where_they_were(text: str) -> None:
    import re

    part = r"[#.][A-Za-z][A-Za-z0-9_-]*"
    attrs = rf"\{{({part}(?: {part})*)\}}"
    block = re.compile(rf"(?:(?<=\n\n)|(?<![\s\S])){attrs}\n(?=#{{1,6}} )")
    span = re.compile(
        rf"(?<![\\*_~])\[((?:[^\\\[\]\n!&*<>^_`|~]|\\[!-/:-@\[-`{{-~])*)\]{attrs}(?![*_~])"
    )
    shown = lambda m: f"<{'|'.join(g or '' for g in m.groups())}>"  # noqa: E731
    assert render._ATTR_BLOCK_RE.sub(shown, text) == block.sub(shown, text)
    assert render._ATTR_SPAN_RE.sub(shown, text) == span.sub(shown, text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=" \n#{}.-abz\\*_~[]", max_size=60))
def test_spans_found_line_by_line_are_the_whole_page_search(text: str) -> None:
    shown = lambda m: f"<{'|'.join(g or '' for g in m.groups())}>"  # noqa: E731
    assert render._spans(text, shown) == render._ATTR_SPAN_RE.sub(shown, text)


def _links_one_callback_each(page: str) -> str | None:
    # What `_links` replaced: the regex with a callback per link.
    converted = [render._converted_href(value) for value in render._HREF_RE.findall(page)]
    if None in converted:
        return None
    return render._HREF_RE.sub(lambda match: render._converted_href(match.group(1)), page)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ['<a href="a.md">', '<a href="a.html">', '<a href="#x">', '<a href="">',
             '<a href="b%20c.md#y">', '<a href="javascript:x">', '<a href="https://e.org/">',
             "text ", '" ', "<a href=", "\n"]
        ),
        max_size=12,
    )
)
def test_links_put_back_from_a_split_are_the_callbacks(parts: list[str]) -> None:
    page = "".join(parts)
    assert render._links(page) == _links_one_callback_each(page)


@settings(max_examples=1000, deadline=None)
@given(st.one_of(
    st.text(alphabet="aZ09._~/#-mdhtMDHT", min_size=1, max_size=30),
    st.sampled_from(["../sources/cbc-dong.md#claim-3", "people/han-dong.md", "index.md#people",
                     "..md", "./.md", "x.md/", "a#b#c.md", "//e.org/x.md", "~", "-"]),
))
def test_a_site_link_written_as_it_is_is_what_normalizing_gives(value: str) -> None:
    # The shortcut for the site's own links (no entity, escape or scheme) and the general
    # path agree wherever the shortcut is taken.
    assert render._converted_href.__wrapped__(value) == render._normalized_href(value)


def test_spans_on_many_lines_links_and_citations_repeated() -> None:
    markdown = (
        "# A\n\n[held]{.badge .status-held} first [x](<a.md>) [y](<a.md#c>)\n"
        "- [a]{.badge} and [b]{.badge .b}, [a.md](<b.md>)[^1][^1][^1]\n\n"
        "plain line [not a span] {.x}\n\n| K | V |\n| --- | --- |\n"
        "| [x](<a.md>) | [v]{.badge} |\n\n[^1]: One, [a](<a.md>).\n"
    )
    assert_fast_and_same(markdown)
    body = render._cmark_body(markdown)
    assert body is not None
    assert body.count('<span class="badge">') == 2 and 'id="cite-source-1-2">' in body
    assert body.count('href="a.html"') == 3 and 'href="a.md"' not in body
