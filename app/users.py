"""User operations."""
from __future__ import annotations

from app.extensions import db
from app.models import User


def set_locale(user: User, code: str) -> None:
    """Remember the user's interface language."""
    user.locale = code
    db.session.commit()
