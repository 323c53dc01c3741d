"""`flask documents …`: render and issue printed documents from the command line."""
from __future__ import annotations

import time
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.extensions import db
from cases import documents
from cases.document_models import DOCUMENT_KINDS
from cases.models import Case

documents_cli = AppGroup("documents", help="Render printed documents (PDF).")

RENDERABLE = [kind for kind in DOCUMENT_KINDS if kind != "acceptance_notice"]


@documents_cli.command("render")
@click.option("--case", "number", required=True, help="Case number, e.g. （2026）榕鼓调字第0001号.")
@click.option("--kind", type=click.Choice(RENDERABLE), default="agreement", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def render_command(number: str, kind: str, out: Path) -> None:
    """Render a document of a case to a file (a preview: nothing is issued or stored)."""
    case = db.session.scalar(select(Case).where(Case.number == number.strip()))
    if case is None:
        raise click.ClickException(f"no case numbered {number}")
    try:
        pdf = documents.render_case(case, kind)
    except documents.DocumentError as err:
        raise click.ClickException(str(err)) from None
    out.write_bytes(pdf.content)
    click.echo(f"{out}: {pdf.pages} pages, {len(pdf.content)} bytes")


@documents_cli.command("demo")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def demo_command(out: Path) -> None:
    """Render the demo agreement (no database needed)."""
    from cases.document_demo import DEMO_ISSUED_AT, demo_agreement
    started = time.perf_counter()
    pdf = documents.render(demo_agreement(), issued_at=DEMO_ISSUED_AT)
    elapsed = (time.perf_counter() - started) * 1000
    out.write_bytes(pdf.content)
    click.echo(f"{out}: {pdf.pages} pages, {len(pdf.content)} bytes, {elapsed:.0f} ms")


@documents_cli.command("fonts")
def fonts_command() -> None:
    """Build the document fonts under the instance folder (done on first render otherwise)."""
    faces = documents.ensure_fonts()
    for path in (faces.regular, faces.bold, *faces.rare):
        click.echo(f"{path} ({path.stat().st_size} bytes)") if path else None
