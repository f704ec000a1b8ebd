"""The stored-record TypedDicts name exactly the fields ``chain`` validates and writes."""

from __future__ import annotations

from cloudstores.stores.audit import chain
from cloudstores.stores.audit.records import (
    CheckpointBody,
    CheckpointLink,
    EntryObject,
    StoredCheckpoint,
    StoredEntry,
)


def test_entry_fields_match_the_validator() -> None:
    assert StoredEntry.__required_keys__ == chain._ENTRY_FIELDS
    assert StoredEntry.__optional_keys__ == {"key"}  # format 2 only
    assert EntryObject.__required_keys__ == {"entries", "v"}


def test_checkpoint_fields_match_the_validator_and_the_writer() -> None:
    assert StoredCheckpoint.__required_keys__ == chain._CHECKPOINT_FIELDS
    body = chain.checkpoint_body(
        workspace="w",
        stream="s",
        size=1,
        head="0" * 64,
        time="t",
        prev=None,
        leaves_start=0,
        leaves=[],
        algorithm="none",
        key_id=None,
    )
    assert set(body) == CheckpointBody.__required_keys__
    assert CheckpointLink.__required_keys__ == {"hash", "size"}
    # format 2: the tree's members
    assert StoredCheckpoint.__optional_keys__ == {"root", "note", "edge"}
    assert chain._CHECKPOINT_FIELDS | {"root", "note", "edge"} == chain._CHECKPOINT_V2_FIELDS
    v2 = chain.checkpoint_body(
        workspace="w",
        stream="s",
        size=1,
        head="0" * 64,
        time="t",
        prev=None,
        leaves_start=0,
        leaves=[],
        algorithm="none",
        key_id=None,
        root="0" * 64,
    )
    assert set(v2) == CheckpointBody.__required_keys__ | {"root"} and v2["v"] == 2


def test_built_entry_parses_back_as_a_stored_entry() -> None:
    data, digest = chain.build_entry(
        workspace="w",
        stream="s",
        seq=0,
        ts="2024-05-01T12:00:00.000000Z",
        event=b'{"a":1}',
        prev=chain.GENESIS,
    )
    [entry] = chain.parse_object(chain.encode_object([data]))
    assert set(entry) == StoredEntry.__required_keys__
    assert entry["hash"] == digest == chain.recompute_hash(entry)
