"""Integration tokens: create (the token is returned once), find by the presented token,
list and revoke. Only the SHA-256 of a token is stored."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select

from app.api.models import ApiToken
from app.extensions import db
from app.models import Centre, User, utcnow
from cases.models import Case
from cases.vocabulary import SOURCES

TOKEN_PREFIX = "cnc_"
VISIBLE_CHARS = 12  # the start of a token shown in lists ("cnc_AbCdEfGh")
TOUCH_INTERVAL = timedelta(minutes=1)  # last_used_at is written at most once a minute


class TokenError(Exception):
    """A token that cannot be created: `field` names what is wrong (an English message)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def top_centre() -> Centre | None:
    """The root of the centre hierarchy (the city centre), the default scope."""
    return db.session.scalar(select(Centre).where(Centre.parent_id.is_(None)).order_by(Centre.id))


def create_token(name: str, centre: Centre | None = None, source: str | None = None,
                 created_by: User | None = None) -> tuple[ApiToken, str]:
    """A new token for `centre`'s subtree (default: the top centre) and `source` (None: all).

    Returns the row and the token itself, which is not stored and cannot be shown again."""
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise TokenError("name", "Give the token a name of 1 to 64 characters.")
    if source is not None and source not in SOURCES:
        raise TokenError("source", "Unknown source channel.")
    centre = centre or top_centre()
    if centre is None:
        raise TokenError("centre", "There is no centre yet.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=name, prefix=token[:VISIBLE_CHARS], token_hash=hash_token(token),
                   centre_id=centre.id, source=source,
                   created_by_id=created_by.id if created_by else None)
    db.session.add(row)
    db.session.commit()
    return row, token


def find_token(token: str) -> ApiToken | None:
    """The active token row for a presented token, or None (unknown or revoked)."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None:
        return None
    return row


def touch(row: ApiToken) -> None:
    """Record that the token was used (at most once a minute, to spare the database)."""
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_INTERVAL:
        row.last_used_at = now
        db.session.commit()


def all_tokens() -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).order_by(ApiToken.created_at.desc(),
                                                            ApiToken.id.desc())))


def token_by_ref(ref: str) -> ApiToken | None:
    """A token by its id or its visible prefix."""
    ref = (ref or "").strip()
    if ref.isdigit() and len(ref) < 10:
        return db.session.get(ApiToken, int(ref))
    return db.session.scalar(select(ApiToken).where(ApiToken.prefix == ref))


def revoke_token(row: ApiToken) -> ApiToken:
    """Revoke a token: from now on it answers 401. Revoking twice changes nothing."""
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        db.session.commit()
    return row


def centre_in_scope(row: ApiToken, centre: Centre) -> bool:
    return centre.is_within(row.centre)


def case_in_scope(row: ApiToken, case: Case) -> bool:
    """A token sees the cases of its centre's subtree, of its source channel if it has one."""
    return centre_in_scope(row, case.centre) and (row.source is None or case.source == row.source)
