"""Command-line tools: `flask audit verify`, `flask demo load`, `flask demo logins`."""
from __future__ import annotations

from datetime import date

import click
from flask import Flask
from flask.cli import AppGroup

audit_cli = AppGroup("audit", help="The audit log.")
demo_cli = AppGroup("demo", help="Demonstration data.")


@audit_cli.command("verify")
def audit_verify():
    """Check every case's hash chain and report the first broken link of each."""
    from app.audit import verify_chains
    cases, events, broken = verify_chains()
    for link in broken:
        click.echo(f"BROKEN case id {link.case_id}, event {link.seq} (id {link.event_id}): "
                   f"{link.problem}", err=True)
    click.echo(f"checked {events} events in {cases} cases: "
               + ("all chains intact" if not broken else f"{len(broken)} broken chain(s)"))
    if broken:
        raise SystemExit(1)


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has centres.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Pretend today is this date (YYYY-MM-DD); default: today.")
def demo_load(if_empty: bool, today):
    """Load the demonstration city: centres, users, mediators and 300 cases."""
    from app.demo import demo_present, load_demo, print_logins
    if demo_present():
        if if_empty:
            click.echo("Demo data already loaded.")
            print_logins()
            return
        raise click.ClickException("The database already has data; use an empty database.")
    summary = load_demo(today=today.date() if today else date.today())
    click.echo(summary)
    print_logins()


@demo_cli.command("logins")
def demo_logins():
    """Print the demonstration logins."""
    from app.demo import print_logins
    print_logins()


def init_app(app: Flask) -> None:
    from app.api.cli import api_token_cli
    from cases.bulk_cli import cases_cli
    from cases.document_cli import documents_cli
    from statutes.cli import statutes_cli
    app.cli.add_command(audit_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(statutes_cli)
    app.cli.add_command(documents_cli)
    app.cli.add_command(api_token_cli)
    app.cli.add_command(cases_cli)
