"""A layered (left-to-right) layout of a directed graph, computed in Python for the UI.

The browser only draws what this module places, so the picture is the same on every
machine and a test can check it. The steps are the classic ones (Sugiyama's):

1. loops are broken by turning the edges that close them around (drawn back, dashed);
2. each node's rank (column) is its longest path from the entries;
3. an edge that spans several ranks gets a waypoint in each rank it crosses, so other
   nodes make room for it instead of being drawn over;
4. nodes are ordered within their rank by barycenter sweeps (the mean position of their
   neighbours), keeping the order with the fewest edge crossings;
5. rows are placed so that a node sits level with its neighbours where there is room.

It knows nothing of topologies: nodes are ids with a width, edges are pairs of ids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

NODE_HEIGHT = 52.0
ROW_GAP = 30.0
"""Vertical space between two nodes of a rank: room for a self-loop and an edge label."""
WAYPOINT_GAP = 14.0
"""Vertical space an edge passing through a rank takes."""
RANK_GAP = 150.0
"""Horizontal space between ranks: where edges bend and topic labels sit."""
MARGIN = 40.0
SWEEPS = 12


@dataclass(frozen=True)
class Box:
    """A placed node: its top-left corner, size, rank (column) and order in the rank."""

    x: float
    y: float
    width: float
    height: float
    rank: int
    order: int

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height

    @property
    def middle(self) -> float:
        return self.y + self.height / 2


@dataclass(frozen=True)
class Route:
    """A placed edge: the points its line goes through, from source to target."""

    points: tuple[tuple[float, float], ...]
    back: bool = False
    """The edge closes a loop and runs right to left."""
    self_loop: bool = False


@dataclass(frozen=True)
class Layout:
    """Where every node and edge goes, and the size of the whole drawing."""

    boxes: dict[str, Box]
    routes: tuple[Route, ...]
    width: float
    height: float


@dataclass
class _Slot:
    """A node or an edge waypoint in a rank while the layout is being computed."""

    id: str
    rank: int
    height: float
    width: float = 0.0
    up: list[str] = field(default_factory=list)
    """Neighbours in the rank before."""
    down: list[str] = field(default_factory=list)
    """Neighbours in the rank after."""
    y: float = 0.0


def layered_layout(widths: Mapping[str, float], edges: Sequence[tuple[str, str]]) -> Layout:
    """Place ``widths``' nodes (id -> width, in the order given) and route ``edges``.

    Edges naming an unknown node are ignored; an edge from a node to itself is a
    self-loop. The routes come back in the order of ``edges``.
    """
    nodes = list(widths)
    known = [(s, t) for s, t in edges if s in widths and t in widths]
    back = _loop_closing_edges(nodes, [(s, t) for s, t in known if s != t])
    forward = [(t, s) if (s, t) in back else (s, t) for s, t in known if s != t]
    ranks = _longest_path_ranks(nodes, forward)

    slots = {n: _Slot(n, ranks[n], NODE_HEIGHT, widths[n]) for n in nodes}
    chains: dict[tuple[str, str], list[str]] = {}
    for source, target in dict.fromkeys(forward):
        chain = [source]
        for rank in range(ranks[source] + 1, ranks[target]):
            waypoint = f"\0{source}\0{target}\0{rank}"
            slots[waypoint] = _Slot(waypoint, rank, 0.0)
            chain.append(waypoint)
        chain.append(target)
        for upper, lower in pairwise(chain):
            slots[upper].down.append(lower)
            slots[lower].up.append(upper)
        chains[(source, target)] = chain

    columns = _order(slots, max(ranks.values(), default=-1) + 1)
    _place_rows(slots, columns)
    xs = _column_x(slots, columns)
    top = min((s.y - s.height / 2 for s in slots.values()), default=0.0)
    shift = MARGIN - top
    boxes = {
        n: Box(
            xs[slots[n].rank],
            slots[n].y - NODE_HEIGHT / 2 + shift,
            widths[n],
            NODE_HEIGHT,
            slots[n].rank,
            columns[slots[n].rank].index(n),
        )
        for n in nodes
    }
    centre = {
        rank: xs[rank] + max((slots[i].width for i in column), default=0.0) / 2
        for rank, column in enumerate(columns)
    }
    routes = _routes(known, back, chains, boxes, slots, centre, shift)
    width = max((b.right for b in boxes.values()), default=0.0) + MARGIN
    height = max((b.bottom for b in boxes.values()), default=0.0) + MARGIN
    return Layout(boxes, tuple(routes), width, height)


def _loop_closing_edges(nodes: list[str], edges: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """The edges a depth-first walk meets going back to a node it is still inside of.

    Turning exactly these around leaves a graph without loops. The walk starts at nodes
    with no incoming edge (the entries), in the order given, so the edges marked are the
    ones that feed back, as a reader would call them.
    """
    successors: dict[str, list[str]] = {n: [] for n in nodes}
    has_input = set()
    for source, target in edges:
        successors[source].append(target)
        has_input.add(target)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    closing: set[tuple[str, str]] = set()
    starts = [n for n in nodes if n not in has_input] + nodes
    for start in starts:
        if start in state:
            continue
        # An explicit stack: a 1,000-processor chain must not hit Python's recursion limit.
        stack = [(start, iter(successors[start]))]
        state[start] = 1
        while stack:
            node, pending = stack[-1]
            nxt = next(pending, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                closing.add((node, nxt))
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(successors[nxt])))
    return closing


def _longest_path_ranks(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Rank of each node: the longest path to it from a node with no incoming edge."""
    successors: dict[str, list[str]] = {n: [] for n in nodes}
    waiting = dict.fromkeys(nodes, 0)
    for source, target in edges:
        successors[source].append(target)
        waiting[target] += 1
    rank = dict.fromkeys(nodes, 0)
    ready = [n for n in nodes if waiting[n] == 0]
    while ready:
        node = ready.pop(0)
        for nxt in successors[node]:
            rank[nxt] = max(rank[nxt], rank[node] + 1)
            waiting[nxt] -= 1
            if waiting[nxt] == 0:
                ready.append(nxt)
    return rank


def _order(slots: dict[str, _Slot], count: int) -> list[list[str]]:
    """Each rank's slots, ordered to cross as few edges as the sweeps can find."""
    columns: list[list[str]] = [[] for _ in range(count)]
    for slot in slots.values():  # insertion order: the user's order, waypoints after
        columns[slot.rank].append(slot.id)
    best = [list(c) for c in columns]
    fewest = _crossings(slots, columns)
    for sweep in range(SWEEPS):
        downward = sweep % 2 == 0
        ranks = range(1, count) if downward else range(count - 2, -1, -1)
        for rank in ranks:
            neighbour = columns[rank - 1] if downward else columns[rank + 1]
            position = {n: i for i, n in enumerate(neighbour)}
            barycenter = {}
            for here, node in enumerate(columns[rank]):
                links = slots[node].up if downward else slots[node].down
                # With nothing to follow, a node stays where it is.
                barycenter[node] = (
                    sum(position[n] for n in links) / len(links) if links else float(here)
                )
            columns[rank].sort(key=barycenter.__getitem__)  # stable: ties keep their order
        found = _crossings(slots, columns)
        if found < fewest:
            fewest, best = found, [list(c) for c in columns]
    return best


def _crossings(slots: dict[str, _Slot], columns: list[list[str]]) -> int:
    """How many pairs of edges cross between neighbouring ranks."""
    total = 0
    for upper, lower in pairwise(columns):
        position = {n: i for i, n in enumerate(lower)}
        pairs = sorted(
            (i, position[d]) for i, n in enumerate(upper) for d in slots[n].down if d in position
        )
        # Two edges cross when their ends are in opposite orders on the two ranks.
        for a, (top_a, bottom_a) in enumerate(pairs):
            for top_b, bottom_b in pairs[a + 1 :]:
                if top_b > top_a and bottom_b < bottom_a:
                    total += 1
    return total


def _gap(a: _Slot, b: _Slot) -> float:
    """The least distance between the centres of two neighbours in a rank."""
    space = ROW_GAP if a.height and b.height else WAYPOINT_GAP
    return (a.height + b.height) / 2 + space


def _place_rows(slots: dict[str, _Slot], columns: list[list[str]]) -> None:
    """Give every slot its vertical centre: stacked in order, then drawn toward the mean
    of its neighbours in the ranks around it, never closer to the next one than its gap."""
    for column in columns:
        y = 0.0
        for i, node in enumerate(column):
            if i:
                y += _gap(slots[column[i - 1]], slots[node])
            slots[node].y = y
        offset = y / 2  # centre every rank on the same line to start with
        for node in column:
            slots[node].y -= offset
    for sweep in range(SWEEPS):
        downward = sweep % 2 == 0
        for column in columns if downward else reversed(columns):
            wanted = []
            for node in column:
                links = slots[node].up + slots[node].down
                here = slots[node].y
                wanted.append(sum(slots[n].y for n in links) / len(links) if links else here)
            _settle(slots, column, wanted)


def _settle(slots: dict[str, _Slot], column: list[str], wanted: list[float]) -> None:
    """Move a rank's slots as near to ``wanted`` as their order and gaps allow.

    Pushing down from the top and then up from the bottom, and taking the mean of the
    two, keeps a crowded rank centred on where its nodes want to be.
    """
    down = list(wanted)
    for i in range(1, len(column)):
        down[i] = max(down[i], down[i - 1] + _gap(slots[column[i - 1]], slots[column[i]]))
    up = list(wanted)
    for i in range(len(column) - 2, -1, -1):
        up[i] = min(up[i], up[i + 1] - _gap(slots[column[i]], slots[column[i + 1]]))
    placed = [(a + b) / 2 for a, b in zip(down, up, strict=True)]
    # The mean of two orders that each keep the gaps keeps them too; no further check.
    for node, y in zip(column, placed, strict=True):
        slots[node].y = y


def _column_x(slots: dict[str, _Slot], columns: list[list[str]]) -> list[float]:
    """The left edge of each rank: as wide as its widest node, then the rank gap."""
    xs = []
    x = MARGIN
    for column in columns:
        xs.append(x)
        x += max((slots[n].width for n in column), default=0.0) + RANK_GAP
    return xs


def _routes(
    edges: list[tuple[str, str]],
    back: set[tuple[str, str]],
    chains: dict[tuple[str, str], list[str]],
    boxes: dict[str, Box],
    slots: dict[str, _Slot],
    centre: dict[int, float],
    shift: float,
) -> list[Route]:
    """The points of every edge: out of the source's right side, through its waypoints,
    into the target's left side; spread along the sides when several edges share one."""
    ports = _ports(edges, back, boxes)
    routes = []
    for index, (source, target) in enumerate(edges):
        if source == target:
            box = boxes[source]
            lift = box.y - ROW_GAP * 0.7
            points = (
                (box.x + box.width * 0.7, box.y),
                (box.x + box.width * 0.7, lift),
                (box.x + box.width * 0.3, lift),
                (box.x + box.width * 0.3, box.y),
            )
            routes.append(Route(points, self_loop=True))
            continue
        is_back = (source, target) in back
        chain = chains[(target, source) if is_back else (source, target)]
        middle = [(centre[slots[w].rank], slots[w].y + shift) for w in chain[1:-1]]
        start, end = ports[(index, True)], ports[(index, False)]
        if is_back:
            middle.reverse()
        routes.append(Route((start, *middle, end), back=is_back))
    return routes


def _ports(
    edges: list[tuple[str, str]], back: set[tuple[str, str]], boxes: dict[str, Box]
) -> dict[tuple[int, bool], tuple[float, float]]:
    """Where each edge leaves its source (``(index, True)``) and enters its target
    (``(index, False)``): spread evenly down the node's side, in the order of the nodes at
    the other end, so edges sharing a side (two topics, a loop back) never lie on top of
    each other. Forward edges leave on the right and enter on the left; an edge closing a
    loop runs backwards, so it does the opposite."""
    sides: dict[tuple[str, bool], list[tuple[float, int, bool]]] = {}
    for index, (source, target) in enumerate(edges):
        if source == target:
            continue
        is_back = (source, target) in back
        for leaving, node, other in ((True, source, target), (False, target, source)):
            right = leaving != is_back
            sides.setdefault((node, right), []).append((boxes[other].middle, index, leaving))
    ports: dict[tuple[int, bool], tuple[float, float]] = {}
    for (node, right), ends in sides.items():
        box = boxes[node]
        ends.sort()
        step = box.height / (len(ends) + 1)
        for i, (_, index, leaving) in enumerate(ends, start=1):
            ports[(index, leaving)] = (box.right if right else box.x, box.y + step * i)
    return ports
