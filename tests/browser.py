"""Published pages in a real browser: headless Chromium (Debian's `chromium`) driven by
Playwright for Python, on files served from disk (file://, nothing on the network).

`check_pages` is what tests/test_browser.py asserts on. Run as a script it refreshes the
screenshots kept in docs/screenshots/ (see docs/dossiers.md):

    .venv/bin/python tests/browser.py docs/screenshots

which publishes the example ledger to a temporary folder and shows the index and the Han
Dong dossier at 1200 and 400 px wide.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium tries to reach Google's hosts at every
# start, which a closed network refuses (see /work/.library/env/machines/python.md).
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDTHS = (1200, 400)
SCREENSHOT_HEIGHT = 1600
SCREENSHOTS = (("index.html", "index"), ("people/han-dong.html", "han-dong"))

# Runs in each page: what a reader (or a screen reader) would run into.
_INSPECT = """() => {
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > window.innerWidth + 1) {
    problems.push(`scrolls sideways: ${root.scrollWidth}px in a ${window.innerWidth}px window`);
  }
  for (const element of document.querySelectorAll('main *')) {
    if (element.scrollWidth > element.clientWidth + 1 && element.clientWidth > 1
        && getComputedStyle(element).overflowX !== 'visible') {
      problems.push(`a <${element.tagName.toLowerCase()}> scrolls sideways inside the page`);
    }
  }
  for (const badge of document.querySelectorAll('.badge')) {
    if (!badge.innerText.trim()) problems.push('a status badge has no text');
  }
  for (const link of document.querySelectorAll('a[href^="#"]')) {
    const id = decodeURIComponent(link.getAttribute('href').slice(1));
    const target = document.getElementById(id);
    if (!target) { problems.push(`#${id}: no such anchor`); continue; }
    if (!target.getClientRects().length) problems.push(`#${id}: the anchor is not shown`);
  }
  let jsonld = 0;
  for (const script of document.querySelectorAll('script[type="application/ld+json"]')) {
    try { JSON.parse(script.textContent); jsonld += 1; }
    catch (error) { problems.push(`JSON-LD does not parse: ${error}`); }
  }
  return {problems, jsonld, badges: document.querySelectorAll('.badge').length};
}"""


@dataclass
class BrowserReport:
    """Pages loaded (per width), badges and JSON-LD blocks seen, and every problem."""

    loads: int = 0
    badges: int = 0
    jsonld: int = 0
    problems: list[str] = field(default_factory=list)


def chromium_missing() -> str | None:
    """Why the browser test cannot run here, or None."""
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing (Debian package chromium; run .ci/install-web-tools.sh)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[test]')"
    return None


@contextmanager
def chromium() -> Iterator:
    """A headless Chromium, closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def check_pages(
    root: Path,
    pages: list[str],
    *,
    widths: tuple[int, ...] = WIDTHS,
    anchor_page: str | None = None,
    anchor: str | None = None,
) -> BrowserReport:
    """Load each page at each width and inspect it; then follow one link to `anchor` on
    `anchor_page` and check the browser scrolls it into view."""
    report = BrowserReport()
    with chromium() as browser:
        for width in widths:
            page = browser.new_page(viewport={"width": width, "height": 900})
            errors: list[str] = []
            page.on("console", lambda m, e=errors: e.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc, e=errors: e.append(str(exc)))
            for name in pages:
                errors.clear()
                page.goto((root / name).as_uri())
                result = page.evaluate(_INSPECT)
                report.loads += 1
                report.badges += result["badges"]
                report.jsonld += result["jsonld"]
                report.problems += [f"{name} at {width}px: {p}" for p in result["problems"]]
                report.problems += [f"{name} at {width}px: console error: {e}" for e in errors]
            if anchor_page and anchor:
                page.goto((root / anchor_page).as_uri() + "#" + anchor)
                seen = page.evaluate(
                    """(id) => {
                  const box = document.getElementById(id).getBoundingClientRect();
                  return box.top >= 0 && box.top < window.innerHeight && window.scrollY > 0;
                }""",
                    anchor,
                )
                if not seen:
                    report.problems.append(
                        f"{anchor_page}#{anchor} at {width}px: the browser "
                        "did not scroll the anchor into view"
                    )
            page.close()
    return report


def screenshots(root: Path, out_dir: Path) -> list[Path]:
    """The index and the Han Dong dossier at each width, the top of each page."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with chromium() as browser:
        for width in WIDTHS:
            page = browser.new_page(viewport={"width": width, "height": SCREENSHOT_HEIGHT})
            for name, stem in SCREENSHOTS:
                page.goto((root / name).as_uri())
                path = out_dir / f"{stem}-{width}.png"
                page.screenshot(path=str(path))
                written.append(path)
            page.close()
    return written


def publish_example(out: Path) -> None:
    """The example ledger (`ledger demo`) published to `out`, HTML included."""
    from ledger.cli import run

    database = out.parent / "example.db"
    if run(["--db", str(database), "demo", "--out", str(out)]) != 0:
        raise SystemExit("ledger demo failed")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python tests/browser.py OUT_DIR   (e.g. docs/screenshots)", file=sys.stderr)
        return 2
    missing = chromium_missing()
    if missing:
        print(missing, file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        site = Path(scratch) / "site"
        publish_example(site)
        for path in screenshots(site, Path(argv[0])):
            print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
