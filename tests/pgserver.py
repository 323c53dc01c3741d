"""Find or start a PostgreSQL server for the test suite.

A plain module (no pytest): tests import it as ``pgserver`` because conftest puts
tests/ on sys.path.

    server = find_or_start()            # an existing server, or a throwaway cluster
    url = create_database(server.admin_url)   # postgresql+psycopg://user@host:port/concord_test_<hex>
    ...
    drop_database(server.admin_url, url)
    server.stop()                       # a no-op unless we started the server

Lookup order in find_or_start():
  1. env CONCORD_PG_URL, used as the admin URL as it is;
  2. a server on 127.0.0.1:5432 (users postgres/root, databases postgres/test)
     whose user may create databases;
  3. a throwaway cluster made with initdb/pg_ctl from /usr/lib/postgresql/*/bin
     (the newest version), on a free loopback port, removed again by stop()
     or at interpreter exit.

PostgreSQL refuses to run as root; as root the throwaway cluster belongs to the
``postgres`` system user (or ``concordpg``, created when there is no such user)
and its commands run through ``runuser -u USER --``.
"""
from __future__ import annotations

import atexit
import glob
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from urllib.parse import quote

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5432
CONNECT_TIMEOUT = 3  # seconds, for every probe of a server
ADMIN_CANDIDATES = (
    ("postgres", "postgres"),
    ("postgres", "test"),
    ("root", "postgres"),
    ("root", "test"),
)
SERVICE_USER = "postgres"      # owner of the throwaway cluster when we are root
FALLBACK_SERVICE_USER = "concordpg"
DB_PREFIX = "concord_test_"
_TEST_DB_NAME = re.compile(r"^concord_test_[0-9a-f]{8,32}$")
_PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"


class PgServerError(RuntimeError):
    """No server could be found or started."""


class PgServer:
    """A server the tests may create databases on.

    ``admin_url`` is a libpq URL (postgresql://user@host:port/db) of a database
    to connect to for CREATE/DROP DATABASE; ``started`` tells whether this
    process started the server (and so whether ``stop()`` does anything).
    """

    def __init__(self, admin_url: str, *, started: bool = False, datadir: str | None = None,
                 tmpdir: str | None = None, bindir: str | None = None,
                 run_as: str | None = None) -> None:
        self.admin_url = admin_url
        self.started = started
        self.datadir = datadir
        self.tmpdir = tmpdir
        self.bindir = bindir
        self.run_as = run_as
        self._stopped = not started

    def __repr__(self) -> str:
        kind = "started" if self.started else "existing"
        return f"PgServer({self.admin_url!r}, {kind})"

    def create_database(self) -> str:
        return create_database(self.admin_url)

    def drop_database(self, url: str) -> None:
        drop_database(self.admin_url, url)

    def stop(self) -> None:
        """Stop a server we started and remove its directory; otherwise do nothing."""
        if self._stopped:
            return
        self._stopped = True
        try:
            if self.datadir and os.path.isdir(self.datadir):
                _run([os.path.join(self.bindir, "pg_ctl"), "-D", self.datadir,
                      "-m", "fast", "-w", "-t", "30", "stop"],
                     self.run_as, cwd=self.tmpdir, check=False)
        finally:
            if self.tmpdir:
                shutil.rmtree(self.tmpdir, ignore_errors=True)


# ---------------------------------------------------------------- lookup

def find_or_start(prefer_existing: bool = True) -> PgServer:
    """Return a usable server: CONCORD_PG_URL, one on 127.0.0.1:5432, or a new cluster.

    With ``prefer_existing=False`` always start a throwaway cluster.
    """
    if prefer_existing:
        env_url = os.environ.get("CONCORD_PG_URL")
        if env_url:
            return PgServer(_libpq_url(env_url))
        url = _find_existing(DEFAULT_HOST, DEFAULT_PORT)
        if url:
            return PgServer(url)
    return start_cluster()


def _find_existing(host: str, port: int) -> str | None:
    """The first candidate admin URL that connects and may create databases."""
    if not _port_open(host, port):
        return None
    for user, dbname in ADMIN_CANDIDATES:
        url = f"postgresql://{user}@{host}:{port}/{dbname}"
        try:
            with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT, autocommit=True) as conn:
                row = conn.execute(
                    "SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user"
                ).fetchone()
        except psycopg.Error:
            continue
        if row and row[0]:
            return url
    return None


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT):
            return True
    except OSError:
        return False


def find_pg_bindir() -> str | None:
    """Directory holding initdb and pg_ctl: newest /usr/lib/postgresql/N/bin, else PATH."""
    def version(path: str) -> tuple:
        name = os.path.basename(os.path.dirname(path))
        return tuple(int(p) if p.isdigit() else 0 for p in name.split("."))

    dirs = [d for d in glob.glob(_PG_BIN_GLOB)
            if os.access(os.path.join(d, "initdb"), os.X_OK)
            and os.access(os.path.join(d, "pg_ctl"), os.X_OK)]
    if dirs:
        return max(dirs, key=version)
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl", path=os.path.dirname(initdb)):
        return os.path.dirname(initdb)
    return None


# ---------------------------------------------------------------- throwaway cluster

def start_cluster(bindir: str | None = None, run_as: str | None = None) -> PgServer:
    """initdb + pg_ctl start a trust-auth cluster on a free loopback port.

    As root the cluster runs as ``run_as`` (default: the postgres system user,
    created as concordpg when missing). The server stops at interpreter exit
    unless stop() was called earlier.
    """
    bindir = bindir or find_pg_bindir()
    if not bindir:
        raise PgServerError(
            "no PostgreSQL server answers and no initdb was found under "
            f"{_PG_BIN_GLOB} or on PATH; install the Debian package 'postgresql' "
            "or set CONCORD_PG_URL")
    if os.geteuid() == 0 and run_as is None:
        run_as = _service_user()
    if os.geteuid() != 0:
        run_as = None

    # A root-only TMPDIR may not be traversable by the service user: use /tmp then.
    parent = "/tmp" if run_as and os.path.isdir("/tmp") else None
    tmpdir = tempfile.mkdtemp(prefix="concord-pg-", dir=parent)
    try:
        if run_as:
            pw = pwd.getpwnam(run_as)
            os.chown(tmpdir, pw.pw_uid, pw.pw_gid)
        datadir = os.path.join(tmpdir, "data")
        _initdb(bindir, datadir, run_as, tmpdir)
        port = _start(bindir, datadir, tmpdir, run_as)
    except BaseException:
        shutil.rmtree(tmpdir, ignore_errors=True)
        raise

    server = PgServer(f"postgresql://postgres@{DEFAULT_HOST}:{port}/postgres", started=True,
                      datadir=datadir, tmpdir=tmpdir, bindir=bindir, run_as=run_as)
    atexit.register(server.stop)
    try:
        _wait_until_ready(server.admin_url)
    except BaseException:
        server.stop()
        raise
    return server


def _service_user() -> str:
    """The system user to own a cluster when we are root; create one if needed."""
    for name in (SERVICE_USER, FALLBACK_SERVICE_USER):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    subprocess.run([useradd, "--system", "--no-create-home", "--home-dir", "/nonexistent",
                    "--shell", "/usr/sbin/nologin", FALLBACK_SERVICE_USER],
                   check=True, capture_output=True, text=True)
    return FALLBACK_SERVICE_USER


def _initdb(bindir: str, datadir: str, run_as: str | None, cwd: str) -> None:
    base = [os.path.join(bindir, "initdb"), "-D", datadir, "-U", "postgres",
            "--auth=trust", "-E", "UTF8", "--no-sync"]
    first = _run(base + ["--locale=C.UTF-8"], run_as, cwd=cwd, check=False)
    if first.returncode == 0:
        return
    # Older systems lack the C.UTF-8 locale: plain C still stores UTF8 text.
    shutil.rmtree(datadir, ignore_errors=True)
    second = _run(base + ["--locale=C"], run_as, cwd=cwd, check=False)
    if second.returncode != 0:
        raise PgServerError(f"initdb failed:\n{first.stdout}{first.stderr}\n"
                            f"{second.stdout}{second.stderr}")


def _start(bindir: str, datadir: str, sockdir: str, run_as: str | None) -> int:
    """Start the server on a free port (a few tries against port races); return the port."""
    logfile = os.path.join(sockdir, "server.log")
    errors = []
    for _ in range(3):
        port = _free_port()
        options = (f"-p {port} -k {sockdir} -c listen_addresses={DEFAULT_HOST} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        result = _run([os.path.join(bindir, "pg_ctl"), "-D", datadir, "-l", logfile,
                       "-o", options, "-w", "-t", "60", "start"],
                      run_as, cwd=sockdir, check=False)
        if result.returncode == 0:
            return port
        log = ""
        try:
            with open(logfile, encoding="utf-8", errors="replace") as fh:
                log = fh.read()[-4000:]
        except OSError:
            pass
        errors.append(f"port {port}: {result.stdout}{result.stderr}\n{log}")
    raise PgServerError("pg_ctl start failed:\n" + "\n".join(errors))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((DEFAULT_HOST, 0))
        return sock.getsockname()[1]


def _wait_until_ready(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT) as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                raise PgServerError(f"server at {url} did not answer: {exc}") from exc
            time.sleep(0.1)


def _run(cmd: list[str], run_as: str | None, *, cwd: str | None,
         check: bool) -> subprocess.CompletedProcess:
    if run_as:
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"
        cmd = [runuser, "-u", run_as, "--", *cmd]
    # Stray PGDATA/PGPORT/... from the caller must not redirect initdb or pg_ctl.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    return subprocess.run(cmd, cwd=cwd, env=env, check=check, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL)


# ---------------------------------------------------------------- databases

def create_database(admin_url: str) -> str:
    """Create database concord_test_<hex>; return its SQLAlchemy URL (postgresql+psycopg://)."""
    admin = _libpq_url(admin_url)
    name = DB_PREFIX + secrets.token_hex(6)
    ident = sql.Identifier(name)
    with psycopg.connect(admin, connect_timeout=CONNECT_TIMEOUT, autocommit=True) as conn:
        try:
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'")
                         .format(ident))
        except psycopg.DatabaseError:
            # e.g. a cluster whose locale does not allow UTF8: take its defaults.
            conn.execute(sql.SQL("CREATE DATABASE {}").format(ident))
    return _sqlalchemy_url(admin, name)


def drop_database(admin_url: str, url: str) -> None:
    """Drop a database made by create_database (WITH (FORCE)); refuse any other name."""
    name = _dbname(url)
    if not _TEST_DB_NAME.match(name or ""):
        raise ValueError(f"refusing to drop {name!r}: not a database made by create_database")
    with psycopg.connect(_libpq_url(admin_url), connect_timeout=CONNECT_TIMEOUT,
                         autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                     .format(sql.Identifier(name)))


def _libpq_url(url: str) -> str:
    """Accept SQLAlchemy spellings (postgresql+psycopg://) too: libpq wants postgresql://."""
    return re.sub(r"^postgres(?:ql)?\+\w+://", "postgresql://", url.strip())


def _dbname(url: str) -> str | None:
    try:
        return conninfo_to_dict(_libpq_url(url)).get("dbname")
    except psycopg.ProgrammingError as exc:
        raise ValueError(f"not a database URL: {url!r}") from exc


def _sqlalchemy_url(admin_url: str, dbname: str) -> str:
    """postgresql+psycopg://user[:password]@host:port/dbname for the admin's server."""
    params = conninfo_to_dict(admin_url)
    user = params.get("user") or pwd.getpwuid(os.geteuid()).pw_name
    auth = quote(user, safe="")
    if params.get("password"):
        auth += ":" + quote(params["password"], safe="")
    host = params.get("host") or DEFAULT_HOST
    port = params.get("port") or str(DEFAULT_PORT)
    if host.startswith("/"):  # a unix socket directory goes in the query
        return f"postgresql+psycopg://{auth}@/{dbname}?host={quote(host, safe='/')}&port={port}"
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"postgresql+psycopg://{auth}@{host}:{port}/{dbname}"
