"""The stores layer: artifacts, executions and audit logs, over the bucket layer.

Stores know keys, records, ordering and hashing; they never touch a cloud SDK.

* ``artifacts.py``   ArtifactStore: immutable artifacts, lineage, filtered lists
* ``executions.py``  ExecutionStore: run versions, step records, workflow snapshots
* ``audit/``         AuditStore: hash-chained, signed, multi-writer audit logs
* ``index/``         the manifest index the list operations read (see docs/index-format.md)
* ``objects.py``     JSON objects in a bucket: what every store shares
* ``workspace.py``   Stores and open_stores: the three of one workspace together
"""
