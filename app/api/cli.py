"""`flask api-token …`: integration tokens for the JSON API."""
from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

api_token_cli = AppGroup("api-token", help="Manage integration API tokens.")


@api_token_cli.command("create")
@click.option("--name", required=True, help="Who uses the token, e.g. '12345 hotline'.")
@click.option("--centre", "centre_code", default=None,
              help="Short code of the centre whose subtree the token may see (default: the top centre).")
@click.option("--source", default=None, help="The only source channel allowed (default: every source).")
def create(name: str, centre_code: str | None, source: str | None):
    """Create a token; it is printed once, on the last line, and stored only as a hash."""
    from app.api.tokens import TokenError, create_token
    from app.extensions import db
    from app.models import Centre
    centre = None
    if centre_code:
        centre = db.session.scalar(select(Centre).where(Centre.short_code == centre_code))
        if centre is None:
            raise click.ClickException(f"No centre with the code {centre_code!r}.")
    try:
        row, token = create_token(name, centre, source)
    except TokenError as err:
        raise click.ClickException(err.message) from None
    click.echo(f"Created token {row.id} '{row.name}' for {row.centre.name} "
               f"({row.centre.short_code}), source: {row.source or 'all'}.")
    click.echo("Store it now: it is not shown again.")
    click.echo(token)


@api_token_cli.command("list")
def list_tokens():
    """List the tokens (their visible start, never the token)."""
    from app.api.tokens import all_tokens
    for row in all_tokens():
        state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "active"
        used = f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never"
        click.echo(f"{row.id}\t{row.prefix}…\t{row.name}\t{row.centre.short_code}\t"
                   f"{row.source or 'all'}\t{state}\tlast used {used}")


@api_token_cli.command("revoke")
@click.argument("ref")
def revoke(ref: str):
    """Revoke a token by its id or its visible start (as `list` shows it)."""
    from app.api.tokens import revoke_token, token_by_ref
    row = token_by_ref(ref)
    if row is None:
        raise click.ClickException(f"No token {ref!r}.")
    revoke_token(row)
    click.echo(f"Revoked token {row.id} '{row.name}'.")
