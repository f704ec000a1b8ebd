"""The any-id key encoding: round trips, injectivity, safe segments, hostile ids."""

from __future__ import annotations

import posixpath
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudstores.errors import InvalidIdError
from cloudstores.ids import (
    MAX_ANY_ID_BYTES,
    MAX_SEGMENT_BYTES,
    decode_id,
    encode_id,
    is_hashed,
    validate_any_id,
)
from cloudstores.keys import validate_key

HOSTILE = [
    "..",
    ".",
    "/",
    "//",
    "a/../b",
    "../x",
    "./x",
    "x/..",
    "%2e%2e",
    "%2E%2E%2F",
    "..%2f",
    "\x00",
    "a\x00b",
    "\x85",
    "\u0085x",
    "\x7f",
    "\x1b[31m",
    "\u200f",
    "\u202eevil\u202c",
    "\ufeff",
    " ",
    "  leading",
    "trailing ",
    "a b",
    "\t",
    "\n",
    "\r\n",
    "\\",
    "a\\b",
    "C:\\Windows",
    "CON",
    "nul",
    "~",
    "~user",
    "!",
    "!!",
    "!3a",
    "!h",
    "!" + "a" * 199,
    "user:42",
    "tenant/run:7",
    "café",
    "cafe\u0301",
    "日本語",
    "\U0001f600",
    "a.",
    "a..",
    ".hidden",
    "-",
    "_",
    "x" * 1000,
    "é" * 1000,
    "/" * 1000,
    "." * 300,
    "!h" * 300,
    "a" * MAX_SEGMENT_BYTES,
    "a" * (MAX_SEGMENT_BYTES + 1),
    "*",
    "?",
    "#",
    "[x]",
    "<>|\"'",
    "\ud7ff",
    "\ue000",
    "\U0010ffff",
]
SURROGATES = ["\ud800", "a\udfffb", "\udc00" * 3]
ANY_TEXT = st.text(min_size=1, max_size=400)
HOSTILE_CHARS = st.text(
    alphabet=st.sampled_from(
        list("./\\!%~: \x00\x85\u200f\u202e\x7fhH2eE")
        + list(string.ascii_letters[:6])
        + ["é", "\U0001f600"]
    ),
    min_size=1,
    max_size=300,
)
IDS = st.one_of(ANY_TEXT, HOSTILE_CHARS, st.sampled_from(HOSTILE))


def check_segment(segment: str) -> None:
    assert segment and segment not in (".", "..")
    assert "/" not in segment and "\\" not in segment
    assert segment.isascii() and segment.isprintable() and " " not in segment
    assert "%" not in segment
    assert not segment.endswith(".")
    assert len(segment.encode()) <= MAX_SEGMENT_BYTES
    key = f"ws/w/docs/{segment}/v/00000000000000000001.json"
    assert validate_key(key) == key
    assert posixpath.normpath(key).startswith("ws/w/docs/")
    assert posixpath.normpath(key).split("/")[3] == segment


def round_trip(value: str) -> None:
    segment = encode_id(value)
    check_segment(segment)
    decoded = decode_id(segment)
    if is_hashed(segment):
        assert decoded is None
        assert len(value.encode()) > 60  # only long ids are hashed
    else:
        assert decoded == value
    assert encode_id(value) == segment  # a function: same id, same key


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_ids_round_trip_to_safe_segments(value: str) -> None:
    round_trip(value)


def test_hostile_ids_are_pairwise_distinct_keys() -> None:
    assert len({encode_id(v) for v in HOSTILE}) == len(set(HOSTILE))


@pytest.mark.parametrize("value", SURROGATES)
def test_lone_surrogates_are_refused(value: str) -> None:
    with pytest.raises(InvalidIdError, match="surrogate"):
        encode_id(value)


@pytest.mark.parametrize("value", ["", None, 7, b"id", ["a"]])
def test_non_ids_are_refused(value: object) -> None:
    with pytest.raises(InvalidIdError):
        encode_id(value)  # type: ignore[arg-type]


def test_size_limit() -> None:
    assert validate_any_id("a" * MAX_ANY_ID_BYTES)
    with pytest.raises(InvalidIdError, match="over"):
        encode_id("a" * (MAX_ANY_ID_BYTES + 1))


@pytest.mark.parametrize(
    "value", ["run-42", "a", "A_b-C", "v1.2.3", "x" * 200, "0", "a.b.c", "a..b", "_x", "-x"]
)
def test_plain_ids_are_their_own_segment(value: str) -> None:
    assert encode_id(value) == value
    assert decode_id(value) == value


@pytest.mark.parametrize(
    "value,segment",
    [
        ("user:42", "!user!3a42"),
        ("..", "!.!2e"),
        (".", "!!2e"),
        ("a b", "!a!20b"),
        ("café", "!caf!c3!a9"),
        ("a.", "!a!2e"),
        (".env", "!.env"),
    ],
)
def test_escaped_examples(value: str, segment: str) -> None:
    assert encode_id(value) == segment


def test_long_ids_are_hashed_with_a_readable_head() -> None:
    value = "tenant-7/" + "x" * 1000
    segment = encode_id(value)
    assert segment.startswith("!tenant-7!2fxxx")
    assert is_hashed(segment) and decode_id(segment) is None
    assert len(segment) <= MAX_SEGMENT_BYTES
    assert encode_id(value[:-1] + "y") != segment


@pytest.mark.parametrize(
    "segment",
    [
        "",
        ".",
        "..",
        "!",
        "!abc",
        "!3A",
        "!!3A",
        "!!zz",
        "!!2",
        "!a/b",
        "a b",
        "!a!2e!2e.",
        ".a",
        "a.",
        "!.!2e/",
        "!a.",
        "é",
        "!" + "a" * 200,
        "!!c3",
        "!!ff",
        "!!2e" * 70,
        "!h" + "a" * 52,
        "!" + "a" * 146 + "!h" + "a" * 52,
        "!a.!h" + "a" * 52,
    ],
)
def test_decode_refuses_what_encode_never_returns(segment: str) -> None:
    with pytest.raises(InvalidIdError):
        decode_id(segment)


@settings(max_examples=600, deadline=None)
@given(IDS)
def test_round_trip_property(value: str) -> None:
    round_trip(value)


@settings(max_examples=300, deadline=None)
@given(st.lists(IDS, min_size=2, max_size=30, unique=True))
def test_injective_property(values: list[str]) -> None:
    assert len({encode_id(v) for v in values}) == len(values)


@settings(max_examples=300, deadline=None)
@given(IDS, IDS)
def test_distinct_ids_distinct_segments(a: str, b: str) -> None:
    assert (encode_id(a) == encode_id(b)) == (a == b)


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"[A-Za-z0-9_-]([A-Za-z0-9._-]{0,100}[A-Za-z0-9_-])?", fullmatch=True))
def test_plain_property(value: str) -> None:
    assert encode_id(value) == value


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("!.-_az09AZh2ef/ é")), max_size=60))
def test_decode_accepts_only_canonical_segments(segment: str) -> None:
    """Untrusted segments: either refused, or exactly what encode returns for the id."""
    try:
        value = decode_id(segment)
    except InvalidIdError:
        return
    if value is None:
        assert is_hashed(segment)
    else:
        assert encode_id(value) == segment
