"""Demonstration data (`flask demo load`): a city of centres, users, mediators and 300 cases."""
# The same on every load for the same day. Every case is planned first (parties, texts, the
# dated steps of its history, chosen so that some clocks are overdue or due soon on `today`),
# then all steps of all cases are replayed in time order through register_case /
# fire_transition / record_session, so numbers, clocks, agreements and audit chains are
# genuine and mediators' loads are counted as they were.
from __future__ import annotations

import random
import time
from contextlib import contextmanager
from datetime import date

import click
from sqlalchemy import event, func, select

from app.demo.people import Identities
from app.demo.places import _create_centres
from app.demo.planner import Planner
from app.demo.replay import (DEMO_PASSWORD, DEMO_USERS, MediatorPool, Replay, _create_mediators,
                             _create_users)
from app.extensions import db
from app.models import AuditEvent, Centre, User
from cases.models import Case

__all__ = ["DEMO_PASSWORD", "demo_present", "load_demo", "print_logins"]

SEED = 20261116


@contextmanager
def _bulk_loading():
    """Make the replay's ~1,800 small commits cheap, and undo it afterwards.

    The session keeps its objects across the services' commits (nothing else writes
    meanwhile, and re-reading every object after every commit doubled the time), and SQLite
    skips the fsync of each commit: the demo goes into an empty database, so a crash
    mid-load costs nothing but a reload. Each connection gets its own setting back when it
    returns to the pool.
    """
    session = db.session()
    session.commit()  # release the connection so that the next checkout sees the listener
    engine = session.get_bind()
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        event.listen(engine, "checkout", _skip_fsync)
        event.listen(engine, "checkin", _restore_fsync)
    session.expire_on_commit = False
    try:
        yield
    finally:
        session.expire_on_commit = True
        session.commit()
        if sqlite:
            event.remove(engine, "checkout", _skip_fsync)
            event.remove(engine, "checkin", _restore_fsync)
        session.expire_all()


def _skip_fsync(dbapi_connection, record, proxy) -> None:
    record.info["synchronous"] = dbapi_connection.execute("PRAGMA synchronous").fetchone()[0]
    dbapi_connection.execute("PRAGMA synchronous = OFF")


def _restore_fsync(dbapi_connection, record) -> None:
    previous = record.info.pop("synchronous", None)
    if dbapi_connection is not None and previous is not None:
        dbapi_connection.execute(f"PRAGMA synchronous = {int(previous)}")


def demo_present() -> bool:
    """True when the database already holds centres (demo or real)."""
    return db.session.scalar(select(Centre.id).limit(1)) is not None


def load_demo(today: date) -> str:
    """Load the demonstration city as it stands on `today`; returns a one-line summary."""
    started = time.perf_counter()
    rng = random.Random(SEED)
    try:
        places = _create_centres(rng)
        people = Identities(rng)
        mediators = _create_mediators(rng, places, people)
        users = _create_users(places, mediators)
        pool = MediatorPool(mediators, places)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    plans = Planner(rng, places, today).plan_all()
    with _bulk_loading():
        Replay(plans, users, pool, places).run()
    events = db.session.scalar(select(func.count(AuditEvent.id)))
    cases = db.session.scalar(select(func.count(Case.id)))
    return (f"Loaded the demonstration city as of {today.isoformat()}: {len(places)} centres, "
            f"{len(DEMO_USERS)} users, {len(mediators)} mediators, {cases} cases, "
            f"{events} audit events in {time.perf_counter() - started:.1f} s.")


def print_logins() -> None:
    """Print the demonstration logins: role, username, password, centre."""
    usernames = [username for _, username, _, _ in DEMO_USERS]
    users = {u.username: u for u in db.session.scalars(
        select(User).where(User.username.in_(usernames)))}
    click.echo(f"Demo logins:\n{'role':<11}{'username':<12}{'password':<14}centre")
    for username in usernames:
        user = users.get(username)
        if user is not None:
            click.echo(f"{user.role:<11}{user.username:<12}{DEMO_PASSWORD:<14}{user.centre.name}")
