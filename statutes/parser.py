"""Parse one statute Markdown file (the LawRefBook corpus format) into plain data.

Pure functions, no database: `parse_law(text, filename)` returns a ParsedLaw or raises
ParseError. The format and its quirks are described in ../shared/statutes/README.md.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

INFO_END = "<!-- INFO END -->"
NUMERALS = "零〇一二两三四五六七八九十百千万"
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
           "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}

# 第X编 / 第X分编 / 第X章 / 第X节, whitespace anywhere (headings are often letter-spaced).
_STRUCTURE_RE = re.compile(rf"^第\s*([{NUMERALS}\s]+?)\s*(分\s*编|编|章|节)(?:\s+|$)(.*)$")
_STRUCTURE_LEVELS = {"编": "part", "分编": "subpart", "章": "chapter", "节": "section"}
_RANK = {"part": 0, "subpart": 1, "chapter": 2, "section": 3, "heading": 4}
# 第十七条, and 第十七条之一: an article inserted after 第十七条 by an amendment (the Criminal Law
# has 53), numbered 17 with suffix 1.
_ARTICLE_RE = re.compile(rf"^第([{NUMERALS}]+)条(?:之([{NUMERALS}]+))?(?:\s+|$)")
_REFERENCE_RE = re.compile(rf"^第?(\d+|[{NUMERALS}]+)条?(?:(?:之|-)(\d+|[{NUMERALS}]+))?$")
_DATE_RE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_FILE_DATE_RE = re.compile(r"\((\d{4})-(\d{2})-(\d{2})\)$")
_SPACE_RE = re.compile(r"\s+")
# Whitespace between two non-ASCII characters is letter-spacing (总 则, 监\u2002\u2002护).
_CJK_GAP_RE = re.compile(r"(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])")
REPEAL_WORDS = ("废止", "失效")


class ParseError(ValueError):
    """The file is not a usable statute document; str(err) says why."""


@dataclass
class ParsedNode:
    level: str              # a NODE_LEVELS key
    label: str              # 第一章 ("" for an unnumbered heading)
    title: str              # 总则
    parent: int | None      # index into ParsedLaw.nodes


@dataclass
class ParsedArticle:
    label: str              # 第十七条 (第十七条之一)
    number: int             # 17
    text: str               # paragraphs joined by "\n", without the label
    node: int | None        # index of the innermost heading above it
    suffix: int = 0         # 1 for 第十七条之一


@dataclass
class ParsedLaw:
    title: str
    short_title: str
    book: str | None = None
    history: list[str] = field(default_factory=list)
    effective_date: date | None = None
    version_date: date | None = None
    repealed: bool = False
    nodes: list[ParsedNode] = field(default_factory=list)
    articles: list[ParsedArticle] = field(default_factory=list)


def chinese_number(numeral: str) -> int:
    """一 → 1, 十 → 10, 十一 → 11, 二十 → 20, 一百零一 → 101, 一千二百六十 → 1260."""
    numeral = numeral.strip()
    if not numeral:
        raise ValueError("empty numeral")
    if all(ch in _DIGITS for ch in numeral) and len(numeral) > 1:   # 一〇一 digit by digit
        return int("".join(str(_DIGITS[ch]) for ch in numeral))
    total, section, digit = 0, 0, None
    for ch in numeral:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch in _UNITS:
            section += (1 if digit is None else digit) * _UNITS[ch]
            digit = None
        elif ch == "万":
            total += (section + (digit or 0)) * 10000
            section, digit = 0, None
        else:
            raise ValueError(f"not a Chinese numeral: {numeral!r}")
    return total + section + (digit or 0)


def article_reference(reference: str) -> tuple[int, int] | None:
    """An article as a person writes it → (number, suffix): 1179, 第1179条, 第一千一百七十九条 or
    一千一百七十九 → (1179, 0); 第二百九十一条之二, 291之2 or 291-2 → (291, 2). None if it is not
    an article number."""
    match = _REFERENCE_RE.match(_SPACE_RE.sub("", reference))
    if not match:
        return None
    try:
        number, suffix = (int(n) if n.isdigit() else chinese_number(n)
                          for n in (match.group(1), match.group(2) or "0"))
    except ValueError:
        return None
    return (number, suffix) if 0 < number < 100000 and 0 <= suffix < 100 else None


def normalise(text: str) -> str:
    """Drop letter-spacing between Chinese characters, collapse other whitespace."""
    return _SPACE_RE.sub(" ", _CJK_GAP_RE.sub("", text)).strip()


def parse_heading(raw: str) -> ParsedNode | None:
    """A heading line's text (without the #) → node, or None when it is empty."""
    text = _SPACE_RE.sub(" ", raw).strip()
    if not text:
        return None
    match = _STRUCTURE_RE.match(text)
    if match:
        numeral = _SPACE_RE.sub("", match.group(1))
        kind = _SPACE_RE.sub("", match.group(2))
        return ParsedNode(_STRUCTURE_LEVELS[kind], f"第{numeral}{kind}",
                          normalise(match.group(3)), None)
    return ParsedNode("heading", "", normalise(text), None)


def file_version(filename: str) -> tuple[str, date | None]:
    """`人民调解法(2010-08-28).md` → ("人民调解法", date(2010, 8, 28))."""
    stem = filename.rsplit("/", 1)[-1]
    stem = stem[:-3] if stem.endswith(".md") else stem
    match = _FILE_DATE_RE.search(stem)
    if not match:
        return stem.strip(), None
    try:
        version = date(*(int(g) for g in match.groups()))
    except ValueError:
        version = None
    return stem[:match.start()].strip(), version


def _date_in(line: str) -> date | None:
    match = _DATE_RE.search(line)
    if not match:
        return None
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def _split_header(lines: list[str]) -> tuple[list[str], list[str]]:
    """Header lines and body lines, split at INFO END (or after the title if it is missing)."""
    for i, line in enumerate(lines):
        if line.strip() == INFO_END:
            return lines[:i], lines[i + 1:]
    return lines[:1], lines[1:]


def parse_law(text: str, filename: str) -> ParsedLaw:
    """Parse the text of one corpus file; `filename` supplies the short title and version."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    header, body = _split_header(lines)
    if not header or not header[0].startswith("# ") or not normalise(header[0][2:]):
        raise ParseError("no title (the first line must be '# <title>')")
    short_title, version_date = file_version(filename)
    law = ParsedLaw(title=normalise(header[0][2:]), short_title=short_title,
                    version_date=version_date)
    _read_header(law, header[1:])
    if law.book:
        # 民法典/合同编.md: the file is named after the book, not the law.
        law.short_title = law.title.removeprefix("中华人民共和国") or law.title
    _read_body(law, body)
    return law


def _read_header(law: ParsedLaw, lines: list[str]) -> None:
    for line in lines:
        if line.startswith("#"):
            heading = normalise(line.lstrip("#"))
            if heading and law.book is None:
                law.book = heading
            continue
        line = line.strip()
        if line.endswith("）") and "（" not in line:
            line = line[:-1].rstrip()        # a stray closing bracket upstream
        if not line:
            continue
        law.history.append(line)
        if line.endswith("施行") and law.effective_date is None:
            law.effective_date = _date_in(line)
        if line.endswith(REPEAL_WORDS):
            law.repealed = True
    if any(word in law.title for word in ("（已废止）", "（失效）", "(已废止)", "(失效)")):
        law.repealed = True


def _read_body(law: ParsedLaw, lines: list[str]) -> None:
    stack: list[int] = []          # indexes of the open headings, outermost first
    current: tuple[str, int, list[str], int | None] | None = None

    def close_article():
        if current is not None:
            label, number, paragraphs, node, suffix = current
            law.articles.append(ParsedArticle(label, number, "\n".join(paragraphs), node,
                                              suffix))

    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            node = parse_heading(line.lstrip("#"))
            if node is None:
                continue          # the empty `##` of 民法典/附则.md
            close_article()
            current = None
            rank = _RANK[node.level]
            while stack and _RANK[law.nodes[stack[-1]].level] >= rank:
                stack.pop()
            node.parent = stack[-1] if stack else None
            law.nodes.append(node)
            stack.append(len(law.nodes) - 1)
            continue
        match = _ARTICLE_RE.match(line)
        if match:
            close_article()
            numeral, sub = match.group(1), match.group(2)
            rest = line[match.end():].strip()
            current = (f"第{numeral}条" + (f"之{sub}" if sub else ""), chinese_number(numeral),
                       [rest] if rest else [], stack[-1] if stack else None,
                       chinese_number(sub) if sub else 0)
        elif current is not None:
            current[2].append(line)
    close_article()
