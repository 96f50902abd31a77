"""Routing, entries, reachability, cycles and naming, all derived in graph.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

from attak_cdk import graph
from attak_cdk.model import Processor, Stream, Topology
from attak_cdk.runtime.context import Routes


def topology(streams: list[tuple[str, str, str | None]], names: str = "a b c") -> Topology:
    processors = {n: Processor(n, Path(f"{n}.py"), where=f"processors.{n}") for n in names.split()}
    return Topology("t", processors, tuple(Stream(s, t, topic) for s, t, topic in streams))


def test_pascal_and_construct_ids_are_stable_and_readable() -> None:
    assert graph.pascal("hello_world spout") == "HelloWorldSpout"
    assert graph.function_id("reverse") == "ReverseFunction"
    stream = Stream("hello_world_spout", "reverse", "reversed strings")
    assert graph.stream_id(stream) == "HelloWorldSpoutToReverseReversedStringsStream"
    assert graph.stream_id(Stream("a", "b")) == "AToBStream"
    assert graph.ingest_stream_id("reverse") == "ReverseInputStream"


def test_routes_keep_stream_order_and_topics() -> None:
    t = topology([("a", "b", None), ("a", "c", "x"), ("b", "c", None)])
    routes = graph.routes(t)
    assert routes["a"] == (
        graph.Route("a->b", None, "b"),
        graph.Route("a->c[x]", "x", "c"),
    )
    assert routes["c"] == ()


def test_routes_payload_feeds_the_runtime_routes() -> None:
    t = topology([("a", "b", None), ("a", "c", "x")])
    payload = graph.routes_payload(graph.routes(t)["a"], {"a->b": "StreamAB"})
    assert json.loads(payload) == [
        {"stream": "StreamAB", "topic": None, "to": "b"},
        {"stream": "a->c[x]", "topic": "x", "to": "c"},
    ]
    routes = Routes.from_json(payload)
    assert routes.streams_for("x") == ("StreamAB", "a->c[x]")  # untopiced stream takes all
    assert routes.streams_for("other") == ("StreamAB",)


def test_physical_stream_names_join_topology_and_construct_id_within_kinesis_rules() -> None:
    assert graph.physical_stream_name("attak-example", "AToBStream") == "attak-example-AToBStream"
    long_id = "A" * 300
    name = graph.physical_stream_name("t" * 128, long_id)
    assert len(name) == graph.MAX_STREAM_NAME
    assert re.fullmatch(r"[a-zA-Z0-9_.-]+", name)
    # Cut names that share their first 119 characters still differ: the hash is of the whole.
    other = graph.physical_stream_name("t" * 128, long_id + "B")
    assert other != name and other[:119] == name[:119]
    assert graph.physical_stream_name("t" * 128, long_id) == name  # stable between runs


def test_runtime_routes_name_the_streams_in_aws_and_the_retries_of_what_is_read() -> None:
    t = topology([("a", "b", None), ("a", "c", "x"), ("b", "c", None)])
    processors = dict(t.processors)
    processors["c"] = Processor("c", Path("c.py"), input="stream")
    resolved = graph.resolve(Topology("t", processors, t.streams))
    assert json.loads(resolved.runtime_routes("a")) == {
        "routes": [
            {"stream": "t-AToBStream", "topic": None, "to": "b"},
            {"stream": "t-AToCXStream", "topic": "x", "to": "c"},
        ],
        "retries": {},
    }
    document = json.loads(resolved.runtime_routes("c"))
    assert document["routes"] == []
    assert document["retries"] == {"t-AToCXStream": 10, "t-BToCStream": 10, "t-CInputStream": 10}


def test_entries_are_processors_without_input_or_with_an_ingest_stream() -> None:
    t = topology([("a", "b", None), ("b", "c", None)])
    assert graph.entries(t) == ["a"]
    processors = dict(t.processors)
    processors["b"] = Processor("b", Path("b.py"), input="stream")
    assert graph.entries(Topology("t", processors, t.streams)) == ["a", "b"]


def test_reachable_follows_streams_from_entries() -> None:
    t = topology([("a", "b", None), ("c", "c", None)])
    assert graph.reachable(t) == {"a", "b"}


def test_cycles_are_found_once_each() -> None:
    t = topology([("a", "b", None), ("b", "a", None), ("c", "c", None), ("b", "c", None)])
    assert graph.cycles(t) == [["a", "b"], ["c"]]


def test_stream_targets_include_ingest_streams() -> None:
    processors = {
        "a": Processor("a", Path("a.py"), input="stream"),
        "b": Processor("b", Path("b.py")),
    }
    t = Topology("t", processors, (Stream("a", "b"),))
    assert graph.stream_targets(t) == {"a->b": "b", "input->a": "a"}


def test_resolve_lists_every_stream_once_ingest_streams_last() -> None:
    t = topology([("a", "b", None), ("a", "c", "x")])
    c = Processor("c", Path("c.py"), input="stream", where="processors.c.handler")
    t = Topology("t", {**t.processors, "c": c}, t.streams)
    resolved = graph.resolve(t)
    assert list(resolved.streams) == ["a->b", "a->c[x]", "input->c"]
    ingest = resolved.streams["input->c"]
    assert (ingest.producer, ingest.consumer, ingest.ingest) == (None, "c", True)
    assert ingest.construct_id == "CInputStream"
    assert ingest.where == "processors.c.input"
    assert ingest.settings == t.ingest_settings
    topic = resolved.streams["a->c[x]"]
    assert (topic.producer, topic.consumer, topic.topic, topic.ingest) == ("a", "c", "x", False)
    assert topic.construct_id == "AToCXStream"


def test_resolved_processors_know_their_routes_inputs_and_role() -> None:
    t = topology([("a", "b", None), ("a", "c", "x"), ("b", "c", None)])
    c = Processor("c", Path("c.py"), input="stream")
    t = Topology("t", {**t.processors, "c": c}, t.streams)
    resolved = graph.resolve(t)
    a, b, c_ = (resolved.processors[n] for n in "abc")
    assert a.writes == ("a->b", "a->c[x]") and a.routes == graph.routes(t)["a"]
    assert [s.name for s in c_.inputs] == ["a->c[x]", "b->c"]
    assert [s.name for s in c_.reads] == ["a->c[x]", "b->c", "input->c"]
    assert (a.entry, b.entry, c_.entry) == (True, False, True)
    assert resolved.entries == tuple(graph.entries(t)) == ("a", "c")
    assert resolved.stream_targets() == {
        "a->b": "b",
        "a->c[x]": "c",
        "b->c": "c",
        "input->c": "c",
    }


def test_logical_ids_of_a_processor_s_resources_are_named_here() -> None:
    assert graph.processor_id("hello_world") == "HelloWorld"
    assert graph.function_id("hello_world") == "HelloWorldFunction"
    assert graph.dead_letter_queue_id("hello_world") == "HelloWorldDeadLetterQueue"
    # The logical id is the construct path's parts joined: the child's id is part of it.
    assert graph.function_id("x") == graph.logical_id(("X", graph.FUNCTION))


def test_resolve_reads_a_topology_that_failed_validation_without_raising() -> None:
    # The planner's shard checks run on what the loader built, before validation reports it.
    t = topology([("a", "ghost", None)], names="a")
    resolved = graph.resolve(t)
    assert resolved.streams["a->ghost"].consumer == "ghost"
    assert list(resolved.processors) == ["a"]
    assert resolved.processors["a"].writes == ("a->ghost",)
