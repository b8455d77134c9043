"""`ledger dossier`, `ledger publish` and `ledger demo`: dossiers from Jinja templates.

Jinja and markdown-it are imported inside the command bodies, so `ledger --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ledger.cli.common import PersonRef, info, progress_bar, state

Templates = Annotated[str | None, typer.Option(
    "--templates", help="A folder of templates that override the shipped ones "
    "(dossier.md.j2, index.md.j2, source.md.j2, style.css).", show_default=False)]
OutDir = Annotated[str, typer.Option("--out", help="The folder to publish into.")]
HideRetracted = Annotated[bool, typer.Option(
    "--hide-retracted", help="Leave retracted claims out (by default they stay, with their "
    "retraction notice and reason).")]
Drafts = Annotated[bool, typer.Option(
    "--drafts", help="Include claims no reviewer has approved yet, each marked as a draft, "
    "and say on every page that it is a draft (for the desk's review site). Held claims are "
    "left out all the same.")]
SkipVerify = Annotated[bool, typer.Option(
    "--skip-verify", help="Build even if `ledger verify` fails (the tables may not be what "
    "the history records).")]


def _note_unapproved(count: int) -> None:
    """Say on stderr that claims were left out for want of an approval, never silently."""
    if count:
        info(f"Note: {count} claim{'s were' if count != 1 else ' was'} left out: not approved "
             "by a reviewer, or changed since (`ledger review list --state needs-review` lists "
             "them; `ledger review approve ID` approves one; --drafts includes them, marked as "
             "drafts)")


def _verified(session, *, doing: str, skip: bool) -> None:
    """Refuse to build from a ledger that does not verify, unless told."""
    if not skip:
        from ledger.store.replay import require_verified

        require_verified(session, doing=doing)


def dossier(ctx: typer.Context, person: PersonRef,
            format: Annotated[str, typer.Option("--format", help="md | html.")] = "md",
            as_of: Annotated[str | None, typer.Option(
                "--as-of", help="Show only what had been published by this date (YYYY, "
                "YYYY-MM or YYYY-MM-DD): sources published and responses dated on or before "
                "it; undated ones are left out. Each allegation's updates stop at that day.",
                show_default=False)] = None,
            out: Annotated[str | None, typer.Option(
                "--out", help="Write to this file (atomically) instead of stdout.",
                show_default=False)] = None,
            templates: Templates = None, hide_retracted: HideRetracted = False,
            drafts: Drafts = False, skip_verify: SkipVerify = False) -> None:
    """Print one person's dossier: every allegation about them, its sources and quotes,
    every response, the reply status, each allegation's dated updates (status changes,
    edits, retraction, later responses), what they said about other claims, and the sources.
    Only claims a reviewer approved are shown, each with who reviewed it and when, unless
    --drafts; held claims never are. Refuses a ledger that does not pass `ledger verify`,
    unless --skip-verify.

    \b
    Example:
      ledger dossier "Han Dong" --as-of 2023-03-22
      ledger dossier han-dong --format html --out han-dong.html
      ledger dossier "Han Dong" --drafts
    """
    import sys

    from ledger.outfiles import write_atomically
    from ledger.publish import dossier as render_dossier
    from ledger.publish import utf8_chunks

    left_out: set[int] = set()
    with state(ctx).read() as session:
        _verified(session, doing="dossier", skip=skip_verify)
        text = render_dossier(session, person, fmt=format, as_of=as_of, templates_dir=templates,
                              include_retracted=not hide_retracted, drafts=drafts,
                              left_out=left_out)
    _note_unapproved(len(left_out))
    # Written a slice at a time: a dossier of 50,000 allegations is tens of megabytes, and
    # encoding it whole would hold the page twice.
    if out is None:
        for start in range(0, len(text), 1 << 20):
            sys.stdout.write(text[start:start + (1 << 20)])
        return
    _check_out_file(out)
    write_atomically(Path(out), utf8_chunks(text))
    info(f"Wrote {out}")


def publish(ctx: typer.Context, out: OutDir = "reports",
            html: Annotated[bool, typer.Option(
                "--html", help="Also write every page as HTML, with one stylesheet.")] = False,
            base_url: Annotated[str | None, typer.Option(
                "--base-url", envvar="LEDGER_BASE_URL", help="Where the folder will be "
                "served (https://news.example/ledger): makes the ClaimReview URLs in the HTML "
                "pages absolute, as Google's tools require.", show_default=False)] = None,
            templates: Templates = None, hide_retracted: HideRetracted = False,
            drafts: Drafts = False, skip_verify: SkipVerify = False,
            jobs: Annotated[int | None, typer.Option(
                "--jobs", min=1, help="Worker processes that render the pages (default: one per "
                "core). The files are the same whatever the number.",
                show_default=False)] = None) -> None:
    """Publish every dossier, a page per source and an index into a folder.

    Writes index.md, people/<slug>.md and sources/<key>.md (and .html twins with --html).
    Files the previous publish wrote that are no longer produced are removed; everything else
    in the folder is kept. The site is built beside the folder and swapped in at the end, so
    a failed or killed publish changes nothing; a second publish into the folder while one
    runs is refused. The same ledger gives the same bytes. Every signed checkpoint
    (`ledger checkpoint`) goes into checkpoints/, the newest also to checkpoint.txt, and each
    page's footer names the newest. Refuses a ledger that does not pass `ledger verify`,
    unless --skip-verify (the check runs alongside the rendering, and nothing is published
    unless it passes). On a terminal a progress bar shows on stderr.

    Only claims a reviewer approved (and unchanged since) are published, each saying who
    reviewed it and when; stderr says how many were left out. --drafts includes the others,
    marked as drafts on every page, for the desk's review site. Held claims never appear.

    \b
    Example:
      ledger publish --out site --html --jobs 2 --base-url https://news.example/ledger
      ledger publish --out review-site --html --drafts
    """
    from ledger.publish import publish as publish_all

    with progress_bar("Publishing") as progress:
        result = publish_all(state(ctx).engine(), out, html=html, templates_dir=templates,
                             base_url=base_url, include_retracted=not hide_retracted,
                             progress=progress, jobs=jobs, verify=not skip_verify,
                             drafts=drafts)
    info(result.summary().capitalize())
    _note_unapproved(len(result.unapproved))


def demo(ctx: typer.Context, out: OutDir = "reports",
         force: Annotated[bool, typer.Option(
             "--force", help="Add the example to a ledger that is not empty.")] = False) -> None:
    """Load the bundled example ledger (the Han Dong story) and publish it, HTML included.

    Refuses a ledger that already holds anything, unless --force, and publishes only a ledger
    that passes `ledger verify`. Into a new ledger the history is recorded with a fixed clock
    (SOURCE_DATE_EPOCH if set), as the story developed (two values first recorded wrongly,
    then corrected), and its head is signed with the bundled DEMO key (never for real use),
    so its head hash, its checkpoint and the published files are the same on every run.

    \b
    Example:
      ledger --db demo.db demo --out reports
    """
    from ledger.publish import load_example
    from ledger.publish import publish as publish_all

    engine = state(ctx).engine(create=True)
    imported = load_example(engine, force=force)
    info(imported.summary().capitalize())
    with state(ctx).read() as session:
        _verified(session, doing="demo", skip=False)
    with progress_bar("Publishing") as progress:
        result = publish_all(engine, out, html=True, progress=progress)
    info(result.summary().capitalize())
    _note_unapproved(len(result.unapproved))


def _check_out_file(out: str) -> None:
    from ledger.errors import ReadFailed

    path = Path(out)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ReadFailed(f"--out: the folder {str(folder)!r} does not exist")
    if path.is_dir():
        raise ReadFailed(f"--out {out!r} is a folder; give a file name")
