"""Read a source's text from the file a fact-checker saved: text, HTML, PDF or WARC.

`read_capture(path)` picks the format from the file's content (the extension only breaks a
tie), extracts the text and returns it with the original file's SHA-256 and media type, so the
capture can be proved later. For HTML (and the page inside a WARC) it also reads the page's
metadata: title, publication date, author and canonical URL, each with where it was found.

- HTML: the main text by trafilatura (boilerplate such as navigation, cookie banners, related
  links and footers removed, one paragraph per line).
- PDF: each page's text by pypdf, pages in order, separated by a blank line.
- WARC (`.warc`, `.warc.gz`): the first archived HTML response, as Webrecorder and web archives
  save it (warcio), then as HTML. The record's target URI and date count as metadata.

Nothing here touches the database. Errors are `ReadFailed` (exit 1), saying what to do.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from ledger.errors import InvalidValue, ReadFailed

FORMATS = ("txt", "html", "pdf", "warc")
MEDIA_TYPES = {
    "txt": "text/plain",
    "html": "text/html",
    "pdf": "application/pdf",
    "warc": "application/warc",
}
MAX_FILE_BYTES = 200 * 1024 * 1024
"""A saved file larger than this is refused before it is read."""

_EXTENSIONS = {
    ".txt": "txt",
    ".text": "txt",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".pdf": "pdf",
    ".warc": "warc",
}
_HTML_START = re.compile(
    rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b",
    re.IGNORECASE | re.DOTALL,
)
_HTML_TAG = re.compile(rb"<(?:head|body|title|meta|p|div|article)\b", re.IGNORECASE)
_ISO_DAY = re.compile(r"^(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class Capture:
    """A stored text as extracted from one saved file."""

    text: str
    format: str
    media_type: str
    file_sha256: str
    # field -> (value, where it was found), for title, published, author, url
    metadata: dict[str, tuple[str, str]] = field(default_factory=dict)
    retrieved: str | None = None  # when the file's own record says it was fetched (WARC)


def read_capture(path: str | Path, *, format: str | None = None) -> Capture:
    """Read `path` and extract its text; `format` (txt, html, pdf, warc) overrides sniffing."""
    name = str(path)
    if format is not None:
        format = format.strip().lower()
        if format == "htm":
            format = "html"
        if format not in FORMATS:
            raise InvalidValue(f"--format must be one of {', '.join(FORMATS)}; got {format!r}")
    data = _read_bytes(Path(path))
    kind = format or sniff(data, name=name)
    extract = {
        "txt": _text_capture,
        "html": _html_capture,
        "pdf": _pdf_capture,
        "warc": _warc_capture,
    }[kind]
    text, metadata, retrieved = extract(data, name)
    if not text.strip():
        raise ReadFailed(
            f"--text-file {name!r}: no text could be extracted from this {kind} "
            f"file; {_EMPTY_HINT[kind]}"
        )
    return Capture(
        text=text,
        format=kind,
        media_type=MEDIA_TYPES[kind],
        file_sha256=hashlib.sha256(data).hexdigest(),
        metadata=metadata,
        retrieved=retrieved,
    )


_EMPTY_HINT = {
    "txt": "the file is empty",
    "html": "save the article's own page (not an index or a login page), or try --format txt",
    "pdf": "it may be scanned images: run OCR on it first (e.g. ocrmypdf) and give that file",
    "warc": "the archive holds no page text; archive the article itself",
}


def _read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ReadFailed(
                f"--text-file {str(path)!r} is {size:,} bytes; the limit is "
                f"{MAX_FILE_BYTES:,}: save only the document itself"
            )
        return path.read_bytes()
    except FileNotFoundError:
        raise ReadFailed(f"--text-file: no file {str(path)!r}") from None
    except IsADirectoryError:
        raise ReadFailed(f"--text-file {str(path)!r} is a folder; give a file") from None
    except OSError as exc:
        raise ReadFailed(f"--text-file {str(path)!r}: {exc.strerror}") from None


def sniff(data: bytes, *, name: str = "") -> str:
    """The format of a saved file from its first bytes; the extension only breaks a tie."""
    head = data[:4096]
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"%PDF-") or b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"\x1f\x8b"):
        try:
            inner = gzip.GzipFile(fileobj=io.BytesIO(data)).read(16)
        except (OSError, EOFError):
            inner = b""
        if inner.startswith(b"WARC/"):
            return "warc"
        raise ReadFailed(
            f"--text-file {name!r} is a gzip file that is not a WARC; decompress it first (gunzip)"
        )
    if head.startswith(b"WARC/"):
        return "warc"
    stripped = head.lstrip(b"\xef\xbb\xbf")
    if _HTML_START.match(stripped):
        return "html"
    by_extension = _EXTENSIONS.get(Path(name.lower().removesuffix(".gz")).suffix)
    if by_extension == "html" or (by_extension is None and len(_HTML_TAG.findall(head)) >= 2):
        return "html"
    return "txt"


# --- the formats ---------------------------------------------------------------------------


def _text_capture(data: bytes, name: str) -> tuple[str, dict, None]:
    try:
        return data.decode("utf-8-sig"), {}, None
    except UnicodeDecodeError as exc:
        raise ReadFailed(
            f"--text-file {name!r} is not UTF-8 text ({exc.reason} at byte "
            f"{exc.start}); convert it first, e.g. with iconv, or give "
            "--format html|pdf|warc"
        ) from None


def _html_capture(data: bytes, name: str, *, base_url: str | None = None) -> tuple[str, dict, None]:
    import trafilatura

    try:
        text = trafilatura.extract(
            data,
            url=base_url,
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            deduplicate=False,
            output_format="txt",
        )
    except Exception as exc:  # the extractor's own errors vary by input
        raise ReadFailed(
            f"--text-file {name!r}: the HTML could not be read ({exc}); "
            "save the page again, or try --format txt"
        ) from None
    return text or "", html_metadata(data, base_url=base_url), None


def _pdf_capture(data: bytes, name: str) -> tuple[str, dict, None]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ReadFailed(
                f"--text-file {name!r} is a password-protected PDF; save an unprotected copy first"
            )
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
    except ReadFailed:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ReadFailed(
            f"--text-file {name!r} is not a readable PDF ({exc}); download it "
            "again, or give --format txt|html|warc"
        ) from None
    return "\n\n".join(page for page in pages if page), {}, None


def _warc_capture(data: bytes, name: str) -> tuple[str, dict, str | None]:
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    try:
        for record in ArchiveIterator(io.BytesIO(data)):
            if record.rec_type != "response" or record.http_headers is None:
                continue
            content_type = (record.http_headers.get_header("Content-Type") or "").lower()
            if "html" not in content_type:
                continue
            target = record.rec_headers.get_header("WARC-Target-URI")
            page = record.content_stream().read()
            text, metadata, _ = _html_capture(page, name, base_url=target)
            if target and "url" not in metadata:
                metadata["url"] = (target, "the WARC record's WARC-Target-URI")
            return text, metadata, _warc_date(record.rec_headers.get_header("WARC-Date"))
    except ArchiveLoadFailed as exc:
        raise ReadFailed(
            f"--text-file {name!r} is not a readable WARC ({exc}); save the archive again"
        ) from None
    raise ReadFailed(
        f"--text-file {name!r}: the WARC holds no archived HTML page; archive the article itself"
    )


def _warc_date(value: str | None) -> str | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- HTML metadata -------------------------------------------------------------------------

_META = {
    "title": [
        ("meta", "property", "og:title"),
        ("meta", "name", "twitter:title"),
        ("meta", "name", "dc.title"),
        ("title", None, None),
    ],
    "published": [
        ("meta", "property", "article:published_time"),
        ("meta", "name", "article:published_time"),
        ("meta", "name", "date"),
        ("meta", "name", "dc.date"),
        ("meta", "name", "pubdate"),
        ("meta", "itemprop", "datePublished"),
        ("time", "datetime", None),
    ],
    "author": [
        ("meta", "name", "author"),
        ("meta", "property", "article:author"),
        ("meta", "name", "dc.creator"),
    ],
    "url": [("link", "rel", "canonical"), ("meta", "property", "og:url")],
}
_JSON_LD = {"title": "headline", "published": "datePublished", "author": "author"}


def html_metadata(data: bytes | str, *, base_url: str | None = None) -> dict[str, tuple[str, str]]:
    """Title, publication date (YYYY-MM-DD), author and canonical URL of a page.

    Each value comes with where it was found, e.g. `<meta property="og:title">`; the first
    place that has a usable value wins, then the page's JSON-LD.
    """
    from lxml import html as lxml_html
    from lxml.etree import ParserError

    try:
        tree = lxml_html.document_fromstring(data)
    except (ParserError, ValueError):
        return {}
    found: dict[str, tuple[str, str]] = {}
    for name, places in _META.items():
        for tag, attribute, value in places:
            candidate, where = _lookup(tree, tag, attribute, value)
            candidate = _usable(name, candidate, base_url)
            if candidate:
                found[name] = (candidate, where)
                break
    ld = _json_ld(tree)
    for name, key in _JSON_LD.items():
        if name not in found and ld.get(key):
            value = ld[key]
            if isinstance(value, list):
                value = value[0] if value else None
            if isinstance(value, dict):
                value = value.get("name")
            candidate = _usable(name, value if isinstance(value, str) else None, base_url)
            if candidate:
                found[name] = (candidate, f"the page's JSON-LD {key}")
    return found


def _lookup(tree: Any, tag: str, attribute: str | None, value: str | None) -> tuple[str, str]:
    if tag == "title":
        node = tree.find(".//title")
        return (node.text_content() if node is not None else ""), "<title>"
    if tag == "time":
        for node in tree.iter("time"):
            if node.get("datetime"):
                return node.get("datetime"), "<time datetime>"
        return "", ""
    for node in tree.iter(tag):
        if (node.get(attribute) or "").strip().lower() == value:
            content = node.get("href" if tag == "link" else "content") or ""
            if content.strip():
                target = "href" if tag == "link" else "content"
                return content, f'<{tag} {attribute}="{value}"> {target}'
    return "", ""


def _usable(name: str, value: str | None, base_url: str | None) -> str | None:
    value = " ".join((value or "").split())
    if not value:
        return None
    if name == "published":
        match = _ISO_DAY.match(value)
        return match.group(1) if match else None
    if name == "url":
        value = urljoin(base_url, value) if base_url else value
        return value if value.startswith(("http://", "https://")) else None
    return value[:500]


def _json_ld(tree: Any) -> dict[str, Any]:
    for node in tree.iter("script"):
        if (node.get("type") or "").lower() != "application/ld+json":
            continue
        try:
            data = json.loads(node.text_content() or "")
        except (ValueError, RecursionError):
            continue
        items = (
            data
            if isinstance(data, list)
            else data.get("@graph", [data])
            if isinstance(data, dict)
            else []
        )
        for item in items:
            if isinstance(item, dict) and str(item.get("@type", "")).endswith(
                ("Article", "NewsArticle", "Report", "WebPage")
            ):
                return item
    return {}
