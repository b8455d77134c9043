"""The published example site in headless Chromium: the README's first command makes pages a
browser accepts. Every page loads with no console error and no sideways scroll at 400 px,
anchors are there and shown, status badges carry text, and the embedded JSON-LD parses."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from browser import check_pages, chromium_missing, publish_example
from sitecheck import check_site


@pytest.fixture(scope="module")
def example_site(tmp_path_factory) -> Path:
    missing = chromium_missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser test cannot run: {missing}")
        pytest.skip(missing)
    site = tmp_path_factory.mktemp("browser") / "reports"
    publish_example(site)  # what `ledger --db example.db demo` writes
    return site


def test_every_published_page_works_in_a_browser(example_site: Path, capsys) -> None:
    pages = sorted(p.relative_to(example_site).as_posix() for p in example_site.rglob("*.html"))
    assert len(pages) == 35
    report = check_pages(example_site, pages, anchor_page="people/han-dong.html", anchor="claim-3")
    assert report.problems == []
    assert report.loads == 2 * len(pages)
    assert report.badges > 0 and report.jsonld > 0
    assert check_site(example_site).problems == []
    with capsys.disabled():
        print(
            f"\n{report.loads} page loads in Chromium (35 pages at 1200 and 400 px), "
            f"{report.badges} badges, {report.jsonld} JSON-LD blocks: no problem"
        )
