"""Walk a published folder: every link, anchor and JSON-LD URL must resolve.

Used by tests/test_web.py (the example ledger) and tests/liar_import.py (LIAR). A page's
problems are strings naming the page and the link, so a failure says what to fix.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.duplicate_ids: set[str] = set()
        self.hrefs: list[str] = []
        self.jsonld: list[str] = []
        self._in_jsonld = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        ident = values.get("id")
        if ident:
            (self.duplicate_ids if ident in self.ids else self.ids).add(ident)
        if tag in ("a", "link") and values.get("href"):
            self.hrefs.append(values["href"] or "")
        self._in_jsonld = tag == "script" and values.get("type") == "application/ld+json"

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_jsonld = False

    def handle_data(self, data: str) -> None:
        if self._in_jsonld:
            self.jsonld.append(data)


@dataclass
class SiteReport:
    """What `check_site` found: pages and links checked, and every problem."""

    pages: int = 0
    links: int = 0
    jsonld_urls: int = 0
    largest: tuple[int, str] = (0, "")
    problems: list[str] = field(default_factory=list)


def _urls(data) -> list[str]:
    """Every ClaimReview `url` (not the URLs of the works it cites)."""
    items = data if isinstance(data, list) else [data]
    return [
        item["url"]
        for item in items
        if isinstance(item, dict) and item.get("@type") == "ClaimReview" and "url" in item
    ]


def check_site(root: Path, *, base_url: str | None = None) -> SiteReport:
    """Check every .html page under `root` (and every relative link in every .md page).

    Relative hrefs must name a file in the folder and, with a fragment, an id in it; ids must
    be unique per page; JSON-LD must parse, and each ClaimReview `url` must be `base_url` +
    a page + an existing anchor (or `#anchor` on the page itself without a base URL).
    """
    report = SiteReport()
    parsed: dict[str, _Page] = {}
    for path in sorted(root.rglob("*.html")):
        page = _Page()
        page.feed(path.read_text(encoding="utf-8"))
        page.close()
        parsed[path.relative_to(root).as_posix()] = page
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in (".html", ".md"):
            report.pages += 1
            report.largest = max(
                report.largest, (path.stat().st_size, path.relative_to(root).as_posix())
            )

    def resolve(page_name: str, href: str) -> str | None:
        """The problem with a relative href on a page, or None."""
        parts = urlsplit(href)
        if parts.scheme or parts.netloc:
            return None
        target = (
            page_name
            if not parts.path
            else str(PurePosixPath(page_name).parent / unquote(parts.path))
        )
        target = _normalise(target)
        if target is None or not (root / target).is_file():
            return f"{page_name}: link to a missing file {href!r}"
        if parts.fragment and target.endswith(".html") and parts.fragment not in parsed[target].ids:
            return f"{page_name}: link to a missing anchor {href!r}"
        return None

    for name, page in parsed.items():
        for ident in sorted(page.duplicate_ids):
            report.problems.append(f"{name}: id {ident!r} is used twice")
        for href in page.hrefs:
            report.links += 1
            problem = resolve(name, href)
            if problem:
                report.problems.append(problem)
        for block in page.jsonld:
            try:
                data = json.loads(block)
            except ValueError as exc:
                report.problems.append(f"{name}: JSON-LD does not parse: {exc}")
                continue
            for url in _urls(data):
                report.jsonld_urls += 1
                if base_url:
                    if not url.startswith(base_url.rstrip("/") + "/"):
                        report.problems.append(
                            f"{name}: JSON-LD url {url!r} is not under {base_url}"
                        )
                        continue
                    problem = resolve("index.html", url[len(base_url.rstrip("/")) + 1 :])
                elif url.startswith("#"):
                    problem = resolve(name, url)
                else:
                    problem = f"{name}: JSON-LD url {url!r} is neither absolute nor #anchor"
                if problem:
                    report.problems.append(problem)
    for path in sorted(root.rglob("*.md")):
        name = path.relative_to(root).as_posix()
        for href in re.findall(r"\]\(<([^>]*)>\)", path.read_text(encoding="utf-8")):
            if urlsplit(href).scheme:
                continue
            report.links += 1
            target = _normalise(str(PurePosixPath(name).parent / urlsplit(href).path))
            if target is None or not (root / target).is_file():
                report.problems.append(f"{name}: link to a missing file {href!r}")
    return report


def _normalise(path: str) -> str | None:
    parts: list[str] = []
    for part in PurePosixPath(path).parts:
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)
