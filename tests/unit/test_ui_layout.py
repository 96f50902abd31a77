"""The UI's layered layout: ranks follow the streams, nothing overlaps, crossings are few."""

from __future__ import annotations

import random

from attak_cdk.ui.layout import NODE_HEIGHT, Box, layered_layout


def _overlap(a: Box, b: Box) -> bool:
    return a.x < b.right and b.x < a.right and a.y < b.bottom and b.y < a.bottom


def fifty_processors() -> tuple[dict[str, float], list[tuple[str, str]]]:
    """A wide, deep topology: 5 entries, each processor fed by one to three earlier ones,
    some long streams that skip ranks, and two loops back."""
    chance = random.Random(6)
    names = [f"processor_{i:02d}" + ("_with_a_long_name" if i % 7 == 0 else "") for i in range(50)]
    widths = {name: 190.0 + (60.0 if "long" in name else 0.0) for name in names}
    edges = []
    for i, name in enumerate(names[5:], start=5):
        for source in chance.sample(names[: max(5, i - 3)], k=chance.randint(1, 3)):
            edges.append((source, name))
    edges += [(names[40], names[12]), (names[33], names[33])]
    return widths, edges


def test_a_chain_runs_left_to_right_on_one_line() -> None:
    layout = layered_layout({"a": 190, "b": 190, "c": 190}, [("a", "b"), ("b", "c")])
    a, b, c = (layout.boxes[n] for n in "abc")
    assert (a.rank, b.rank, c.rank) == (0, 1, 2)
    assert a.right < b.x and b.right < c.x
    assert a.y == b.y == c.y
    assert layout.routes[0].points == ((a.right, a.middle), (b.x, b.middle))


def test_rank_is_the_longest_path_from_an_entry() -> None:
    # a -> b -> c and a -> c: c goes after b, and a -> c passes rank 1 through a waypoint.
    layout = layered_layout(dict.fromkeys("abc", 190.0), [("a", "b"), ("b", "c"), ("a", "c")])
    assert [layout.boxes[n].rank for n in "abc"] == [0, 1, 2]
    long_edge = layout.routes[2]
    assert len(long_edge.points) == 3
    waypoint_y = long_edge.points[1][1]
    b = layout.boxes["b"]
    assert not (b.y <= waypoint_y <= b.bottom)  # routed beside b, not through it


def test_loops_are_drawn_back_and_self_loops_above() -> None:
    layout = layered_layout(
        dict.fromkeys("abc", 190.0), [("a", "b"), ("b", "c"), ("c", "b"), ("c", "c")]
    )
    forward, b_to_c, back, self_loop = layout.routes
    b, c = layout.boxes["b"], layout.boxes["c"]
    assert not forward.back and not b_to_c.back
    assert back.back  # from c's left side back to b's right side
    assert back.points[0][0] == c.x and back.points[-1][0] == b.right
    assert back.points[0][1] != b_to_c.points[-1][1]  # the two lines between b and c differ
    assert self_loop.self_loop and all(y <= layout.boxes["c"].y for _, y in self_loop.points)
    assert layout.boxes["b"].rank < layout.boxes["c"].rank


def test_edges_naming_unknown_nodes_are_left_out() -> None:
    layout = layered_layout({"a": 190.0}, [("a", "ghost")])
    assert set(layout.boxes) == {"a"} and layout.routes == ()


def test_fifty_processors_are_placed_without_overlapping() -> None:
    widths, edges = fifty_processors()
    layout = layered_layout(widths, edges)
    boxes = list(layout.boxes.values())
    assert len(boxes) == 50
    for i, a in enumerate(boxes):
        assert a.height == NODE_HEIGHT and a.width == widths[list(layout.boxes)[i]]
        assert a.x >= 0 and a.right <= layout.width and a.y >= 0 and a.bottom <= layout.height
        for b in boxes[i + 1 :]:
            assert not _overlap(a, b), (a, b)
    # Every stream runs forward (left to right) except the one that closes a loop.
    names = list(widths)
    for (source, target), route in zip(edges, layout.routes, strict=True):
        if source == target:
            assert route.self_loop
        elif (source, target) == (names[40], names[12]):
            assert route.back
        else:
            assert layout.boxes[source].rank < layout.boxes[target].rank
            assert route.points[0][0] == layout.boxes[source].right
            assert route.points[-1][0] == layout.boxes[target].x


def test_fifty_processors_waypoints_never_run_through_a_node() -> None:
    widths, edges = fifty_processors()
    layout = layered_layout(widths, edges)
    for route in layout.routes:
        for x, y in route.points[1:-1]:
            for box in layout.boxes.values():
                assert not (box.x <= x <= box.right and box.y <= y <= box.bottom)


def test_ordering_reduces_crossings() -> None:
    # Drawn in the given order, b1's and b2's streams cross; the sweeps swap them.
    widths = dict.fromkeys(["a1", "a2", "b1", "b2"], 190.0)
    layout = layered_layout(widths, [("a1", "b2"), ("a2", "b1")])
    boxes = layout.boxes
    assert (boxes["a1"].y < boxes["a2"].y) == (boxes["b2"].y < boxes["b1"].y)


def test_the_layout_is_the_same_every_time() -> None:
    widths, edges = fifty_processors()
    assert layered_layout(widths, edges) == layered_layout(widths, edges)
