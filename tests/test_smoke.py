"""The example bundle imports, exports identically and verifies, on both backends."""


def test_example_round_trip(story, tmp_path):
    first = tmp_path / "first.jsonl"
    story.ok("export", "--out", str(first))
    assert story.ok("verify").out.startswith("ok:")
    again = story.ok("import", str(first))
    assert "nothing new" in again.err
    people = story.json("person", "list")
    assert any(p["name"] == "Han Dong" and "Hang Dong" in p["aliases"] for p in people)
