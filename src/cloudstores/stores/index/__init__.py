"""The index of a store: declared fields, latest version wins, queries, chunks + manifest.

Package layout (one job per file):

* ``fields.py``      declared fields and their kinds and bounds (:class:`Schema`)
* ``entries.py``     entries ``(key, version, fields, tombstone)`` and who wins
* ``layout.py``      object keys: tail segments, manifests, chunks, legacy snapshots
* ``chunks.py``      chunk bodies and the manifest that describes them
* ``query.py``       ``where`` filters, orders, cursors, pruning
* ``compaction.py``  leveled, create-only compaction
* ``legacy.py``      reading the format-1 index of older workspaces
* ``core.py``        :class:`Index`: loading, group-committed writes, queries

The on-bucket format is specified in ``docs/index-format.md``.
"""

from cloudstores.stores.index.core import AggregateRow, Index, IndexOptions, Page
from cloudstores.stores.index.entries import IndexEntry
from cloudstores.stores.index.fields import Field, Schema
from cloudstores.stores.index.legacy import LegacyConverter
from cloudstores.stores.index.problems import Problem

__all__ = [
    "AggregateRow",
    "Field",
    "Index",
    "IndexEntry",
    "IndexOptions",
    "LegacyConverter",
    "Page",
    "Problem",
    "Schema",
]
