"""Saved files as fact-checkers keep them, made from the seed documents at test time.

- `news_page`: a news article page wrapping paragraphs of a seed text in the boilerplate real
  pages carry: a skip link, navigation, a cookie banner, scripts, related links, a footer;
  with its metadata (Open Graph title, publication time, author, canonical URL).
- `petition_pdf`: the seed petition and the government's response as a two-page PDF.
- `page_warc`: the news page as a web archive saves it: a WARC response record, gzipped.

Nothing here is committed output: the seeds are read where they are (../shared/seeds).
"""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, datetime
from pathlib import Path

# Text that only the page's furniture carries; none of it may reach the stored text.
BOILERPLATE = (
    "Skip to main content",
    "We use cookies to personalise content and ads",
    "Accept all cookies",
    "Sign in to your account",
    "Related stories",
    "Watch: the week in Ottawa",
    "All rights reserved",
    "trackPageView",
)
PAGE_URL = "https://news.example.org/politics/foreign-interference-inquiry-vote"
PAGE_TITLE = "MPs to vote on public inquiry after Han Dong leaves Liberal caucus"


def seed_paragraphs(seeds: Path, name: str, *, skip: int = 0, count: int = 8) -> list[str]:
    """Paragraphs of one seed file (blank-line separated), without its header line."""
    text = (seeds / name).read_text(encoding="utf-8")
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]
    return paragraphs[skip : skip + count]


def news_page(
    paragraphs: list[str],
    *,
    title: str = PAGE_TITLE,
    published: str | None = "2023-03-23T05:00:00-04:00",
    author: str | None = "Parliamentary bureau",
    url: str | None = PAGE_URL,
) -> str:
    """A realistic article page around `paragraphs`; metadata left out where None."""
    meta = [f'<meta property="og:title" content="{html.escape(title)}">']
    if url:
        meta += [
            f'<meta property="og:url" content="{url}">',
            f'<link rel="canonical" href="{url}">',
        ]
    if published:
        meta.append(f'<meta property="article:published_time" content="{published}">')
    if author:
        meta.append(f'<meta name="author" content="{html.escape(author)}">')
    head = "\n  ".join(meta)
    byline = html.escape(author or "Staff")
    body = "\n".join(f"      <p>{html.escape(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{html.escape(title)} | News</title>
  {head}
  <script>window.dataLayer = []; function trackPageView() {{ dataLayer.push('view'); }}</script>
  <script type="application/ld+json">{{"@type": "NewsArticle", "headline": "{title}"}}</script>
</head>
<body>
  <a class="skip" href="#main">Skip to main content</a>
  <header>
    <nav><ul><li><a href="/">Home</a></li><li><a href="/politics">Politics</a></li>
      <li><a href="/world">World</a></li><li><a href="/login">Sign in to your account</a></li>
    </ul></nav>
  </header>
  <div id="cookie-banner" class="cookie-consent">
    <p>We use cookies to personalise content and ads, and to analyse our traffic.</p>
    <button>Accept all cookies</button>
  </div>
  <main id="main">
    <article>
      <h1>{html.escape(title)}</h1>
      <div class="byline">By {byline} · Updated 2 hours ago</div>
{body}
    </article>
    <aside class="related">
      <h2>Related stories</h2>
      <ul><li><a href="/a">Watch: the week in Ottawa</a></li>
        <li><a href="/b">Opinion: what the inquiry should ask</a></li></ul>
    </aside>
  </main>
  <footer><p>© 2023 News Example. All rights reserved.</p>
    <a href="/terms">Terms of use</a> <a href="/privacy">Privacy</a></footer>
  <script>trackPageView();</script>
</body>
</html>
"""


def petition_pdf(pages: list[list[str]]) -> bytes:
    """A PDF with one page per list of paragraphs (Helvetica, so Latin-1 text only)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_creation_date(datetime(2021, 1, 25, tzinfo=UTC))  # the same bytes on every run
    pdf.set_font("Helvetica", size=11)
    for paragraphs in pages:
        pdf.add_page()
        for paragraph in paragraphs:
            pdf.multi_cell(0, 6, latin1(paragraph))
            pdf.ln(3)
    return bytes(pdf.output())


def latin1(text: str) -> str:
    """Text the PDF core fonts can draw: curly quotes and dashes made plain."""
    plain = text.translate(
        str.maketrans(
            {"“": '"', "”": '"', "‘": "'", "’": "'", "—": "-", "–": "-", "…": "...", "•": "-"}
        )
    )
    return plain.encode("latin-1", "replace").decode("latin-1")


def page_warc(page: str, *, url: str = PAGE_URL, date: str = "2023-03-23T14:05:09Z") -> bytes:
    """A gzipped WARC holding a request and the page's response, as warcio writes them."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    writer.write_record(writer.create_warcinfo_record("page.warc.gz", {"software": "tests"}))
    body = page.encode("utf-8")
    headers = StatusAndHeaders(
        "200 OK",
        [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))],
        protocol="HTTP/1.1",
    )
    record = writer.create_warc_record(
        url,
        "response",
        payload=io.BytesIO(body),
        http_headers=headers,
        warc_headers_dict={"WARC-Date": date},
    )
    writer.write_record(record)
    return buffer.getvalue()


# --- the example ledger's captures --------------------------------------------------------------

EXAMPLE_PDFS = ("petition-e2835",)
"""Example sources saved as PDF; every other example source with text is an HTML page."""


def example_capture_name(key: str) -> str:
    """The file in ledger/examples/ that an example source's text was extracted from."""
    return f"{key}.pdf" if key in EXAMPLE_PDFS else f"{key}.html"


def example_capture(source: dict) -> bytes:
    """The saved file for one example source: its excerpt's paragraphs (and `[…]` marks)
    in a news page, or for the petition a PDF."""
    paragraphs = [p for p in source["text"].split("\n\n") if p.strip()]
    if source["key"] in EXAMPLE_PDFS:
        return petition_pdf([paragraphs])
    published = source.get("published")
    return news_page(
        paragraphs,
        title=re.sub(r"\s*\([^)]*\)$", "", source["title"]),  # the headline, without notes
        published=published if published and len(published) == 10 else None,
        author=source.get("author"),
        url=source.get("url"),
    ).encode("utf-8")


def refresh_example_captures(bundle: Path) -> None:
    """Write each example source's saved file beside the bundle and store, in the bundle,
    the text extracted from it with the file's SHA-256 and media type.

    Run once when the example's excerpts change:
    `.venv/bin/python -c "import sys; sys.path.insert(0, 'tests'); import capture_fixtures as f;
    f.refresh_example_captures(f.Path('ledger/examples/story.jsonl'))"`
    """
    import json

    from ledger.io.capture import read_capture

    lines = []
    for line in bundle.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["type"] == "source" and record.get("text"):
            if record.get("media_type"):  # already a capture: rebuild from its first excerpt
                raise SystemExit("the bundle already holds captures; restore the excerpts first")
            path = bundle.parent / example_capture_name(record["key"])
            path.write_bytes(example_capture(record))
            capture = read_capture(path)
            updated = {}
            for name, value in record.items():
                updated[name] = value
                if name == "text":
                    updated.update(
                        text=capture.text,
                        file_sha256=capture.file_sha256,
                        media_type=capture.media_type,
                    )
            record = updated
        lines.append(json.dumps(record, ensure_ascii=False))
    bundle.write_text("\n".join(lines) + "\n", encoding="utf-8")
