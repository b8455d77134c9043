"""An allegation reads the same on every dossier that shows it, so a publish with the shipped
templates renders it once (`{% once %}`, `ledger.render.Fragments`): the site is the same,
byte for byte, and an override that could make the text depend on the page turns it off."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from ledger import publish as publishing
from ledger import render
from ledger.publish import load_example, publish


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != "manifest.json"}


@pytest.fixture
def made(monkeypatch) -> list[render.Fragments]:
    """Every `Fragments` a publish makes, to count what it reused."""
    found: list[render.Fragments] = []
    original = render.Fragments.__init__

    def recording(self, *args, **kwargs):
        original(self, *args, **kwargs)
        found.append(self)

    monkeypatch.setattr(render.Fragments, "__init__", recording)
    return found


def test_fragments_hold_at_most_their_limit_and_drop_the_least_recent() -> None:
    fragments = render.Fragments(limit=10)
    fragments.put(("a",), "aaaa", 0)
    fragments.put(("b",), "bbbb", 1)
    assert fragments.get(("a",)) == ("aaaa", 0)  # "a" is now the most recent
    fragments.put(("c",), "cccc", 2)
    assert fragments.size <= 10 and fragments.get(("b",)) is None
    assert fragments.get(("c",)) == ("cccc", 2) and fragments.hits == 2
    fragments.put(("huge",), "x" * 11, 0)  # larger than the whole limit: never kept
    assert fragments.get(("huge",)) is None and fragments.size <= 10


@pytest.mark.parametrize("html,split", [(False, False), (True, False), (True, True)])
def test_reused_fragments_publish_the_same_bytes(engine, tmp_path: Path, monkeypatch, made,
                                                 html, split) -> None:
    if split:
        # Split dossiers sharing claims: each part lists its own footnotes, in its order.
        from test_stream_dossier import _ledger

        from ledger import dossier

        _ledger(engine, 26)
        monkeypatch.setattr(dossier, "DOSSIER_PART_SIZE", 4)
    else:
        load_example(engine)  # claims on the dossiers of their subjects, targets, claimants
    publish(engine, tmp_path / "reused", jobs=1, html=html)
    assert made and made[-1].hits > 0, "an allegation on two dossiers is rendered once"
    monkeypatch.setattr(publishing, "_shipped_fragments", lambda templates_dir: None)
    publish(engine, tmp_path / "fresh", jobs=1, html=html)
    reused, fresh = snapshot(tmp_path / "reused"), snapshot(tmp_path / "fresh")
    assert reused.keys() == fresh.keys()
    assert reused == fresh


def test_an_override_that_reads_the_page_is_rendered_on_each_page(engine, tmp_path: Path,
                                                                   made) -> None:
    load_example(engine)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "dossier.md.j2").write_text(
        '{% extends "default:dossier.md.j2" %}\n'
        "{% block allegation_end %}On the dossier of {{ d.name|md }}.\n{% endblock %}\n",
        encoding="utf-8")
    publish(engine, tmp_path / "site", jobs=1, templates_dir=mine)
    assert not made, "no fragment is reused under an override of the dossier"
    pages = {p.stem: p.read_text(encoding="utf-8")
             for p in (tmp_path / "site" / "people").glob("*.md")}
    assert pages
    named: dict[str, str] = {}
    for stem, page in pages.items():
        names = {line for line in page.splitlines() if line.startswith("On the dossier of")}
        assert len(names) <= 1, names  # every allegation names this page's person
        if names:
            named[stem] = names.pop()
    assert len(set(named.values())) == len(named) > 1  # each page its own person
    # Some claim is on two of those dossiers, each showing it with its own person's name.
    headings = [{line for line in pages[stem].splitlines() if line.startswith("### ")}
                for stem in named]
    shared = sum(1 for i, one in enumerate(headings) for other in headings[i + 1:]
                 if one & other)
    assert shared


def test_once_without_fragments_renders_every_time() -> None:
    env = jinja2.Environment(extensions=[render.OnceExtension])
    template = env.from_string("{% for n in ns %}{% once 1 %}{{ n }}{% endonce %}{% endfor %}")
    assert template.render(ns=[1, 2, 3]) == "123"
    fragments = render.Fragments()
    assert template.render(ns=[1, 2, 3], ledger_fragments=fragments) == "111"
    assert fragments.hits == 2


def test_the_same_key_in_two_templates_is_two_fragments() -> None:
    env = jinja2.Environment(extensions=[render.OnceExtension], loader=jinja2.DictLoader({
        "one": "{% once 1 %}one {{ n }}{% endonce %}",
        "two": "{% once 1 %}two {{ n }}{% endonce %}"}))
    fragments = render.Fragments()
    assert env.get_template("one").render(n=1, ledger_fragments=fragments) == "one 1"
    assert env.get_template("two").render(n=2, ledger_fragments=fragments) == "two 2"
    assert env.get_template("one").render(n=3, ledger_fragments=fragments) == "one 1"


def _unnumbered(value):
    """A context as plain data without the sources' footnote numbers (each page's own)."""
    import dataclasses

    if dataclasses.is_dataclass(value):
        return {f.name: _unnumbered(getattr(value, f.name)) for f in dataclasses.fields(value)
                if f.name != "number"}
    if isinstance(value, (tuple, list)):
        return [_unnumbered(v) for v in value]
    return value


def test_a_shared_allegation_is_the_one_built_for_the_page(engine) -> None:
    from ledger import dossier
    from ledger.db import reading
    from ledger.store import reports

    load_example(engine)
    with reading(engine) as s:
        overview = reports.load_overview(s)
        graph = dossier.origin_graph(overview)
        shared = dossier.Allegations()
        for person_id in sorted(overview.people):
            batch = reports.load_person_batch(s, first_id=person_id, last_id=person_id,
                                              drafts=True)
            fresh = dossier.build_dossier(person_id=person_id, overview=overview, batch=batch,
                                          graph=graph, drafts=True)
            reused = dossier.build_dossier(person_id=person_id, overview=overview,
                                           batch=batch, graph=graph, drafts=True,
                                           allegations=shared)
            assert reused.sources == fresh.sources  # the page numbers its own footnotes
            assert [a.roles for a in reused.allegations] == [a.roles for a in fresh.allegations]
            assert _unnumbered(reused) == _unnumbered(fresh), person_id
    assert shared.hits > 0, "some claim is on two dossiers"


def test_the_footer_is_rendered_once_per_checkpoint_line(story, tmp_path: Path,
                                                         monkeypatch) -> None:
    """An HTML publish renders the shipped footer once for each checkpoint line (the pages
    one folder down link the checkpoint with `../`) and the site is the same as with a
    footer rendered for every page; an override of the footer is rendered for every page."""
    monkeypatch.setattr(publishing, "INDEX_LIST_LIMIT", 5)  # pages at both depths
    key = tmp_path / "newsroom-key"
    story.ok("key", "generate", "--out", str(key))
    story.ok("checkpoint", "--key", str(key), "--name", "Newsroom")
    rendered: list[str] = []
    original = publishing._render

    def counting(env, name, **context):
        if name == publishing.FOOTER and context.get("web"):
            rendered.append(name)
        return original(env, name, **context)

    monkeypatch.setattr(publishing, "_render", counting)
    story.ok("publish", "--out", str(tmp_path / "once"), "--html", "--jobs", "1")
    assert len(rendered) == 2  # "" and "../" before the checkpoint's page
    once = snapshot(tmp_path / "once")
    monkeypatch.setattr(publishing, "_web_footer", lambda site, context: None)
    story.ok("publish", "--out", str(tmp_path / "each"), "--html", "--jobs", "1")
    assert once == snapshot(tmp_path / "each")
    footers = {name: page.split(b'<footer class="page-footer">', 1)[1]
               for name, page in once.items() if name.endswith(".html")}
    assert b'<a href="../checkpoints/checkpoint-' in footers["index/sources-1-5.html"]
    assert b'<a href="checkpoints/checkpoint-' in footers["index.html"]

    monkeypatch.undo()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "_footer.md.j2").write_text("Page: {{ page.title|md }}\n", encoding="utf-8")
    story.ok("publish", "--out", str(tmp_path / "mine-site"), "--html", "--templates",
             str(mine))
    site = tmp_path / "mine-site"
    assert "<p>Page: Dossier: Han Dong</p>" in (site / "people" / "han-dong.html").read_text(
        encoding="utf-8")
    assert "<p>Page: Dossiers</p>" in (site / "index.html").read_text(encoding="utf-8")
