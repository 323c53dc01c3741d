"""The lifecycle picture on the case page: an inline SVG of workflows.TRANSITION_TABLE.

States sit at fixed, hand-chosen places (the main road runs left to right, pauses and exits
above and below it); edges are drawn from the table, so a new transition shows up by itself.
The current state is filled, the moves open from it are emphasised, final states are grey.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable

from markupsafe import Markup, escape

from workflows import STATES, TERMINAL_STATES, TRANSITION_TABLE, TRIGGERS

WIDTH, HEIGHT = 1080, 305
BOX_W, BOX_H = 140, 44
ROW_A, ROW_B, ROW_C = 50, 150, 252
COLUMNS = (90, 270, 450, 630, 810, 990)

POSITIONS: dict[str, tuple[int, int]] = {
    "registered": (COLUMNS[0], ROW_B),
    "matching": (COLUMNS[1], ROW_B),
    "mediating": (COLUMNS[2], ROW_B),
    "agreed": (COLUMNS[3], ROW_B),
    "confirming": (COLUMNS[4], ROW_B),
    "confirmed": (COLUMNS[5], ROW_B),
    "withdrawn": (COLUMNS[1], ROW_A),
    "suspended": (COLUMNS[2], ROW_A),
    "declined": (COLUMNS[0], ROW_C),
    "terminated": (COLUMNS[2], ROW_C),
    "referred": (COLUMNS[3], ROW_C),
    "closed": (COLUMNS[5], ROW_C),
}

# Sideways pull of an edge's midpoint, in pixels (positive: to the left of its direction),
# chosen by hand so that no edge runs through a box. Edges with a reverse edge bend apart.
BENDS: dict[tuple[str, str], float] = {
    ("suspended", "terminated"): -190,
    ("terminated", "closed"): 70,
    ("confirming", "mediating"): 80,
    ("agreed", "closed"): 20,
}
PAIR_BEND = 20
# Self-loops (a transition back into the same state): the side of the box and an offset.
LOOPS: dict[str, tuple[str, int]] = {"registered": ("top", 0), "mediating": ("bottom", -32)}


def lifecycle_svg(current: str, translate: Callable[[str], str] = str) -> Markup:
    """The lifecycle as inline SVG markup, `current` marked; labels go through `translate`."""
    edges = EDGES
    open_targets = {dest for (source, dest) in edges if source == current}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(translate(STATES.get(current, current)))}">',
        _MARKERS,
    ]
    for (source, dest), triggers in edges.items():
        title = ", ".join(translate(TRIGGERS[t]) for t in triggers)
        parts.append(_edge(source, dest, title, emphasised=source == current))
    for state in POSITIONS:
        parts.append(_node(state, translate(STATES[state]), current, open_targets))
    parts.append("</svg>")
    return Markup("\n".join(parts))


def _edges() -> dict[tuple[str, str], list[str]]:
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for trigger, sources, dest in TRANSITION_TABLE:
        for source in sources:
            edges[(source, dest)].append(trigger)
    return edges


EDGES = _edges()

_ARROW = ('<marker id="{id}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="{size}" '
          'markerHeight="{size}" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
          '<path d="M0,0 L10,5 L0,10 z" class="{css}"/></marker>')
_MARKERS = ("<defs>" + _ARROW.format(id="lc-arrow", size=8, css="lc-head")
            + _ARROW.format(id="lc-arrow-open", size=10, css="lc-head-open") + "</defs>")


def _edge(source: str, dest: str, title: str, emphasised: bool) -> str:
    css = "edge open" if emphasised else "edge"
    marker = "lc-arrow-open" if emphasised else "lc-arrow"
    path = _loop_path(source) if source == dest else _curve_path(source, dest)
    return (f'<path class="{css}" d="{path}" marker-end="url(#{marker})">'
            f'<title>{escape(title)}</title></path>')


def _curve_path(source: str, dest: str) -> str:
    (x1, y1), (x2, y2) = POSITIONS[source], POSITIONS[dest]
    bend = BENDS.get((source, dest))
    if bend is None:
        bend = PAIR_BEND if (dest, source) in EDGES else 0
    length = math.hypot(x2 - x1, y2 - y1)
    nx, ny = (y1 - y2) / length, (x2 - x1) / length  # unit normal, left of the direction
    cx, cy = (x1 + x2) / 2 + nx * bend, (y1 + y2) / 2 + ny * bend
    sx, sy = _box_exit(x1, y1, cx, cy)
    ex, ey = _box_exit(x2, y2, cx, cy, margin=2)
    return f"M{sx:.1f},{sy:.1f} Q{cx:.1f},{cy:.1f} {ex:.1f},{ey:.1f}"


def _box_exit(x: float, y: float, tx: float, ty: float, margin: float = 0) -> tuple[float, float]:
    """Where the ray from a box's centre (x, y) towards (tx, ty) leaves the box."""
    dx, dy = tx - x, ty - y
    half_w, half_h = BOX_W / 2 + margin, BOX_H / 2 + margin
    scale = min(half_w / abs(dx) if dx else math.inf, half_h / abs(dy) if dy else math.inf)
    return x + dx * scale, y + dy * scale


def _loop_path(state: str) -> str:
    side, offset = LOOPS.get(state, ("top", 0))
    x, y = POSITIONS[state]
    sign = -1 if side == "top" else 1
    edge_y = y + sign * BOX_H / 2
    x1, x2, reach = x + offset - 14, x + offset + 14, edge_y + sign * 34
    return (f"M{x1},{edge_y} C{x1 - 16},{reach} {x2 + 16},{reach} "
            f"{x2},{edge_y + sign * 2}")


def _node(state: str, text: str, current: str, open_targets: set[str]) -> str:
    x, y = POSITIONS[state]
    classes = ["node"]
    if state == current:
        classes.append("current")
    elif state in open_targets:
        classes.append("next")
    if state in TERMINAL_STATES:
        classes.append("terminal")
    lines = _wrap(text)
    first_y = y - (len(lines) - 1) * 8 + 4.5
    spans = "".join(f'<tspan x="{x}" y="{first_y + i * 16:.1f}">{escape(line)}</tspan>'
                    for i, line in enumerate(lines))
    current_attr = ' aria-current="step"' if state == current else ""
    return (f'<g class="{" ".join(classes)}" data-state="{state}"{current_attr}>'
            f'<title>{escape(text)}</title>'
            f'<rect x="{x - BOX_W / 2}" y="{y - BOX_H / 2}" width="{BOX_W}" height="{BOX_H}" '
            f'rx="{BOX_H / 2 if state in TERMINAL_STATES else 6}"/>'
            f'<text text-anchor="middle">{spans}</text></g>')


def _text_width(text: str) -> float:
    """A rough width in pixels at 13px: CJK characters are square, Latin ones about half."""
    return sum(13 if ord(ch) > 0x2E80 else 7 for ch in text)


def _wrap(text: str, limit: float = BOX_W - 14) -> list[str]:
    """Split a label into at most two lines that fit the box."""
    if _text_width(text) <= limit:
        return [text]
    words = text.split(" ") if " " in text else list(text)
    joiner = " " if " " in text else ""
    for cut in range(len(words) - 1, 0, -1):
        head = joiner.join(words[:cut])
        if _text_width(head) <= limit:
            return [head, joiner.join(words[cut:])]
    return [text]
