"""Locale selection (Simplified Chinese by default, English available) and label helpers."""
from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, current_app, request, session
from flask_babel import gettext
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.extensions import babel


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    requested = request.args.get("lang") if request else None
    if requested in languages:
        return requested
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)


def label(vocabulary: Mapping[str, str], code: str | None) -> str:
    """The translated label of a code value, or the code itself when it is unknown."""
    if code is None or code == "":
        return ""
    msgid = vocabulary.get(code)
    return gettext(msgid) if msgid else code


def options(pairs, blank: str | None = None) -> list[SelectChoice]:
    """WTForms select options from (value, label) pairs, after an optional blank option."""
    return ([SelectChoice("", blank)] if blank is not None else []) + [
        SelectChoice(value, text) for value, text in pairs]


def choices(vocabulary: Mapping[str, str], blank: str | None = None) -> list[SelectChoice]:
    """WTForms choices from a vocabulary, translated now (call inside a request)."""
    return options(((code, gettext(msgid)) for code, msgid in vocabulary.items()), blank)
