"""One Jinja render for both outputs of an HTML publish (`ledger.render.render_both`).

Whatever a template does with `web`, `render_both` must give exactly what two renders give
(`web` true, then false): by one render where the transform can split it, by two otherwise.
Each case compares with the two renders and checks which path served it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger import render
from ledger.render import jinja_environment, render_both


def _two_renders(env, name: str, context: dict) -> tuple[str, str]:
    template = env.get_template(name)
    return template.render({**context, "web": True}), template.render({**context, "web": False})


def _one_render(env, name: str, context: dict) -> bool:
    """True if the dual template alone gives both pages (no fallback)."""
    dual = render._dual_environment(env)
    token = render._dual_opened.set([0])
    try:
        text = dual.get_template(name).render(context)
        opened = render._dual_opened.get()[0]
    except render._NotDual:
        return False
    finally:
        render._dual_opened.reset(token)
    return render._split_dual(text, opened) is not None


def _env(tmp_path: Path, files: dict[str, str]):
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return jinja_environment(extra_dirs=(tmp_path,))


SPLIT = {
    "branches": "a{% if web %}W{% else %}M{% endif %}b{% if not web %}m{% endif %}\n",
    "expressions": "{{ x|md }} {{ 'on' if web else 'off' }} {{ web }} {{ s|status_badge(web) }}\n",
    "mixed tests": "{% for i in items %}{% if web and i > 1 %}[{{ i }}]{% elif i %}{{ i }}"
    "{% endif %}{% endfor %}\n",
    "loop over web": "{% for i in (items if web else [9]) %}{{ i }},{% endfor %}\n",
    "include in a branch": "{% if not web %}{% include 'inner.j2' %}{% endif %}|"
    "{% include 'inner.j2' %}\n",
    "with": "{% with y = x if web else 'plain' %}{{ y }}{% endwith %}\n",
    "blocks": "{% block body %}{% if web %}{{ x|attrs('c') }}{% endif %}{{ x }}{% endblock %}\n",
}


@pytest.mark.parametrize("source", SPLIT.values(), ids=SPLIT.keys())
def test_templates_it_can_split_render_once_and_exactly(tmp_path, source):
    env = _env(
        tmp_path, {"page.j2": source, "inner.j2": "<{% if web %}w{% else %}m{% endif %}{{ x }}>"}
    )
    context = {"x": "claim-1", "s": "disputed", "items": [0, 1, 2]}
    assert render_both(env, "page.j2", context) == _two_renders(env, "page.j2", context)
    assert _one_render(env, "page.j2", context)


def test_an_override_extending_the_shipped_template_renders_once(tmp_path):
    env = _env(tmp_path, {"page.j2": "{% extends 'default:_footer.md.j2' %}"})
    context = {"page": {"anchor": "3:abc", "sequence": 3, "index_page": "../index.md"}}
    assert render_both(env, "page.j2", context) == _two_renders(env, "page.j2", context)
    assert _one_render(env, "page.j2", context)


FALLBACK = {
    "web assigned": "{% set web = not web %}{{ web }}\n",
    "web as a loop variable": "{% for web in [1] %}{{ web }}{% endfor %}{{ web }}\n",
    "macro reading web": "{% macro m() %}{{ web }}{% endmacro %}{{ m() }}\n",
    "set block reading web": "{% set t %}{% if web %}x{% endif %}{% endset %}{{ t|length }}\n",
    "filter block with an include": "{% filter upper %}{% include 'inner.j2' %}{% endfilter %}\n",
    "assignment in a web branch": "{% set n = 1 %}{% if web %}{% set n = 2 %}{% endif %}{{ n }}\n",
    "namespace in a web branch": "{% set ns = namespace(n=0) %}{% if not web %}"
    "{% set ns.n = ns.n + 1 %}{% endif %}{{ ns.n }}\n",
    "call in a web branch": "{% set j = joiner('+') %}{% if web %}{{ j() }}{% endif %}{{ j() }}\n",
    "include without context": "{% include 'inner.j2' without context %}\n",
    "a mark of the template's own": "\x02{% if web %}w{% endif %}\x04\n",
}


@pytest.mark.parametrize("source", FALLBACK.values(), ids=FALLBACK.keys())
def test_templates_it_cannot_split_render_twice_with_the_same_result(tmp_path, source):
    env = _env(
        tmp_path, {"page.j2": source, "inner.j2": "<{% if web is defined and web %}w{% endif %}>"}
    )
    expected = _two_renders(env, "page.j2", {"x": "v"})
    assert render_both(env, "page.j2", {"x": "v"}) == expected
    assert not _one_render(env, "page.j2", {"x": "v"})


@pytest.mark.parametrize("value", ["\x02", "\x03x\x04", "\x02a\x03b\x04", "\x04\x03\x02"])
def test_a_value_carrying_marks_is_rendered_twice(tmp_path, value):
    # `md` shows control characters as <U+...>; a template printing a raw value does not.
    env = _env(tmp_path, {"page.j2": "{{ x }}{% if web %}W{% endif %}{{ x }}\n"})
    assert render_both(env, "page.j2", {"x": value}) == _two_renders(env, "page.j2", {"x": value})
    assert not _one_render(env, "page.j2", {"x": value})


def test_an_error_is_the_one_the_two_renders_raise(tmp_path):
    # The web branch fails first in document order, but publish renders the Markdown file
    # first, so its error is the one reported, as before.
    import jinja2

    env = _env(tmp_path, {"page.j2": "{% if web %}{{ missing_web }}{% endif %}{{ missing_md }}"})
    with pytest.raises(jinja2.UndefinedError, match="missing_md"):
        render_both(env, "page.j2", {})


SHIPPED = ("dossier.md.j2", "source.md.j2", "index.md.j2", "listing.md.j2", "_footer.md.j2")


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_templates_are_split_not_refused(name):
    # A change to a shipped template that the transform refuses would silently make every
    # HTML publish render each page twice again.
    env = jinja_environment()
    tree = render._dual_environment(env).parse(env.loader.get_source(env, name)[0])
    called = {node.name for node in tree.find_all(render.nodes.Name)}
    assert "ledger_not_dual" not in called
    assert "ledger_dual" in called
