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
def statutes_import(path: Path | None):
    """Import every Markdown document under PATH (default: the STATUTES_DIR setting).

    Idempotent: unchanged files are skipped, changed ones replaced; bad files are reported."""
    from statutes.importer import corpus_files, import_corpus
    if path is None:
        path = Path(current_app.config["STATUTES_DIR"])
        if not path.is_dir():
            raise click.ClickException(f"no corpus at {path}; give PATH or set "
                                       "CONCORD_STATUTES_DIR")
    total = len(corpus_files(path))
    with click.progressbar(length=total, label="Importing statutes",
                           show_pos=True) as bar:
        report = import_corpus(path, progress=bar.update)
    for relative, reason in report.skipped:
        click.echo(f"skipped {relative}: {reason}", err=True)
    click.echo(report.summary())
