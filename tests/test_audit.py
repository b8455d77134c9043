"""The reviewer's audit: every code fires where it should and stays silent where it should not;
the CLI's formats, filters and --strict; the example ledger; the labeled quote corpus."""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

TEXT = ("Dong told the House of Commons late Wednesday night that he will sit as an "
        "Independent. “What has been reported is false,” he said. The story cited two "
        "unnamed national security sources.")


def codes(findings) -> list[str]:
    return [f["code"] if isinstance(f, dict) else f.code for f in findings]


def run_audit(cli, *args: str) -> list[dict]:
    result = cli("audit", "--json", *args)
    assert result.code == 0, result.err
    return json.loads(result.out)


def of(findings: list[dict], code: str) -> list[dict]:
    return [f for f in findings if f["code"] == code]


@pytest.fixture
def base(cli, tmp_path: Path):
    """Han Dong, a source with stored text, one without, and a claim about him."""
    text = tmp_path / "cbc.txt"
    text.write_text(TEXT, encoding="utf-8")
    cli.ok("person", "add", "Han Dong", "--alias", "Hang Dong")
    cli.ok("person", "add", "Global News", "--kind", "organization")
    cli.ok("source", "add", "--key", "cbc", "--title", "CBC", "--published", "2023-03-23",
           "--text-file", str(text))
    cli.ok("source", "add", "--key", "wire", "--title", "Wire", "--published", "2023-03-24")
    cli.ok("claim", "add", "Dong left the caucus.", "--about", "Han Dong")
    return cli


# --- quotes -------------------------------------------------------------------------------


def test_quote_not_found_gives_closest_passage_similarity_and_diff(base) -> None:
    result = base("claim", "cite", "1", "--source", "cbc", "--quote",
                  "What has been reported is true")
    assert result.code == 0 and "not in the stored text" in result.err
    [finding] = of(run_audit(base), "quote-not-found")
    assert finding["severity"] == "error"
    assert finding["subject"] == {"kind": "claim", "id": 1, "label": "Dong left the caucus."}
    detail = finding["detail"]
    assert detail["source"] == "cbc" and detail["quote"] == "What has been reported is true"
    assert "What has been reported is" in detail["closest"]
    assert 0.5 < detail["similarity"] < 1
    assert "{+true+}" in detail["diff"]


def test_exact_and_normalized_quotes_are_silent(base) -> None:
    base.ok("claim", "cite", "1", "--source", "cbc", "--quote", "he will sit as an Independent")
    base.ok("claim", "cite", "1", "--source", "cbc", "--quote",
            '"What has been reported is false," he said')
    assert not of(run_audit(base), "quote-not-found")


def test_strict_cite_refuses_a_misquote_and_writes_nothing(base) -> None:
    result = base("claim", "cite", "1", "--source", "cbc", "--quote", "late Tuesday night",
                  "--strict")
    assert result.code == 1 and result.err.startswith("Error:")
    assert base.json("claim", "show", "1")["attributions"] == []


def test_quote_is_rechecked_against_the_text_as_stored_now(base, db) -> None:
    base.ok("claim", "cite", "1", "--source", "cbc", "--quote", "late Wednesday night")
    assert not of(run_audit(base), "quote-not-found")
    # The text changes behind the store's back (as a hand-edited database would).
    from sqlalchemy import update

    from ledger.db import open_ledger, transaction
    from ledger.models import Source

    engine = open_ledger(db)
    with transaction(engine, actor="tester") as session:
        session.execute(update(Source).where(Source.key == "cbc")
                        .values(text=TEXT.replace("Wednesday", "Thursday")))
    engine.dispose()
    [finding] = of(run_audit(base), "quote-not-found")
    assert "Thursday" in finding["detail"]["closest"]


def test_response_quotes_are_checked_too(base) -> None:
    base.ok("response", "add", "1", "--by", "Han Dong", "--kind", "denial", "--source", "cbc",
            "--quote", "What has been reported is wrong")
    [finding] = of(run_audit(base), "quote-not-found")
    assert finding["detail"]["response"] == 1


def test_quote_unverifiable_without_stored_text(base) -> None:
    base.ok("claim", "cite", "1", "--source", "wire", "--quote", "anything at all")
    base.ok("claim", "cite", "1", "--source", "cbc", "--quote", "late Wednesday night")
    [finding] = of(run_audit(base), "quote-unverifiable")
    assert finding["severity"] == "warning" and finding["detail"]["source"] == "wire"
    assert "no stored text" in finding["message"]


# --- sourcing and origins -----------------------------------------------------------------


def test_anonymous_only(base) -> None:
    base.ok("claim", "cite", "1", "--source", "cbc", "--anonymous",
            "--voice", "two unnamed national security sources")
    [finding] = of(run_audit(base), "anonymous-only")
    assert finding["severity"] == "warning" and finding["subject"]["id"] == 1
    base.ok("claim", "cite", "1", "--source", "wire")  # sourcing not given: unknown
    [finding] = of(run_audit(base), "anonymous-only")
    assert "1 of unknown sourcing" in finding["message"]
    base.ok("claim", "cite", "1", "--source", "wire", "--voice", "Global News")  # named
    assert not of(run_audit(base), "anonymous-only")


def test_single_origin_names_the_origin(base) -> None:
    base.ok("source", "add", "--key", "global", "--title", "Global News report",
            "--published", "2023-03-22")
    base.ok("source", "link", "cbc", "--cites", "global")
    base.ok("source", "link", "wire", "--cites", "global")
    base.ok("claim", "cite", "1", "--source", "cbc")
    assert not of(run_audit(base), "single-origin")  # one source is not "several"
    base.ok("claim", "cite", "1", "--source", "wire")
    [finding] = of(run_audit(base), "single-origin")
    assert finding["detail"] == {"origin": "global", "sources": ["cbc", "wire"]}
    assert "one origin: global" in finding["message"]


def test_independent_sources_are_not_single_origin(base) -> None:
    base.ok("claim", "cite", "1", "--source", "cbc")
    base.ok("claim", "cite", "1", "--source", "wire")
    assert not of(run_audit(base), "single-origin")


def test_citation_cycle_from_an_import(cli, tmp_path: Path) -> None:
    bundle = tmp_path / "cycle.jsonl"
    bundle.write_text("\n".join(json.dumps(r) for r in [
        {"type": "source", "key": "a", "title": "A", "cites": ["b"]},
        {"type": "source", "key": "b", "title": "B", "cites": ["c"]},
        {"type": "source", "key": "c", "title": "C", "cites": ["a"]},
        {"type": "source", "key": "d", "title": "D", "cites": ["a"]},
    ]) + "\n", encoding="utf-8")
    cli.ok("import", str(bundle))
    [finding] = of(run_audit(cli), "citation-cycle")
    assert finding["severity"] == "error"
    assert finding["detail"]["cycle"] == ["a", "b", "c"]
    assert finding["detail"]["path"] == "a → b → c → a"


def test_no_citation_cycle_in_a_chain(base) -> None:
    base.ok("source", "add", "--key", "global", "--title", "Global")
    base.ok("source", "link", "cbc", "--cites", "global")
    base.ok("source", "link", "wire", "--cites", "cbc")
    assert not of(run_audit(base), "citation-cycle")
    assert base("source", "link", "global", "--cites", "wire").code == 1  # refused, not made


# --- the right of reply -------------------------------------------------------------------


def test_no_response_until_asked_or_answered(base) -> None:
    [finding] = of(run_audit(base), "no-response")
    assert "Han Dong" in finding["message"]
    base.ok("reply", "request", "1", "--to", "Han Dong", "--sent", "2023-03-20")
    assert not of(run_audit(base), "no-response")


def test_a_response_by_alias_answers(base) -> None:
    base.ok("response", "add", "1", "--by", "Hang Dong", "--kind", "denial")
    assert not of(run_audit(base), "no-response")


def test_a_response_from_someone_else_is_not_the_subjects(base) -> None:
    base.ok("response", "add", "1", "--by", "Global News", "--kind", "no-comment")
    assert of(run_audit(base), "no-response")


def test_reply_overdue_depends_on_today(base, db) -> None:
    from ledger.audit import audit
    from ledger.db import open_ledger, reading

    base.ok("reply", "request", "1", "--to", "Han Dong", "--sent", "2023-03-20",
            "--deadline", "2023-03-22")
    engine = open_ledger(db)
    with reading(engine) as session:
        late = codes(audit(session, today=date(2023, 3, 23)))
        on_time = codes(audit(session, today=date(2023, 3, 22)))
    assert "reply-overdue" in late and "reply-overdue" not in on_time
    base.ok("response", "add", "1", "--by", "Han Dong", "--kind", "no-comment")
    with reading(engine) as session:
        assert "reply-overdue" not in codes(audit(session, today=date(2024, 1, 1)))
    engine.dispose()


def test_reply_overdue_message_and_source_date_epoch(base, monkeypatch) -> None:
    base.ok("reply", "request", "1", "--to", "Han Dong", "--sent", "2023-03-20",
            "--deadline", "2023-03")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(1680307200))  # 2023-04-01 UTC
    [finding] = of(run_audit(base), "reply-overdue")
    assert finding["message"] == "asked Han Dong on 2023-03-20; no response by the 2023-03 deadline"
    assert finding["detail"]["today"] == "2023-04-01"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(1680220800))  # 2023-03-31: still March
    assert not of(run_audit(base), "reply-overdue")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "soon")
    result = base("audit")
    assert result.code == 2 and result.err.startswith("Error: SOURCE_DATE_EPOCH")


# --- dates --------------------------------------------------------------------------------


def test_date_order_response_before_first_report(base) -> None:
    base.ok("claim", "cite", "1", "--source", "cbc")
    base.ok("response", "add", "1", "--by", "Han Dong", "--kind", "denial", "--date",
            "2023-03-20")
    [finding] = of(run_audit(base), "date-order")
    assert "before the claim was first reported (cbc, 2023-03-23)" in finding["message"]


def test_date_order_partial_dates_never_trip_falsely(base) -> None:
    base.ok("claim", "cite", "1", "--source", "cbc")  # published 2023-03-23
    base.ok("response", "add", "1", "--by", "Han Dong", "--kind", "denial", "--date", "2023-03")
    base.ok("claim", "edit", "1", "--occurred", "2023-03")
    base.ok("source", "add", "--key", "early", "--title", "Early", "--published", "2023",
            "--cites", "cbc")
    assert not of(run_audit(base), "date-order")


def test_date_order_event_after_its_report(base) -> None:
    base.ok("claim", "cite", "1", "--source", "cbc")
    base.ok("claim", "edit", "1", "--occurred", "2023-04")
    [finding] = of(run_audit(base), "date-order")
    assert finding["message"] == ("the claim says it happened 2023-04, after cbc reported it "
                                  "(2023-03-23)")


def test_date_order_source_before_what_it_cites(base) -> None:
    base.ok("source", "add", "--key", "old", "--title", "Old", "--published", "2023-02-27",
            "--cites", "cbc")
    findings = of(run_audit(base), "date-order")
    assert [f["subject"]["label"] for f in findings] == ["old"]
    assert "relies on" in findings[0]["message"]


# --- statuses -----------------------------------------------------------------------------


def test_corroborated_needs_two_independent_origins(base) -> None:
    base.ok("source", "add", "--key", "global", "--title", "Global")
    base.ok("source", "link", "cbc", "--cites", "global")
    base.ok("source", "link", "wire", "--cites", "global")
    base.ok("claim", "cite", "1", "--source", "cbc")
    base.ok("claim", "cite", "1", "--source", "wire")
    base.ok("claim", "edit", "1", "--status", "corroborated")
    [finding] = of(run_audit(base), "status-unsupported")
    assert finding["severity"] == "error" and finding["detail"]["origins"] == ["global"]
    base.ok("source", "add", "--key", "other", "--title", "Other")
    base.ok("claim", "cite", "1", "--source", "other")
    assert not of(run_audit(base), "status-unsupported")


def test_confirmed_needs_a_confirmation_or_an_official_record(base) -> None:
    base.ok("claim", "cite", "1", "--source", "cbc")
    base.ok("claim", "edit", "1", "--status", "confirmed")
    assert of(run_audit(base), "status-unsupported")
    base.ok("claim", "cite", "1", "--source", "wire", "--sourcing", "official-record")
    assert not of(run_audit(base), "status-unsupported")


def test_confirmed_by_a_confirmation_response(base) -> None:
    base.ok("claim", "edit", "1", "--status", "confirmed")
    base.ok("response", "add", "1", "--by", "Han Dong", "--kind", "confirmation")
    assert not of(run_audit(base), "status-unsupported")


def test_retracted_claims_are_not_audited(base) -> None:
    base.ok("claim", "cite", "1", "--source", "cbc", "--anonymous")
    base.ok("claim", "retract", "1", "--reason", "wrong person")
    assert not [f for f in run_audit(base) if f["subject"]["kind"] == "claim"]


# --- people and sources -------------------------------------------------------------------


def test_possible_duplicate_person_by_folded_name(base) -> None:
    base.ok("person", "add", "Mélanie Joly", "--alias", "Melanie Joly")
    assert not of(run_audit(base), "possible-duplicate-person")  # an alias is not a duplicate
    base.ok("person", "add", "MELANIE  JOLY", "--distinct")  # the audit's check stays
    [finding] = of(run_audit(base), "possible-duplicate-person")
    assert finding["subject"]["label"] == "MELANIE  JOLY"
    assert finding["detail"]["other"]["name"] == "Mélanie Joly"
    assert finding["detail"]["folded"] == "melanie joly"


def test_possible_duplicate_person_nearly_the_same(base) -> None:
    base.ok("person", "add", "Han Tao")  # like "Han Dong", but not nearly the same
    base.ok("person", "add", "Justin Trudeau")
    assert not of(run_audit(base), "possible-duplicate-person")
    base.ok("person", "add", "Justin Trudaeu")
    [finding] = of(run_audit(base), "possible-duplicate-person")
    assert finding["detail"]["folded"] is None and finding["detail"]["similarity"] >= 0.9
    assert "ledger person merge" in finding["message"]


def test_merged_duplicates_are_not_reported(base) -> None:
    base.ok("person", "add", "Han  Dong", "--distinct")
    assert of(run_audit(base), "possible-duplicate-person")
    base.ok("person", "merge", "Han Dong", "3")
    assert not of(run_audit(base), "possible-duplicate-person")


def test_unused_source(base) -> None:
    unused = {f["subject"]["label"] for f in of(run_audit(base), "unused-source")}
    assert unused == {"cbc", "wire"}
    base.ok("claim", "cite", "1", "--source", "cbc")
    base.ok("source", "add", "--key", "global", "--title", "Global")
    base.ok("source", "link", "cbc", "--cites", "global")  # relied on: used
    base.ok("response", "add", "1", "--by", "Han Dong", "--kind", "denial", "--source", "wire")
    assert not of(run_audit(base), "unused-source")


def test_near_pairs_scale_by_blocking() -> None:
    import random
    import time

    from ledger.audit import _near_pairs

    rng = random.Random(4)
    syllables = ["ka", "lo", "mi", "ra", "ten", "vos", "dar", "eli", "nu", "sha", "bri", "gon"]

    def word() -> str:
        return "".join(rng.choice(syllables) for _ in range(rng.randint(2, 3)))

    names: dict[int, str] = {}
    while len(names) < 10_000:
        names[len(names)] = f"{word()} {word()}"
    names[10_000] = names[42] + "h"  # one letter added
    started = time.perf_counter()
    pairs = _near_pairs(names, dict.fromkeys(names, "person"))
    assert time.perf_counter() - started < 10  # seconds, even on a loaded machine
    assert any(a == 42 and b == 10_000 for a, b, _ in pairs)
    assert all(ratio >= 0.9 for _, _, ratio in pairs)


# --- the command line ---------------------------------------------------------------------


def test_table_and_count_line(base) -> None:
    result = base.ok("audit")
    lines = result.out.splitlines()
    assert lines[0].split() == ["CODE", "SEVERITY", "SUBJECT", "MESSAGE"]
    assert any(line.startswith("no-response") and "claim 1" in line for line in lines)
    assert result.err == "3 findings: 0 errors, 1 warning, 2 info\n"


def test_json_shape(base) -> None:
    findings = run_audit(base)
    assert findings and all(set(f) == {"code", "severity", "subject", "message", "detail"}
                            for f in findings)
    assert all(f["severity"] in ("error", "warning", "info") for f in findings)


def test_strict_exits_1_on_errors_only(base) -> None:
    assert base("audit", "--strict").code == 0  # warnings only
    base.ok("claim", "cite", "1", "--source", "cbc", "--quote", "late Tuesday night")
    result = base("audit", "--strict")
    assert result.code == 1
    assert "quote-not-found" in result.out
    assert result.err.endswith("Error: the audit found 1 error (--strict)\n")


def test_markdown_report_groups_by_claim_and_escapes(base) -> None:
    base.ok("claim", "add", "<script>alert(1)</script> # not a heading", "--about", "Han Dong")
    base.ok("claim", "cite", "1", "--source", "cbc", "--quote", "late Tuesday night")
    report = base.ok("audit", "--format", "md").out
    assert report.startswith("# Audit report\n")
    assert "### Claim 1: Dong left the caucus." in report
    assert "<script>" not in report and "\\<script\\>" in report
    assert "closest passage" in report and report.index("### Claim 1") < report.index(
        "### Claim 2")


def test_filters(base) -> None:
    base.ok("person", "add", "Zhao Wei")
    base.ok("claim", "add", "Zhao Wei targeted a family.", "--about", "Zhao Wei")
    base.ok("claim", "cite", "2", "--source", "wire", "--quote", "targeted",
            "--voice", "Wire")
    assert {f["subject"]["id"] for f in run_audit(base, "--claim", "2")} == {2}
    by_person = run_audit(base, "--person", "hang dong")
    assert {(f["subject"]["kind"], f["subject"]["id"]) for f in by_person} == {("claim", 1)}
    by_source = run_audit(base, "--source", "wire")
    assert codes(by_source) == ["no-response", "quote-unverifiable"]
    assert all(f["subject"] == {"kind": "claim", "id": 2, "label": "Zhao Wei targeted a family."}
               for f in by_source)
    assert run_audit(base, "--claim", "1", "--person", "Zhao Wei") == []


def test_bad_input(base) -> None:
    for args, code, text in [
        (["--claim", "x"], 2, "Error: claim 'x' is not a claim id"),
        (["--claim", "99"], 1, "Error: no claim 99"),
        (["--source", "cbs"], 1, "Error: no source 'cbs'; did you mean 'cbc'?"),
        (["--person", "Han Dung"], 1, "Error: "),
        (["--format", "pdf"], 2, "Error: --format must be one of table, md, json"),
        (["--json", "--format", "md"], 2, "Error: --json contradicts --format md"),
    ]:
        result = base("audit", *args)
        assert result.code == code, (args, result)
        assert result.err.startswith(text) and "Traceback" not in result.err
        assert result.out == ""


def test_claim_show_names_the_origins(story) -> None:
    record = story.json("claim", "show", "1")
    assert record["origins"] == ["globalnews"]
    text = story.ok("claim", "show", "1").out
    assert "origins: 1 (globalnews); 3 sources, all tracing back to one origin" in text


# --- the example ledger -------------------------------------------------------------------


def test_example_ledger_names_global_news_and_anonymous_sourcing(story) -> None:
    findings = run_audit(story, "--person", "Han Dong")
    single = of(findings, "single-origin")
    assert single and all(f["detail"]["origin"] == "globalnews" for f in single)
    assert "one origin: globalnews" in single[0]["message"]
    anonymous = of(findings, "anonymous-only")
    assert {f["subject"]["id"] for f in anonymous} == {f["subject"]["id"] for f in single}
    assert all("Han Dong" in f["subject"]["label"] for f in anonymous)
    report = story.ok("audit", "--format", "md").out
    assert "one origin: globalnews" in report
    assert not of(run_audit(story), "quote-not-found")


# --- the labeled quote corpus, classified through the audit -------------------------------


def _seeds_or_skip():
    import quote_corpus

    try:
        seeds = quote_corpus.load_seeds()
    except FileNotFoundError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("no seed texts in ../shared/seeds")
    return quote_corpus, seeds


def figure(capsys, message: str) -> None:
    """Show a figure the test reached (printed, never asserted), even under capture."""
    with capsys.disabled():
        print(message)


_ERRORS = {"quote-not-found", "speaker-mismatch", "elision-drops-negation"}


def test_quote_corpus_through_the_audit(session, capsys) -> None:
    from ledger import store
    from ledger.audit import audit

    quote_corpus, seeds = _seeds_or_skip()
    cases = quote_corpus.build_corpus(seeds)
    assert len(cases) >= 300
    sources = {name: store.add_source(session, key=f"seed-{i}", title=name, text=text)
               for i, (name, text) in enumerate(sorted(seeds.items()))}
    store.add_person(session, name="Subject")
    by_attribution = {}
    for number, case in enumerate(cases):
        claim = store.add_claim(session, statement=f"case {number}", about=["Subject"])
        attribution = store.cite(session, claim=claim, source=sources[case.source],
                                 quote=case.quote)
        by_attribution[attribution.id] = case
    # The errors a quote can draw; the cut check's notes (info) are not judged here.
    flagged: dict[int, set[str]] = {}
    for f in audit(session):
        if f.code in _ERRORS or f.code == "quote-unverifiable":
            flagged.setdefault(f.detail["attribution"], set()).add(f.code)
    matrix: dict[str, Counter] = {c: Counter() for c in quote_corpus.CATEGORIES}
    for attribution_id, case in by_attribution.items():
        matrix[case.category].update(flagged.get(attribution_id) or {"silent"})
    figure(capsys, "\nquote corpus through the audit (errors only)\n" + _format(matrix))
    for category in ("exact", "normalized"):
        assert set(matrix[category]) <= {"silent"}, (category, matrix[category])
    for attribution_id, case in by_attribution.items():
        if case.category == "elided":
            expected = ({"elision-drops-negation"} if case.kind == quote_corpus.ELIDED_NEGATION
                        else set())
            assert flagged.get(attribution_id, set()) == expected, case
    for category in quote_corpus.NOT_FOUND_CATEGORIES:
        assert set(matrix[category]) == {"quote-not-found"}, (category, matrix[category])


def _format(matrix: dict[str, Counter]) -> str:
    columns = ("silent", "quote-not-found", "quote-unverifiable", "elision-drops-negation")
    lines = ["category".ljust(18) + "".join(c.rjust(24) for c in columns) + "total".rjust(8)]
    for category, row in matrix.items():
        lines.append(category.ljust(18) + "".join(str(row[c]).rjust(24) for c in columns)
                     + str(sum(row.values())).rjust(8))
    return "\n".join(lines)


def test_audit_corpus_speakers_elisions_and_cuts(session, capsys) -> None:
    """The labeled speaker, elision and cut cases on the seed texts: every planted
    speaker-mismatch and elision-drops-negation caught, no false error anywhere."""
    quote_corpus, seeds = _seeds_or_skip()
    cases = quote_corpus.build_audit_corpus()
    assert len(cases) >= 100
    results = quote_corpus.run_audit_corpus(session, cases, seeds)
    matrix = quote_corpus.audit_matrix(results)
    correct = [(case, codes) for case, codes in results
               if case.category in quote_corpus.CORRECT_SPEAKER_CATEGORIES]
    unconfirmed = sum("speaker-unconfirmed" in codes for _, codes in correct)
    figure(capsys, "\naudit corpus: speakers, elisions, cuts\n"
           + quote_corpus.format_audit_matrix(matrix)
           + f"\nspeaker-unconfirmed on correct attributions: {unconfirmed} of {len(correct)}"
           f" ({unconfirmed / len(correct):.0%})")
    wrong = [(case, codes) for case, codes in results
             if quote_corpus.is_wrong(case, codes) or (codes & _ERRORS) - case.expected]
    assert wrong == []
    planted = [codes for case, codes in results if case.expected & _ERRORS]
    assert planted and all(codes & _ERRORS for codes in planted)


def test_the_three_planted_examples_through_the_cli(cli, tmp_path: Path) -> None:
    """The issue's examples on the seed texts: the words are there, so the quotes verify,
    but the audit says who really spoke, what the elision dropped and what the cut hid."""
    quote_corpus, seeds = _seeds_or_skip()
    for key, name in (("cbc-dong", quote_corpus.S001), ("zhao", quote_corpus.S000)):
        path = tmp_path / f"{key}.txt"
        path.write_text(seeds[name], encoding="utf-8")
        cli.ok("source", "add", "--key", key, "--title", key, "--text-file", str(path))
    cli.ok("person", "add", "Han Dong")
    cli.ok("person", "add", "Mélanie Joly", "--alias", "Melanie Joly")
    cli.ok("claim", "add", "Dong advised a diplomat to delay the release.", "--about",
           "Han Dong")
    cli.ok("response", "add", "1", "--by", "Mélanie Joly", "--kind", "official-response",
           "--source", "cbc-dong", "--quote", "What has been reported is false…")
    cli.ok("claim", "cite", "1", "--source", "cbc-dong", "--voice", "Han Dong",
           "--quote", "I was … offered … any help from a foreign country")
    cli.ok("claim", "cite", "1", "--source", "zhao", "--voice", "CTV News", "--anonymous",
           "--quote", "the RCMP has taken action to shut down the so-called police stations")
    findings = run_audit(cli)
    assert not of(findings, "quote-not-found")
    [mismatch] = of(findings, "speaker-mismatch")
    assert mismatch["severity"] == "error"
    assert "“Dong”" in mismatch["message"] and "not to Mélanie Joly" in mismatch["message"]
    assert mismatch["detail"]["found"] == ["Dong"] and mismatch["detail"]["response"] == 1
    [elision] = of(findings, "elision-drops-negation")
    assert elision["severity"] == "error" and elision["detail"]["dropped"] == ["not", "nor"]
    assert "“not”, “nor”" in elision["message"]
    [cut] = of(findings, "quote-cut-mid-sentence")
    assert cut["severity"] == "info" and cut["detail"]["side"] == "end"
    assert cut["detail"]["words"] == ["but"]
    assert "but that assertion has since been questioned" in cut["message"]
    result = cli("audit", "--strict")
    assert result.code == 1 and "speaker-mismatch" in result.out


def test_a_response_voice_names_the_spokesperson(base, tmp_path: Path) -> None:
    text = tmp_path / "csis.txt"
    text.write_text('A CSIS spokesperson would not comment.\n\n"There are important limits '
                    'to what I can publicly discuss," said Eric Balsam in an email.',
                    encoding="utf-8")
    base.ok("person", "add", "Canadian Security Intelligence Service", "--alias", "CSIS",
            "--kind", "organization")
    base.ok("source", "add", "--key", "csis", "--title", "CSIS", "--text-file", str(text))
    quote = "There are important limits to what I can publicly discuss"
    base.ok("response", "add", "1", "--by", "CSIS", "--kind", "no-comment",
            "--source", "csis", "--quote", quote)
    [mismatch] = of(run_audit(base), "speaker-mismatch")
    assert "“Eric Balsam”" in mismatch["message"]
    record = base.json("response", "add", "1", "--by", "CSIS", "--kind", "no-comment",
                       "--source", "csis", "--quote", quote,
                       "--voice", "Eric Balsam, CSIS spokesperson")
    assert record["voice"] == "Eric Balsam, CSIS spokesperson"
    mismatches = of(run_audit(base), "speaker-mismatch")
    assert [m["detail"]["response"] for m in mismatches] == [1]


def test_example_ledger_raises_no_speaker_or_elision_error(story) -> None:
    findings = run_audit(story)
    assert not [f for f in findings if f["code"] in ("speaker-mismatch",
                                                     "elision-drops-negation")]
    # Every quote with a named speaker is confirmed by its text.
    assert not of(findings, "speaker-unconfirmed")


def test_a_response_voice_is_logged_only_when_given(base) -> None:
    """An event without the key means no voice: responses recorded before the field existed
    verify and read as before, and so do new ones without a voice."""
    base.ok("response", "add", "1", "--by", "Han Dong", "--kind", "denial")
    base.ok("response", "add", "1", "--by", "Han Dong", "--kind", "no-comment",
            "--voice", "his office")
    states = [e["state"] for e in base.json("log", "--entity", "response")]
    assert states[1]["kind"] == "denial" and "voice" not in states[1]
    assert states[0]["voice"] == "his office"
    assert set(states[0]) - set(states[1]) == {"voice"}
    base.ok("verify")
    shown = base.json("claim", "show", "1")["responses"]
    assert [r["voice"] for r in shown] == [None, "his office"]
    result = base("response", "add", "1", "--by", "Han Dong", "--kind", "denial",
                  "--voice", "x" * 301)
    assert result.code == 2 and result.err.startswith("Error: ") and "voice" in result.err
