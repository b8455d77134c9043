"""ClaimReview: export for assessed claims, import of existing fact-checks (round trip), the
safe script serializer, and the JSON-LD embedded in HTML dossiers checked by a real consumer
(structured-data-testing-tool, `sdtt --presets Google`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from reviewing import approve_all

from ledger.errors import InvalidValue
from ledger.io.claimreview import RATING_SCALE, jsonld_script, rating_status

NODE_DIR = Path(__file__).parent / "node"
SDTT = NODE_DIR / "node_modules" / ".bin" / "sdtt"


def assess(cli):
    cli.ok("source", "edit", "cbc-dong", "--url", "https://www.cbc.ca/news/politics/han-dong")
    cli.ok("claim", "edit", "1", "--status", "corroborated")
    cli.ok("claim", "edit", "2", "--status", "false")
    approve_all(cli.db)  # the edits need review again before they are published


def test_export_only_assessed_claims(story, tmp_path):
    assess(story)
    out = tmp_path / "reviews.json"
    story.ok("export", "--format", "claimreview", "--publisher", "Example News",
             "--base-url", "https://example.org/ledger/", "--out", str(out))
    reviews = json.loads(out.read_text(encoding="utf-8"))
    assessed = [c for c in story.json("claim", "list") if c["status"] in RATING_SCALE]
    assert len(reviews) == len(assessed) < len(story.json("claim", "list"))
    first = reviews[0]
    assert first["@type"] == "ClaimReview"
    assert first["url"] == "https://example.org/ledger/people/han-dong.html#claim-1"
    assert first["author"] == {"@type": "Organization", "name": "Example News"}
    assert first["reviewRating"] == {"@type": "Rating", "ratingValue": 4, "bestRating": 5,
                                     "worstRating": 1, "alternateName": "corroborated"}
    assert len(first["datePublished"]) == 10
    item = first["itemReviewed"]
    assert item["@type"] == "Claim"
    assert item["author"]["name"] == "Global News"
    urls = [w.get("url") for w in item["appearance"]]
    assert "https://www.cbc.ca/news/politics/han-dong" in urls
    assert item["firstAppearance"] in item["appearance"]
    second = next(r for r in reviews if r["url"].endswith("#claim-2"))
    assert second["reviewRating"]["ratingValue"] == 1


def test_publisher_from_environment(story, monkeypatch):
    assess(story)
    monkeypatch.setenv("LEDGER_PUBLISHER", "Env Desk")
    reviews = json.loads(story.ok("export", "--format", "claimreview").out)
    assert {r["author"]["name"] for r in reviews} == {"Env Desk"}


def test_round_trip_keeps_statement_rating_claimant_dates_urls(story, tmp_path):
    assess(story)
    out = tmp_path / "reviews.json"
    story.ok("export", "--format", "claimreview", "--out", str(out))
    from conftest import Cli, new_ledger

    fresh = Cli(new_ledger(tmp_path / "fresh.db"), story.capsys)
    result = fresh("import", str(out), "--format", "claimreview")
    assert result.code == 0, result.err
    approve_all(fresh.db)
    again = json.loads(fresh.ok("export", "--format", "claimreview").out)
    original = json.loads(out.read_text(encoding="utf-8"))

    def essentials(review):
        item = review["itemReviewed"]
        return (review["claimReviewed"], review["reviewRating"]["alternateName"],
                review["reviewRating"]["ratingValue"], item["author"]["name"],
                item.get("datePublished"),
                sorted((w.get("url") or "", w.get("datePublished") or "", w["headline"])
                       for w in item["appearance"]),
                item["firstAppearance"].get("datePublished"))

    assert [essentials(r) for r in again] == [essentials(r) for r in original]
    # Importing the same reviews again adds nothing.
    assert "nothing new" in fresh.ok("import", str(out), "--format", "claimreview").err


def test_import_other_fact_checkers(cli, tmp_path):
    page = tmp_path / "factcheck.html"
    review = {
        "@context": "https://schema.org", "@type": "ClaimReview",
        "url": "https://checker.example/fc/1", "claimReviewed": "The moon is made of cheese",
        "datePublished": "2024-05-02T10:00:00Z",
        "author": {"@type": "Organization", "name": "Checker"},
        "reviewRating": {"@type": "Rating", "ratingValue": 1, "bestRating": 6,
                         "worstRating": 1, "alternateName": "Pants on Fire!"},
        "itemReviewed": {"@type": "Claim",
                         "author": {"@type": "Person", "name": "Wallace Example"},
                         "datePublished": "2024-04-30",
                         "appearance": [{"@type": "CreativeWork",
                                         "url": "https://tv.example/show",
                                         "headline": "Cheese Hour",
                                         "datePublished": "2024-04-30T20:00:00-04:00"}]},
    }
    page.write_text("<html><head><script type=\"application/ld+json\">"
                    + json.dumps({"@graph": [review]}) + "</script></head></html>")
    cli.ok("import", str(page), "--format", "claimreview")
    claim = cli.json("claim", "list")[0]
    assert claim["status"] == "false" and claim["about"] == ["Wallace Example"]
    source = cli.json("source", "list")[0]
    assert source["url"] == "https://tv.example/show" and source["published"] == "2024-04-30"


@pytest.mark.parametrize(("rating", "status"), [
    ({"alternateName": "disputed"}, "disputed"),
    ({"alternateName": "Mostly True"}, "corroborated"),
    ({"alternateName": "Misleading"}, "disputed"),
    ({"alternateName": "?", "ratingValue": 5, "bestRating": 5, "worstRating": 1},
     "confirmed"),
    ({"ratingValue": "2", "bestRating": "3", "worstRating": "1"}, "disputed"),
])
def test_rating_status(rating, status):
    assert rating_status(rating) == status


@pytest.mark.parametrize("content", [
    "not json", "[]", '{"@type": "ClaimReview", "reviewRating": {"alternateName": "x"}}',
    '{"@type": "ClaimReview", "claimReviewed": "S", "reviewRating": {"alternateName": "?"}}',
    '{"@type": "ClaimReview", "claimReviewed": "S", '
    '"reviewRating": {"alternateName": "false"}, "itemReviewed": {}}',
])
def test_bad_reviews_are_refused_cleanly(cli, tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_text(content)
    result = cli("import", str(path), "--format", "claimreview")
    assert result.code == 2, result.err
    assert result.err.startswith("Error: ") and "Traceback" not in result.err
    assert cli.json("claim", "list") == []


def test_script_serializer_cannot_be_broken_out_of():
    hostile = {"claimReviewed": "</script><script>alert(1)</script><!-- \u2028\u2029 & >"}
    script = jsonld_script(hostile)
    body = script.removeprefix('<script type="application/ld+json">').removesuffix("</script>")
    assert "<" not in body and ">" not in body and "&" not in body
    assert "\u2028" not in body and "\u2029" not in body
    assert json.loads(body) == hostile


def test_scale_is_documented_in_order():
    assert list(RATING_SCALE.values()) == [1, 2, 3, 4, 5]


def _sdtt() -> list[str] | None:
    if SDTT.exists() and shutil.which("node"):
        return [str(SDTT)]
    return None


def test_dossier_html_embeds_reviews_that_pass_the_google_checks(story, tmp_path):
    assess(story)
    page = tmp_path / "han-dong.html"
    story.ok("dossier", "Han Dong", "--format", "html", "--out", str(page))
    text = page.read_text(encoding="utf-8")
    scripts = text.count('<script type="application/ld+json">')
    assert scripts >= 2, "one per assessed allegation in Han Dong's dossier"
    command = _sdtt()
    if command is None:
        if os.environ.get("CI") == "true":
            pytest.fail("structured-data-testing-tool is not installed; run "
                        ".ci/install-node-tools.sh")
        pytest.skip("structured-data-testing-tool is not installed (needs npm; run "
                    ".ci/install-node-tools.sh)")
    result = subprocess.run([*command, "--file", str(page), "--presets", "Google"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ClaimReview" in result.stdout


def _review(rating: dict) -> dict:
    return {"@context": "https://schema.org", "@type": "ClaimReview",
            "claimReviewed": "The moon is made of cheese", "reviewRating": rating,
            "itemReviewed": {"@type": "Claim",
                             "author": {"@type": "Person", "name": "Wallace Example"}}}


@pytest.mark.parametrize(("rating", "shown"), [
    ({"ratingValue": "NaN"}, "'NaN' is not a finite number"),
    ({"ratingValue": "Infinity", "alternateName": "False"}, "'Infinity' is not a finite"),
    ({"ratingValue": float("inf")}, "inf is not a finite number"),
    ({"ratingValue": 100, "bestRating": 5, "worstRating": 1},
     "ratingValue 100 is outside the review's scale (worstRating 1 to bestRating 5)"),
    ({"ratingValue": 0}, "ratingValue 0 is outside"),
    ({"ratingValue": True}, "ratingValue True is not a finite number"),
    ({"ratingValue": 3, "bestRating": "NaN"}, "bestRating 'NaN' is not a finite number"),
    ({"ratingValue": 3, "bestRating": 3, "worstRating": 3}, "no scale"),
])
def test_made_up_ratings_are_refused_with_the_review_and_the_value(cli, tmp_path, rating,
                                                                   shown):
    path = tmp_path / "reviews.json"
    path.write_text(json.dumps([_review({"ratingValue": 1, "alternateName": "False"}),
                                _review(rating)]), encoding="utf-8")
    result = cli("import", str(path), "--format", "claimreview")
    assert result.code == 2, result.err
    assert result.err.startswith("Error: review 2: ") and shown in result.err, result.err
    assert result.err.count("\n") == 1
    assert cli.json("claim", "list") == []


def test_an_unmappable_rating_imports_as_unverified_with_a_warning(cli, tmp_path):
    path = tmp_path / "reviews.json"
    path.write_text(json.dumps([_review({"alternateName": "Four Pinocchios"})]),
                    encoding="utf-8")
    result = cli.ok("import", str(path), "--format", "claimreview")
    assert "Warning: review 1: the rating 'Four Pinocchios' is not a ledger status" in result.err
    assert "imported as unverified" in result.err
    assert [c["status"] for c in cli.json("claim", "list")] == ["unverified"]


def test_a_known_label_or_a_number_in_range_still_maps():
    from ledger.io.claimreview import rate

    assert rate({"ratingValue": 1, "worstRating": 1, "bestRating": 5}) == ("false", None)
    assert rate({"ratingValue": "4.0", "worstRating": "0", "bestRating": "4"}) == (
        "confirmed", None)
    assert rate({"ratingValue": 1, "worstRating": 5, "bestRating": 1}) == ("confirmed", None)
    assert rate({"alternateName": "Pants on Fire"}) == ("false", None)
    assert rate({})[0] == "unverified"


CRAFTED = {
    "unclosed script tags": "<html>" + "<script " * 250_000,
    "unclosed attributes": "<html>" + '<a b="' * 333_333,
    "unclosed comments": "<html>" + "<!--" * 500_000,
    "script openers": "<html>" + '<script type="application/ld+json">' * 58_000,
    "script closers": "<html><script type=application/ld+json>[]" + "</script" * 250_000,
}


@pytest.mark.parametrize("name", list(CRAFTED))
def test_a_crafted_2_mb_page_is_handled_in_under_a_second(tmp_path, capsys, name):
    from ledger.io.claimreview import read_reviews

    page = tmp_path / "crafted.html"
    page.write_text(CRAFTED[name], encoding="utf-8")
    assert page.stat().st_size >= 2_000_000
    started = time.process_time()
    with pytest.raises(InvalidValue):  # nothing in it is a ClaimReview
        read_reviews(page)
    seconds = time.process_time() - started
    with capsys.disabled():
        print(f"\n  {name}: {page.stat().st_size:,} bytes in {seconds:.3f} s of CPU")
    assert seconds < 1.0


def test_json_ld_is_found_in_a_large_real_page(tmp_path):
    from ledger.io.claimreview import read_reviews

    review = _review({"alternateName": "False"})
    review["claimReviewed"] = "A </scr ipt> and <!-- inside the JSON"
    page = tmp_path / "page.html"
    page.write_text('<!DOCTYPE html><html><head><SCRIPT TYPE="Application/LD+JSON; x=1">'
                    + json.dumps(review) + "</SCRIPT><script>var x = '<script>';</script>"
                    "</head><body>" + "<p>text &amp; more</p>" * 50_000
                    + '<script type="application/ld+json">' + json.dumps([review])
                    + "</script></body></html>", encoding="utf-8")
    found = read_reviews(page)
    assert [where for where, _ in found] == ["review 1", "review 2"]
    assert found[0][1]["claimReviewed"] == review["claimReviewed"]
