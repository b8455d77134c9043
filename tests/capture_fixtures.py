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
    published: str = "2023-03-23T05:00:00-04:00",
    author: str = "Parliamentary bureau",
    url: str = PAGE_URL,
) -> str:
    """A realistic article page around `paragraphs`."""
    body = "\n".join(f"      <p>{html.escape(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{html.escape(title)} | News</title>
  <meta property="og:title" content="{html.escape(title)}">
  <meta property="og:url" content="{url}">
  <meta property="article:published_time" content="{published}">
  <meta name="author" content="{html.escape(author)}">
  <link rel="canonical" href="{url}">
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
      <div class="byline">By {html.escape(author)} · Posted: Mar 23, 2023</div>
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
