"""Queries by declared fields vs a brute-force model (filter the whole stream in Python),
the requests a query makes, and what happens when the index and the chain disagree."""

from __future__ import annotations

import bisect
import random
from collections import Counter
from datetime import datetime
from typing import Any

import pytest

import cloudstores
from cloudstores import codec
from cloudstores.errors import IntegrityError, InvalidInputError
from cloudstores.keys import key_number
from cloudstores.stores.audit import AuditEntry, AuditOptions, AuditStore, chain
from cloudstores.stores.audit.layout import StreamKeys
from cloudstores.testing import FaultyBucket

OPTIONS = AuditOptions(checkpoint_every=None, checkpoint_interval=None)
FIELDS = {"agent_id": "string", "action": "string", "verdict": "string", "risk": "number"}


def _event(rng: random.Random, i: int) -> dict[str, Any]:
    event: dict[str, Any] = {"i": i, "action": rng.choice(["read", "write", "call"])}
    if rng.random() < 0.9:
        event["agent_id"] = rng.choice(["a1", "a2", "a3", "a4"])
    event["verdict"] = rng.choice(["allow", "deny", 7])  # 7: wrong kind, indexed as null
    if rng.random() < 0.8:
        event["risk"] = rng.choice([0, 1, 2, 3, 2.5])
    return event


async def _fill(audit: AuditStore, stream: str, count: int, seed: int) -> list[AuditEntry]:
    rng = random.Random(seed)
    i = 0
    while i < count:
        size = rng.choice([1, 1, 2, 5, 9])
        events = [_event(rng, j) for j in range(i, min(count, i + size))]
        if len(events) == 1:
            await audit.append(stream, events[0])
        else:
            await audit.append_many(stream, events)
        i += len(events)
    return [e async for e in audit.read(stream)]


def _matches(entry: AuditEntry, where: dict[str, Any], since: Any, until: Any) -> bool:
    for name, cond in where.items():
        have = entry.event.get(name)
        kind = FIELDS[name]
        fits = (kind == "string" and isinstance(have, str)) or (
            kind == "number" and isinstance(have, int | float) and not isinstance(have, bool)
        )
        have = have if fits else None
        if isinstance(cond, dict):
            for op, value in cond.items():
                if have is None:
                    return False
                ok = {
                    "gt": have > value,
                    "gte": have >= value,
                    "lt": have < value,
                    "lte": have <= value,
                    "eq": have == value,
                }[op]
                if not ok:
                    return False
        elif have != cond:
            return False
    return (since is None or entry.ts >= since) and (until is None or entry.ts <= until)


def _forms(entries: list[AuditEntry]) -> list[dict[str, Any]]:
    rng = random.Random(5)
    moments = sorted({e.ts for e in entries})
    a, b = sorted(rng.sample(moments, 2))
    wheres: list[dict[str, Any]] = [
        {},
        {"agent_id": "a2"},
        {"agent_id": None},
        {"verdict": "deny", "action": "write"},
        {"verdict": None},
        {"risk": {"gte": 2}},
        {"risk": {"gt": 0, "lt": 3}, "agent_id": "a1"},
    ]
    spans = [(None, None), (a, None), (None, b), (a, b), (b, b)]
    forms = []
    for n, where in enumerate(wheres):
        for since, until in (spans[0], spans[1 + n % 4]):
            forms.append({"where": where, "since": since, "until": until})
    return forms


def _model(
    entries: list[AuditEntry], form: dict[str, Any], descending: bool, order: str
) -> list[int]:
    hits = [e for e in entries if _matches(e, form["where"], form["since"], form["until"])]
    hits.sort(key=(lambda e: e.seq) if order == "seq" else (lambda e: (e.ts, e.seq)))
    if descending:
        hits.reverse()
    return [e.seq for e in hits]


async def _all_pages(audit: AuditStore, stream: str, limit: int | None, **kw: Any) -> list[int]:
    seqs: list[int] = []
    cursor = None
    while True:
        page = await audit.query(stream, limit=limit, start_after=cursor, **kw)
        seqs.extend(e.seq for e in page.entries)
        assert limit is None or len(page.entries) <= limit
        if page.cursor is None:
            return seqs
        cursor = page.cursor


async def test_query_matches_brute_force(bucket: cloudstores.Bucket) -> None:
    async with AuditStore(bucket, options=OPTIONS) as audit:
        entries = await _fill(audit, "q", 240, seed=11)
        audit.stream_fields("q", FIELDS)
        reader = AuditStore(bucket, options=OPTIONS)  # another store: a cold index
        reader.stream_fields("q", FIELDS)
        rng = random.Random(3)
        for n, form in enumerate(_forms(entries)):
            descending = n % 3 != 0
            order = "ts" if n % 4 == 1 else "seq"
            expected = _model(entries, form, descending, order)
            page = await audit.query("q", descending=descending, order=order, **form)  # type: ignore[arg-type]
            assert [e.seq for e in page.entries] == expected, form
            assert all(e == entries[e.seq] for e in page.entries)
            limit = rng.choice([5, 20, 60])
            got = await _all_pages(reader, "q", limit, descending=descending, order=order, **form)
            assert got == expected, (form, limit)
        # appends after the index was built are indexed by the next query
        more = await audit.append("q", {"agent_id": "a9", "verdict": "allow", "risk": 1})
        page = await reader.query("q", where={"agent_id": "a9"}, limit=5)
        assert [e.seq for e in page.entries] == [more.seq]
        await reader.close()


async def test_query_reads_the_index_and_only_the_matching_objects(bucket_url: str) -> None:
    log: list[tuple[str, str]] = []

    def record(op: str, key: str) -> bool:
        log.append((op, key[key.index("ws/") :]))
        return False

    inner = cloudstores.open_bucket(bucket_url)
    spy = FaultyBucket(inner, match=record)
    async with inner, spy:
        async with AuditStore(inner, options=OPTIONS) as audit:
            entries = await _fill(audit, "r", 120, seed=2)
            audit.stream_fields("r", FIELDS)
            assert await audit.refresh_index("r") == 120
        cold = AuditStore(spy, options=OPTIONS)
        cold.stream_fields("r", FIELDS)
        page = await cold.query("r", where={"agent_id": "a3", "verdict": "deny"}, limit=4)
        expected = _model(entries, {"where": {"agent_id": "a3", "verdict": "deny"},
                                    "since": None, "until": None}, True, "seq")[:4]  # fmt: skip
        assert [e.seq for e in page.entries] == expected and expected
        keys = StreamKeys("default", "r")
        on_entries = [(op, k) for op, k in log if keys.e_prefix in k]
        starts = await _starts(inner, keys)
        objects = {keys.entry(_start(starts, s)) for s in expected}
        gets = [k for op, k in on_entries if op == "get"]
        assert sorted(gets) == sorted(objects)  # each result's object once, nothing else
        assert Counter(op for op, _ in on_entries) == Counter(get=len(objects), head=1)
        assert all(keys.base in k for _, k in log)  # the index and the stream, nothing else
        log.clear()
        again = await cold.query("r", where={"agent_id": "a3", "verdict": "deny"}, limit=4)
        assert again == page
        assert Counter(op for op, _ in log) == Counter(head=1, get=1)  # objects are kept
        await cold.close()


async def _starts(bucket: cloudstores.Bucket, keys: StreamKeys) -> list[int]:
    """The first seq of each entry object of a stream, from a listing."""
    return [key_number(info.key, keys.e_prefix) async for info in bucket.list(keys.e_prefix)]


def _start(starts: list[int], seq: int) -> int:
    return starts[bisect.bisect_right(starts, seq) - 1]


async def test_index_and_chain_disagree(bucket: cloudstores.Bucket) -> None:
    async with AuditStore(bucket, options=OPTIONS) as audit:
        await audit.append("t", {"agent_id": "a1", "n": 0})
        target = await audit.append("t", {"agent_id": "a1", "n": 1})
        audit.stream_fields("t", {"agent_id": "string"})
        assert len((await audit.query("t", where={"agent_id": "a1"})).entries) == 2
        # rewrite entry 1 consistently (its own hash recomputed) with another agent
        body = {
            "event": {"agent_id": "zz", "n": 1},
            "prev": target.prev,
            "seq": 1,
            "stream": "t",
            "ts": chain.format_ts(target.ts),
            "v": 1,
            "ws": "default",
        }
        body["hash"] = codec.leaf_hash(codec.dumps(body))
        key = StreamKeys("default", "t").entry(1)
        await bucket.put(key, codec.dumps({"entries": [body], "v": 1}), mode="overwrite")
        fresh = AuditStore(bucket, options=OPTIONS)
        fresh.stream_fields("t", {"agent_id": "string"})
        with pytest.raises(IntegrityError):
            await fresh.query("t", where={"agent_id": "a1"})
        await fresh.close()


async def test_query_validates_before_any_request(bucket: cloudstores.Bucket) -> None:
    async with AuditStore(bucket) as audit:
        with pytest.raises(InvalidInputError):
            await audit.query("s")  # nothing declared
        with pytest.raises(InvalidInputError):
            audit.stream_fields("s", {"ts": "string"})
        with pytest.raises(InvalidInputError):
            audit.stream_fields("s", {"x": "float"})
        audit.stream_fields("s", FIELDS)
        before = sum(bucket.requests.values())
        naive = datetime(2026, 1, 1)
        for bad in (
            {"where": {"nope": 1}},
            {"where": {"risk": {"gt": "x"}}},
            {"where": {"ts": 1}},
            {"since": naive},
            {"limit": 0},
            {"order": "hash"},
            {"start_after": "garbage"},
            {"descending": "yes"},
        ):
            with pytest.raises(InvalidInputError):
                await audit.query("s", **bad)
        assert sum(bucket.requests.values()) == before


async def test_query_ordered_by_a_declared_field(bucket: cloudstores.Bucket) -> None:
    """order=<declared field>: by its value (nulls first), ties by seq, pages included."""
    async with AuditStore(bucket, options=OPTIONS) as audit:
        rng = random.Random(5)
        for i in range(40):
            event: dict[str, Any] = {"i": i, "agent_id": rng.choice(["a1", "a2"])}
            if i % 7:
                event["risk"] = rng.choice([3, 1, 2, 2.5])
            await audit.append("o", event)
        entries = [e async for e in audit.read("o")]
        audit.stream_fields("o", FIELDS)

        def risk(e: AuditEntry) -> tuple[float, int]:
            r = e.event.get("risk")
            return (-1.0 if r is None else float(r), e.seq)

        for descending in (False, True):
            for where in ({}, {"agent_id": "a1"}):
                chosen = [e for e in entries if all(e.event.get(k) == v for k, v in where.items())]
                expected = [e.seq for e in sorted(chosen, key=risk, reverse=descending)]
                page = await audit.query("o", where=where, order="risk", descending=descending)
                assert [e.seq for e in page.entries] == expected
                kw = {"where": where, "order": "risk", "descending": descending}
                got = await _all_pages(audit, "o", 6, **kw)
                assert got == expected
        with pytest.raises(InvalidInputError):
            await audit.query("o", order="i")  # not declared
