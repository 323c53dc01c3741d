"""Fonts and the PDF engine for printed documents.

Where the time and the bytes go: WeasyPrint subsets every embedded font on every render and
keeps every glyph id up to the highest one used. Noto Serif CJK SC holds 65,535 glyphs, and
through its layout tables a subset pulls in thousands of vertical and variant forms, so a
few hundred characters cost ~130 KB of metrics and offsets per face; with fontTools (when
HarfBuzz-subset is missing) the subsetting itself takes seconds. So we build once, under
instance/fonts/ and in about two seconds with HarfBuzz, faces cut from the installed system
font without layout or vertical tables:
- the common face: GB 2312 (6,763 hanzi) plus punctuation, Latin and full-width forms;
- the bold face: only the templates' own characters (bold is used for titles and labels);
- fallback faces of 512 code points each for every other character of the system face
  (rare characters in names: 𠮷 堃 喆 昇 …), registered only when a document needs them.
The FontConfiguration, the stylesheets and the loaded faces are kept for the process.
"""
from __future__ import annotations

import atexit
import ctypes
import hashlib
import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

log = logging.getLogger(__name__)

SYSTEM_FACES = {
    "regular": ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    "bold": ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc", 2),
}
SYSTEM_FAMILY = "Noto Serif CJK SC"
FAMILY = "Concord Serif"
RARE_FAMILY = "ConcordRare"  # one word: Pango would read a trailing number as a size
SUBSET_VERSION = 4  # bump when the character set changes: the cached faces are rebuilt


def common_characters() -> list[int]:
    """Code points kept in the built face: ASCII, Latin-1, general punctuation, CJK symbols,
    enclosed numerals, full-width forms and the 6,763 hanzi of GB 2312."""
    points = set(range(0x20, 0x7F)) | set(range(0xA0, 0x180))
    for start, end in ((0x2000, 0x2070), (0x2100, 0x2200), (0x2460, 0x2500),
                       (0x3000, 0x3040), (0xFE30, 0xFE50), (0xFF00, 0xFFF0)):
        points |= set(range(start, end))
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                points.add(ord(bytes((high, low)).decode("gb2312")))
            except UnicodeDecodeError:
                pass
    return sorted(points)


# --- building the face ---------------------------------------------------------------------

def _harfbuzz():
    """libharfbuzz-subset through ctypes (the library WeasyPrint itself loads); None if absent."""
    try:
        hb = ctypes.CDLL("libharfbuzz-subset.so.0")
    except OSError:
        return None
    p, u = ctypes.c_void_p, ctypes.c_uint
    for name, res, args in (
            ("hb_blob_create_from_file", p, [ctypes.c_char_p]),
            ("hb_face_create", p, [p, u]),
            ("hb_subset_input_create_or_fail", p, []),
            ("hb_subset_input_unicode_set", p, [p]),
            ("hb_subset_input_set", p, [p, u]),
            ("hb_tag_from_string", ctypes.c_uint32, [ctypes.c_char_p, ctypes.c_int]),
            ("hb_set_add", None, [p, ctypes.c_uint32]),
            ("hb_subset_input_set_flags", None, [p, u]),
            ("hb_subset_or_fail", p, [p, p]),
            ("hb_face_reference_blob", p, [p]),
            ("hb_blob_get_data", ctypes.POINTER(ctypes.c_char), [p, ctypes.POINTER(u)]),
            ("hb_blob_destroy", None, [p]), ("hb_face_destroy", None, [p]),
            ("hb_subset_input_destroy", None, [p])):
        func = getattr(hb, name)
        func.restype, func.argtypes = res, args
    return hb


def _subset_with_harfbuzz(source: str, index: int, points: list[int]) -> bytes | None:
    hb = _harfbuzz()
    if hb is None:
        return None
    blob = hb.hb_blob_create_from_file(source.encode())
    face = hb.hb_face_create(blob, index)
    subset_input = hb.hb_subset_input_create_or_fail()
    try:
        unicodes = hb.hb_subset_input_unicode_set(subset_input)
        for point in points:
            hb.hb_set_add(unicodes, point)
        # Without the layout tables the glyph closure stays the characters asked for (GSUB
        # would pull in ~5,000 vertical and variant forms) and no vertical metrics are kept.
        dropped = hb.hb_subset_input_set(subset_input, 3)  # HB_SUBSET_SETS_DROP_TABLE_TAG
        for tag in DROPPED_TABLES:
            hb.hb_set_add(dropped, hb.hb_tag_from_string(tag, 4))
        hb.hb_subset_input_set_flags(subset_input, 0x1)  # NO_HINTING
        result = hb.hb_subset_or_fail(face, subset_input)
        if not result:
            return None
        out = hb.hb_face_reference_blob(result)
        length = ctypes.c_uint()
        data = hb.hb_blob_get_data(out, ctypes.byref(length))
        content = ctypes.string_at(data, length.value)
        hb.hb_blob_destroy(out)
        hb.hb_face_destroy(result)
        return content or None
    finally:
        hb.hb_subset_input_destroy(subset_input)
        hb.hb_face_destroy(face)
        hb.hb_blob_destroy(blob)


DROPPED_TABLES = (b"GSUB", b"GPOS", b"BASE", b"vhea", b"vmtx", b"VORG", b"DSIG")


def _subset_with_fonttools(source: str, index: int, points: list[int]) -> bytes:
    import io

    from fontTools import subset
    from fontTools.ttLib import TTFont
    options = subset.Options(hinting=False, notdef_outline=True, name_IDs=["*"])
    options.drop_tables += [tag.decode().strip() for tag in DROPPED_TABLES]
    options.layout_features = []
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=points)
    out = io.BytesIO()
    with TTFont(source, fontNumber=index) as font:
        subsetter.subset(font)
        font.save(out)
    return out.getvalue()


def build_face(source: str, index: int, points: list[int], target: Path) -> Path:
    """Write the subset of a system face holding `points` to `target` (atomically)."""
    content = _subset_with_harfbuzz(source, index, points)
    if content is None:
        log.info("building %s with fontTools (slow)", target.name)
        content = _subset_with_fonttools(source, index, points)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_suffix(f".{os.getpid()}.tmp")
    scratch.write_bytes(content)
    os.replace(scratch, target)
    return target


RARE_BUCKET = 512  # glyphs per fallback face: WeasyPrint keeps every glyph id up to the
# highest one used, so a rare character must sit in a small face to cost only a few kilobytes

_build_lock = threading.Lock()


@dataclass(frozen=True)
class RareFace:
    """A fallback face holding the code points first..last of the system face."""

    path: Path
    first: int
    last: int

    @property
    def family(self) -> str:
        return f"{RARE_FAMILY}{self.first:05X}"


@dataclass(frozen=True)
class Faces:
    """The built faces: the common regular and bold faces and the fallback faces."""

    regular: Path | None
    bold: Path | None
    rare: tuple[RareFace, ...]

    def base_css(self) -> str:
        """@font-face rules of the common faces."""
        return "\n".join(face_rule(path, FAMILY, weight)
                         for path, weight in ((self.regular, 400), (self.bold, 700)) if path)

    def rare_for(self, text: str) -> list[RareFace]:
        """The fallback faces `text` needs (few documents need any)."""
        common = _common_set()
        points = {ord(char) for char in text if ord(char) >= 0x2000} - common
        return [face for face in self.rare
                if any(face.first <= point <= face.last for point in points)]


def face_rule(path: Path, family: str, weight: int = 400) -> str:
    return (f"@font-face {{ font-family: '{family}'; font-weight: {weight}; "
            f"src: url('{path.resolve().as_uri()}'); }}")


def font_stack(rare: list[RareFace]) -> str:
    families = [FAMILY, *(face.family for face in rare), SYSTEM_FAMILY]
    stack = ", ".join(f"'{family}'" for family in families) + ", serif"
    return f"html, body {{ font-family: {stack}; }}\n@page {{ font-family: {stack}; }}"


_COMMON: set[int] = set()


def _common_set() -> set[int]:
    if not _COMMON:
        _COMMON.update(common_characters())
    return _COMMON


def bold_characters(bold_text: str) -> list[int]:
    """Bold is used only for the templates' own words (title, headings, labels) and codes:
    the bold face holds those characters, ASCII and punctuation, so it stays tiny."""
    points = set(range(0x20, 0x7F)) | set(range(0x3000, 0x3020)) | set(range(0xFF01, 0xFF5F))
    points |= {ord(char) for char in bold_text if ord(char) >= 0x2000}
    points |= {ord(char) for char in "零一二三四五六七八九十百千万"}
    return sorted(points)


def ensure_faces(directory: Path, bold_text: str = "") -> Faces:
    """The built faces, building what is missing (about two seconds with HarfBuzz); without
    the system font the faces are absent and the system fallback renders everything.
    `bold_text`: the text the documents may set in bold (their templates)."""
    directory = directory / f"v{SUBSET_VERSION}"
    bold_points = bold_characters(bold_text)
    bold_key = hashlib.sha256(repr(bold_points).encode()).hexdigest()[:10]
    with _build_lock:
        built = {}
        for weight, (source, index) in SYSTEM_FACES.items():
            if weight == "bold":
                target, points = directory / f"concord-serif-bold-{bold_key}.otf", bold_points
            else:
                target, points = directory / "concord-serif-regular.otf", common_characters()
            if not target.exists() and os.path.exists(source):
                build_face(source, index, points, target)
            built[weight] = target if target.exists() else None
        marker = directory / "rare.done"
        source, index = SYSTEM_FACES["regular"]
        if not marker.exists() and os.path.exists(source):
            for points in _rare_buckets(source, index):
                build_face(source, index, points, directory /
                           f"concord-rare-{points[0]:05X}-{points[-1]:05X}.otf")
            marker.write_text("ok\n")
        rare = tuple(sorted(
            (RareFace(path, int(path.stem.split("-")[2], 16), int(path.stem.split("-")[3], 16))
             for path in directory.glob("concord-rare-*-*.otf")), key=lambda face: face.first))
    return Faces(built["regular"], built["bold"], rare)


def _rare_buckets(source: str, index: int) -> list[list[int]]:
    """The face's other code points, in order, cut into buckets of RARE_BUCKET."""
    from fontTools.ttLib import TTFont
    common = set(common_characters())
    with TTFont(source, fontNumber=index, lazy=True) as font:     # closes the file
        mapped = font.getBestCmap()
    rest = sorted(point for point in mapped if point not in common)
    return [rest[i:i + RARE_BUCKET] for i in range(0, len(rest), RARE_BUCKET)]


# --- the engine ----------------------------------------------------------------------------

@dataclass(frozen=True)
class RenderedPdf:
    content: bytes
    pages: int


def _close_colour_profiles() -> None:
    """WeasyPrint opens its sRGB profile for every PDF/A and never closes the file (a
    ResourceWarning each render): read it once from memory instead."""
    import io

    import weasyprint.pdf as weasy_pdf
    from weasyprint.css import ColorProfile
    if getattr(weasy_pdf.ColorProfile, "closes_files", False):
        return
    cache: dict[str, bytes] = {}

    class ClosingColorProfile(ColorProfile):
        closes_files = True

        def __init__(self, file_object, src, *args):
            if src not in cache:
                with file_object:
                    cache[src] = file_object.read()
            else:
                file_object.close()
            super().__init__(io.BytesIO(cache[src]), src, *args)

    weasy_pdf.ColorProfile = ClosingColorProfile


class PdfEngine:
    """WeasyPrint with the fonts loaded once; `render` is safe to call from several threads."""

    def __init__(self, font_dir: Path, bold_text: str = ""):
        from weasyprint import CSS
        from weasyprint.urls import URLFetcher
        from weasyprint.text.fonts import FontConfiguration
        _close_colour_profiles()
        self.font_config = FontConfiguration()
        self.faces = ensure_faces(font_dir, bold_text)
        self.stylesheet = CSS(string=self.faces.base_css(), font_config=self.font_config)
        self._stacks: dict[tuple[str, ...], object] = {}
        # documents load only the built fonts and inline data: never the network
        self.fetcher = URLFetcher(allowed_protocols=("file", "data"), fail_on_errors=True)
        self._lock = threading.Lock()

    def render(self, html: str, *, created: datetime, base_url: str | None = None) -> RenderedPdf:
        """A PDF/A-3b of `html`; the same html and `created` give the same bytes."""
        from weasyprint import HTML
        stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
        with self._lock:  # fontconfig and Pango caches are not thread-safe
            stack = self._stack(self.faces.rare_for(html))
            document = HTML(string=html, base_url=base_url, url_fetcher=self.fetcher).render(
                stylesheets=[self.stylesheet, stack], font_config=self.font_config,
                pdf_variant="pdf/a-3b", pdf_identifier=False)
            document.metadata.created = stamp
            document.metadata.modified = stamp
            content = document.write_pdf(pdf_variant="pdf/a-3b", pdf_identifier=False)
        return RenderedPdf(content, len(document.pages))


    def _stack(self, rare: list[RareFace]):
        """The font stack for a document, registering its fallback faces on first use (only
        documents with characters outside GB 2312 load any)."""
        from weasyprint import CSS
        key = tuple(face.family for face in rare)
        if key not in self._stacks:
            rules = "\n".join(face_rule(face.path, face.family) for face in rare)
            self._stacks[key] = CSS(string=rules + "\n" + font_stack(rare),
                                    font_config=self.font_config)
        return self._stacks[key]


_engines: dict[str, PdfEngine] = {}
_engines_lock = threading.Lock()
# Let WeasyPrint release its fontconfig objects while the interpreter can still run them
atexit.register(_engines.clear)


def engine(font_dir: Path, bold_text: str = "") -> PdfEngine:
    """The process-wide engine for a font directory."""
    key = str(font_dir)
    with _engines_lock:
        if key not in _engines:
            _engines[key] = PdfEngine(font_dir, bold_text)
        return _engines[key]
