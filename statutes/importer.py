"""Import a statute corpus directory into the database (idempotent, bulk inserts).

`import_corpus(root)` walks the folder, parses every document file and writes laws, structure
nodes and articles with Core executemany inserts, one transaction per batch of files. A file
already imported with the same content hash is skipped; a changed file replaces its old rows;
files that disappeared from the corpus are left alone. A bad file is reported and skipped.
"""
from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import bindparam, delete, func, insert, select, update

from app.extensions import db
from app.models import utcnow
from statutes.models import Article, ArticleSearch, Law, StatuteNode
from statutes.parser import ParsedLaw, ParseError, parse_law
from statutes.search import drop_search_rows, index_articles, index_is_current
from statutes.semantic import drop_vectors

BATCH_FILES = 200
# Part of every file's digest: a release that reads files differently raises it, so that the
# next import reads every file again (2: articles 第X条之一 apart from 第X条).
READING = b"reading 2\n"
SKIPPED_NAMES = {"README.md", "_index.md"}
# Folder → level for the national collection (法律 categories are all "law").
FOLDER_LEVELS = {
    "宪法": "constitution",
    "行政法规": "administrative_regulation",
    "司法解释": "judicial_interpretation",
    "部门规章": "departmental_rule",
    "案例": "case",
    "其他": "other",
}
LAW_FOLDERS = {"民法商法", "社会法", "行政法", "刑法", "宪法相关法", "经济法",
               "诉讼与非诉讼程序法", "民法典"}
# Documents that carry no articles: guiding cases and the odd guide.
NO_ARTICLES_EXPECTED = {"case", "other"}
# Repealed documents the corpus text does not mark (upstream metadata: expired = 1), and the
# labour-dispute interpretations that 法释〔2020〕16号 abolished when 解释（一） replaced them.
KNOWN_REPEALED = {
    "信访条例",
    "最高人民法院关于审理劳动争议案件适用法律若干问题的解释",
    "最高人民法院关于审理劳动争议案件适用法律若干问题的解释（二）",
    "最高人民法院关于审理劳动争议案件适用法律若干问题的解释（三）",
    "最高人民法院关于审理劳动争议案件适用法律若干问题的解释（四）",
}
# A national document in force that says 《…》同时废止 repeals that document (噪声污染防治法
# 第九十条: 《中华人民共和国环境噪声污染防治法》同时废止), though the latter's own file does not say so.
NATIONAL_LEVELS = ("law", "administrative_regulation", "judicial_interpretation",
                   "departmental_rule")
REPEALS_WORDS = "同时废止"
_CLAUSE_RE = re.compile(r"[。；\n]")
_TITLE_RE = re.compile(r"《([^《》]{2,100})》")
# Laws abolished when the Civil Code took effect (民法典 第一千二百六十条); the judicial
# interpretations written for them were abolished with them (法释〔2020〕16号).
ABOLISHED_BY_CIVIL_CODE = ("婚姻法", "继承法", "民法通则", "收养法", "担保法", "合同法", "物权法",
                           "侵权责任法", "民法总则")
LOCAL_SUFFIX = "地方法规"

laws_t = Law.__table__
nodes_t = StatuteNode.__table__
articles_t = Article.__table__


@dataclass
class ImportReport:
    files: int = 0
    imported: int = 0
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)   # (path, reason)
    laws: int = 0            # law rows in the database afterwards
    articles: int = 0        # article rows in the database afterwards
    indexed: int = 0         # articles (re)indexed for search
    changed_law_ids: list[int] = field(default_factory=list)
    repealed_by_text: int = 0  # versions found repealed by another document's text
    seconds: float = 0.0
    index_seconds: float = 0.0

    def summary(self) -> str:
        return (f"files read {self.files}, imported {self.imported}, "
                f"unchanged {self.unchanged}, skipped {len(self.skipped)}; "
                f"laws {self.laws}, articles {self.articles}, indexed for search "
                f"{self.indexed}; {self.seconds:.1f} s"
                + (f"; {self.repealed_by_text} repealed by a later document's text"
                   if self.repealed_by_text else ""))


@dataclass
class _Pending:
    path: str
    digest: str
    parsed: ParsedLaw
    category: str
    level: str
    jurisdiction: str | None
    old_id: int | None


def corpus_files(root: Path) -> list[Path]:
    """Every document file under root, in a stable order."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".md") and name not in SKIPPED_NAMES:
                found.append(Path(folder) / name)
    return found


def classify(relative: str) -> tuple[str, str, str | None]:
    """Relative path → (category, level, jurisdiction)."""
    parts = relative.split("/")[:-1]
    if not parts:
        return "", "other", None
    if parts[0] == "DLC" and len(parts) > 1:
        province = parts[1].removesuffix(LOCAL_SUFFIX)
        return parts[1], "local_regulation", province
    top = parts[0]
    if top in LAW_FOLDERS:
        return top, "law", None
    return "/".join(parts), FOLDER_LEVELS.get(top, "other"), None


def import_corpus(root: str | Path, progress: Callable[[int], None] | None = None,
                  index: bool = True) -> ImportReport:
    """Import every document under root; `progress(n)` is called as files are read. With
    `index`, the laws that changed are then indexed for search (every law, when the search
    index is still empty)."""
    started = time.perf_counter()
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"not a directory: {root}")
    report = ImportReport()
    rows = db.session.execute(select(laws_t.c.source_path, laws_t.c.content_hash,
                                     laws_t.c.id, laws_t.c.title)).all()
    db.session.commit()          # end the read transaction; writes use their own connection
    known = {row.source_path: row.content_hash for row in rows}
    ids = {row.source_path: row.id for row in rows}
    old_titles = {row.source_path: row.title for row in rows}
    batch: list[_Pending] = []
    touched: set[str] = set()
    changed: list[int] = []
    for path in corpus_files(root):
        report.files += 1
        pending = _read(path, root, known, ids, report)
        if pending is not None:
            batch.append(pending)
            touched.add(pending.parsed.title)
            if pending.path in old_titles:          # a changed file may have a new title
                touched.add(old_titles[pending.path])
        if len(batch) >= BATCH_FILES:
            changed += _write(batch)
            report.imported += len(batch)
            batch = []
        if progress:
            progress(1)
    if batch:
        changed += _write(batch)
        report.imported += len(batch)
    if touched:
        recompute_statuses(touched)
        report.repealed_by_text = repeal_by_text()
    report.changed_law_ids = changed
    if index:
        index_changed(report)
    report.laws = db.session.scalar(select(func.count()).select_from(laws_t)) or 0
    report.articles = db.session.scalar(select(func.count()).select_from(articles_t)) or 0
    db.session.commit()
    report.seconds = time.perf_counter() - started
    return report


def index_changed(report: ImportReport) -> None:
    """Index the laws an import changed for search (every law, when the search index is
    still empty or was built with another lexicon), noting the count and the time in the
    report."""
    started = time.perf_counter()
    changed: list[int] | None = report.changed_law_ids
    if (not db.session.scalar(select(func.count()).select_from(ArticleSearch.__table__))
            or not index_is_current()):
        changed = None             # never indexed, or under another lexicon: index everything
    db.session.commit()
    if changed is None or changed:
        report.indexed = index_articles(changed)
    report.index_seconds = time.perf_counter() - started
    report.seconds += report.index_seconds


def _read(path: Path, root: Path, known: dict, ids: dict,
          report: ImportReport) -> _Pending | None:
    relative = path.relative_to(root).as_posix()
    try:
        data = path.read_bytes()
    except OSError as err:
        report.skipped.append((relative, f"unreadable: {err.strerror or err}"))
        return None
    digest = hashlib.sha256(READING + data).hexdigest()
    if known.get(relative) == digest:
        report.unchanged += 1
        return None
    try:
        parsed = parse_law(data.decode("utf-8"), path.name)
    except UnicodeDecodeError:
        report.skipped.append((relative, "not UTF-8"))
        return None
    except ParseError as err:
        report.skipped.append((relative, str(err)))
        return None
    category, level, jurisdiction = classify(relative)
    problem = _problem(parsed, level)
    if problem:
        report.skipped.append((relative, problem))
        return None
    return _Pending(relative, digest, parsed, category, level, jurisdiction, ids.get(relative))


def _problem(parsed: ParsedLaw, level: str) -> str | None:
    if not parsed.articles and level not in NO_ARTICLES_EXPECTED:
        return "no articles (no paragraph starts with 第X条)"
    if len(parsed.title) > 255:
        return "title longer than 255 characters"
    return None


def _write(batch: Iterable[_Pending]) -> list[int]:
    """Replace the rows of every file in the batch, in one transaction; returns the new law
    ids."""
    batch = list(batch)
    now = utcnow()
    with db.engine.begin() as conn:
        old = [p.old_id for p in batch if p.old_id is not None]
        if old:
            drop_search_rows(conn, old)
            drop_vectors(conn, old)
            conn.execute(delete(articles_t).where(articles_t.c.law_id.in_(old)))
            conn.execute(update(nodes_t).where(nodes_t.c.law_id.in_(old)).values(parent_id=None))
            conn.execute(delete(nodes_t).where(nodes_t.c.law_id.in_(old)))
            conn.execute(delete(laws_t).where(laws_t.c.id.in_(old)))
        law_rows = [_law_row(p, now) for p in batch]
        law_ids = conn.execute(
            insert(laws_t).returning(laws_t.c.id, sort_by_parameter_order=True),
            law_rows).scalars().all()
        node_ids = _insert_nodes(conn, batch, law_ids)
        article_rows = []
        for pending, law_id, ids in zip(batch, law_ids, node_ids):
            for position, art in enumerate(pending.parsed.articles, 1):
                article_rows.append({
                    "law_id": law_id, "node_id": None if art.node is None else ids[art.node],
                    "label": art.label[:32], "number": art.number, "suffix": art.suffix,
                    "text": art.text,
                    "position": position})
        if article_rows:
            conn.execute(insert(articles_t), article_rows)
    return list(law_ids)


def interprets_abolished_law(title: str) -> bool:
    """Whether a judicial interpretation's title names a law the Civil Code abolished."""
    return any(f"《{name}》" in title or f"《中华人民共和国{name}》" in title
               for name in ABOLISHED_BY_CIVIL_CODE)


def _law_row(p: _Pending, now) -> dict:
    law = p.parsed
    repealed = (law.repealed or law.title in KNOWN_REPEALED
                or (p.level == "judicial_interpretation" and interprets_abolished_law(law.title)))
    return {
        "title": law.title, "short_title": law.short_title[:255],
        "book": law.book[:64] if law.book else None, "category": p.category[:128],
        "level": p.level, "jurisdiction": p.jurisdiction,
        "version_date": law.version_date, "effective_date": law.effective_date,
        "status": "repealed" if repealed else "in_force",
        "history": "\n".join(law.history), "source_path": p.path, "content_hash": p.digest,
        "article_count": len(law.articles), "imported_at": now,
    }


def _insert_nodes(conn, batch: list[_Pending], law_ids: list[int]) -> list[list[int]]:
    """Insert the nodes of every law, depth by depth so parents have ids; node ids per law."""
    node_ids = [[0] * len(p.parsed.nodes) for p in batch]
    depth_of: list[list[int]] = []
    for pending in batch:
        depths = []
        for node in pending.parsed.nodes:
            depths.append(0 if node.parent is None else depths[node.parent] + 1)
        depth_of.append(depths)
    depth = 0
    while True:
        keys, rows = [], []
        for li, (pending, law_id) in enumerate(zip(batch, law_ids)):
            for ni, node in enumerate(pending.parsed.nodes):
                if depth_of[li][ni] != depth:
                    continue
                keys.append((li, ni))
                rows.append({"law_id": law_id, "level": node.level, "label": node.label[:32],
                             "title": node.title[:255], "position": ni + 1,
                             "parent_id": None if node.parent is None
                             else node_ids[li][node.parent]})
        if not rows:
            return node_ids
        new_ids = conn.execute(
            insert(nodes_t).returning(nodes_t.c.id, sort_by_parameter_order=True),
            rows).scalars().all()
        for (li, ni), node_id in zip(keys, new_ids):
            node_ids[li][ni] = node_id
        depth += 1


def repealed_titles(text: str) -> list[str]:
    """The titles an article repeals: those named in a clause before 同时废止."""
    names = []
    for clause in _CLAUSE_RE.split(text):
        if REPEALS_WORDS in clause:
            names += _TITLE_RE.findall(clause.split(REPEALS_WORDS)[0])
    return names


def repeal_by_text() -> int:
    """Mark repealed every national document that a national document in force repeals in its
    own text (《…》同时废止): one of another title (the short form without 中华人民共和国 too),
    no newer than the repealing document. Returns how many versions it marked."""
    with db.engine.begin() as conn:
        rows = conn.execute(
            select(laws_t.c.title, laws_t.c.version_date, articles_t.c.text)
            .join(articles_t, articles_t.c.law_id == laws_t.c.id)
            .where(laws_t.c.status == "in_force", laws_t.c.level.in_(NATIONAL_LEVELS),
                   laws_t.c.version_date.is_not(None),
                   articles_t.c.text.contains(REPEALS_WORDS))).all()
        repealed_on: dict[str, object] = {}     # title -> the latest repealing version's date
        for row in rows:
            for name in repealed_titles(row.text):
                for title in (name, f"中华人民共和国{name}"):
                    if title != row.title:
                        repealed_on[title] = max(repealed_on.get(title, row.version_date),
                                                 row.version_date)
        if not repealed_on:
            return 0
        titles = list(repealed_on)
        ids = [row.id for start in range(0, len(titles), 500)
               for row in conn.execute(
                   select(laws_t.c.id, laws_t.c.title, laws_t.c.version_date)
                   .where(laws_t.c.title.in_(titles[start:start + 500]),
                          laws_t.c.status != "repealed",
                          laws_t.c.level.in_(NATIONAL_LEVELS)))
               if row.version_date is not None and row.version_date <= repealed_on[row.title]]
        if ids:
            conn.execute(update(laws_t).where(laws_t.c.id.in_(ids)).values(status="repealed"))
        return len(ids)


def recompute_statuses(titles: Iterable[str]) -> None:
    """Per (title, book): the newest version is in force, older ones superseded; repealed
    documents stay repealed."""
    titles = sorted(set(titles))
    with db.engine.begin() as conn:
        groups: dict[tuple, list] = {}
        for start in range(0, len(titles), 500):
            chunk = titles[start:start + 500]
            rows = conn.execute(select(laws_t.c.id, laws_t.c.title, laws_t.c.book,
                                       laws_t.c.version_date, laws_t.c.status)
                                .where(laws_t.c.title.in_(chunk))).all()
            for row in rows:
                groups.setdefault((row.title, row.book), []).append(row)
        changes = []
        for rows in groups.values():
            live = [r for r in rows if r.status != "repealed"]
            dated = [r.version_date for r in live if r.version_date is not None]
            newest = max(dated) if dated else None
            for row in live:
                status = ("in_force" if newest is None or row.version_date == newest
                          else "superseded")
                if status != row.status:
                    changes.append({"law_id": row.id, "new_status": status})
        if changes:
            conn.execute(update(laws_t).where(laws_t.c.id == bindparam("law_id"))
                         .values(status=bindparam("new_status")), changes)
