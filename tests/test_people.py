"""People are found by id, slug, name or alias, whatever the case, accents or Unicode form."""

from __future__ import annotations

import unicodedata

import pytest


@pytest.fixture
def people(cli):
    cli.ok("person", "add", "Mélanie Joly", "--alias", "Melanie Joly")
    cli.ok("person", "add", "Han Dong", "--alias", "Hang Dong")
    cli.ok("person", "add", "Global News", "--kind", "organization")
    return cli


@pytest.mark.parametrize("ref", [
    "Mélanie Joly", unicodedata.normalize("NFD", "Mélanie Joly"), "MELANIE JOLY",
    "melanie  joly", "melanie-joly", "1",
])
def test_resolves_every_spelling(people, ref):
    assert people.json("person", "show", ref)["name"] == "Mélanie Joly"


def test_nfd_input_is_stored_as_nfc(cli):
    created = cli.json("person", "add", unicodedata.normalize("NFD", "François-Philippe Champagne"))
    assert created["name"] == unicodedata.normalize("NFC", "François-Philippe Champagne")
    assert created["slug"] == "francois-philippe-champagne"


def test_alias_resolves(people):
    assert people.json("person", "show", "hang dong")["name"] == "Han Dong"


def test_unknown_suggests_nearest(people):
    result = people("person", "show", "Han Dung")
    assert result.code == 1
    assert "no person 'Han Dung'; did you mean 'Han Dong'?" in result.err


def test_ambiguous_lists_candidates(cli):
    cli.ok("person", "add", "Mélanie Joly")
    cli.ok("person", "add", "Melanie Joly", "--distinct")
    assert cli.json("person", "show", "Melanie Joly")["slug"] == "melanie-joly-2"
    result = cli("person", "show", "MELANIE JOLY")
    assert result.code == 1
    assert "melanie-joly" in result.err and "melanie-joly-2" in result.err


def test_merge_moves_claims_and_keeps_the_duplicate_findable(cli):
    cli.ok("person", "add", "Han Dong")
    cli.ok("person", "add", "Hang Dong")
    cli.ok("claim", "add", "A claim about the misspelled name", "--about", "Hang Dong")
    cli.ok("response", "add", "1", "--by", "Hang Dong", "--kind", "denial")
    cli.ok("person", "merge", "Han Dong", "Hang Dong")
    assert cli.json("claim", "show", "1")["about"] == ["Han Dong"]
    assert cli.json("person", "show", "Hang Dong")["name"] == "Han Dong"
    assert [p["name"] for p in cli.json("person", "list")] == ["Han Dong"]
    assert cli.json("claim", "show", "1")["responses"][0]["by"] == "Han Dong"
    assert cli.ok("verify").code == 0
    history = cli.json("log", "--entity", "person")
    assert [e["action"] for e in history][:2] == ["merge", "edit"]


def test_rename_keeps_the_old_name_as_alias(people):
    people.ok("person", "edit", "han-dong", "--name", "Dong Han")
    assert people.json("person", "show", "Han Dong")["name"] == "Dong Han"


def test_reserved_and_empty_slugs_are_safe(cli):
    assert cli.json("person", "add", "CON")["slug"] == "con-person"
    assert cli.json("person", "add", "🙂🙂")["slug"] == "person"
    assert cli.json("person", "add", "../../x")["slug"] == "x"
    assert cli.json("person", "add", "🙃")["slug"] == "person-2"


def test_a_name_of_digits_is_found_by_name_when_no_id_is_that_number(cli):
    cli.ok("person", "add", "Han Dong")
    cli.ok("person", "add", "1984", "--kind", "organization")
    assert cli.json("person", "show", "1984")["id"] == 2
    cli.ok("claim", "add", "A claim about the group", "--about", "1984")
    assert cli.json("claim", "show", "1")["about"] == ["1984"]


def test_digits_that_are_an_id_and_a_name_are_refused_naming_both(cli):
    cli.ok("person", "add", "Han Dong")
    cli.ok("person", "add", "1", "--kind", "organization")
    before = cli.ok("log").out
    result = cli("claim", "add", "A claim", "--about", "1")
    assert result.code == 1
    assert result.err.count("Error:") == 1 and "Traceback" not in result.err
    assert "'1' is both the id of 'Han Dong' and the name of '1' (id 2)" in result.err
    assert "write #1 or #2" in result.err
    assert cli.ok("log").out == before
    assert cli.json("person", "show", "#1")["name"] == "Han Dong"
    assert cli.json("person", "show", "#2")["name"] == "1"
    assert cli.json("person", "show", "id:2")["name"] == "1"


def test_digits_naming_the_same_person_as_its_id_resolve(cli):
    cli.ok("person", "add", "1")
    assert cli.json("person", "show", "1")["id"] == 1


def test_an_explicit_id_is_the_id_and_a_missing_one_says_so(cli):
    cli.ok("person", "add", "Han Dong")
    assert cli.json("person", "show", "#1")["name"] == "Han Dong"
    result = cli("person", "show", "#7")
    assert result.code == 1 and "no person with id 7" in result.err
    result = cli("person", "show", "1984")
    assert result.code == 1
    assert "no person with id 1984 and no person named '1984'" in result.err


def test_a_source_is_found_by_an_explicit_id(cli):
    cli.ok("source", "add", "--key", "2", "--title", "Keyed two")
    cli.ok("source", "add", "--key", "cbc", "--title", "CBC")
    assert cli.json("source", "show", "#2")["key"] == "cbc"
    assert cli.json("source", "show", "2")["key"] == "2"
    assert cli("source", "show", "#9").code == 1
