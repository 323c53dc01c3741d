"""`flask cases import-file`: bulk intake of a CSV or XLSX export from the command line, with a
progress bar. The same checks and the same chunked, idempotent import as the web pages."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.extensions import db
from app.models import Centre, User
from cases import bulk_intake
from cases.bulk_intake import FileProblem
from cases.vocabulary import SOURCES

cases_cli = AppGroup("cases", help="Cases: bulk intake from exports.")


@cases_cli.command("import-file")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", required=True, type=click.Choice(sorted(SOURCES)),
              help="The channel every case of the file came from (e.g. hotline_12345, grid).")
@click.option("--centre", "centre_code", required=True,
              help="Short code of the centre the cases go to (unless a column names another "
                   "centre below it).")
@click.option("--mapping", "mapping_json", default=None,
              help='Column mapping as JSON, by header: {"columns": {"facts": "诉求内容"}, '
                   '"categories": {"城市管理": "other"}}; default: recognised from the headers.')
@click.option("--user", "username", default=None,
              help="Record the cases as registered by this user (default: the system).")
@click.option("--dry-run", is_flag=True, help="Only check the rows; register nothing.")
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write the rows with an error and their reasons to this CSV.")
def import_file(path: Path, source: str, centre_code: str, mapping_json: str | None,
                username: str | None, dry_run: bool, errors_path: Path | None):
    """Register the disputes of a 12345 / grid / court export; rows already imported from the
    same channel (same reference) are skipped, rows with an error are reported and skipped."""
    centre = db.session.scalar(select(Centre).where(Centre.short_code == centre_code))
    if centre is None:
        raise click.ClickException(f"no centre has the short code {centre_code!r}")
    actor = None
    if username:
        actor = db.session.scalar(select(User).where(User.username == username))
        if actor is None:
            raise click.ClickException(f"no user {username!r}")
        if not centre.is_within(actor.centre):
            raise click.ClickException(f"{username} cannot register cases at {centre_code}")
    try:
        batch, sheet = bulk_intake.create_batch(path.read_bytes(), path.name, source, centre,
                                                None)
    except FileProblem as err:
        raise click.ClickException(str(err)) from None
    if actor is not None:
        batch.user_id = actor.id
    if mapping_json:
        try:
            batch.mapping = bulk_intake.mapping_by_header(json.loads(mapping_json),
                                                          sheet.headers)
        except ValueError as err:
            raise click.ClickException(f"--mapping: {err}") from None
    db.session.commit()
    problems = bulk_intake.mapping_problems(batch.mapping, sheet.headers)
    if problems:
        raise click.ClickException(
            "; ".join(problems) + " (give the columns with --mapping; the file's headers: "
            + ", ".join(sheet.headers) + ")")
    click.echo(f"{path.name}: {len(sheet.rows)} rows, batch {batch.id}", err=True)
    if dry_run:
        report = bulk_intake.preview(batch, sheet)
    else:
        with click.progressbar(length=len(sheet.rows), label="importing", file=sys.stderr,
                               show_pos=True) as bar:
            report = bulk_intake.run_import(batch, sheet, actor, progress=bar.update)
    if errors_path:
        errors_path.write_text(bulk_intake.csv_report(sheet, report), encoding="utf-8-sig")
    counts = report.counts
    click.echo(json.dumps({"batch": batch.id, "rows": len(report.rows),
                           "new" if dry_run else "created": counts["new" if dry_run else "created"],
                           "skipped": counts["imported"], "failed": counts["error"]}))
    for row in report.errors[:20]:
        click.echo(f"line {row.line}: " + "; ".join(bulk_intake.problem_text(p)
                                                    for p in row.problems), err=True)
    if len(report.errors) > 20:
        click.echo(f"… {len(report.errors) - 20} more rows with errors", err=True)
