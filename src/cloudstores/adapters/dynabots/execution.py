"""``BucketExecutionStore``: DynaBots' ``ExecutionStore`` on a document collection."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from cloudstores.adapters.dynabots._base import StoresAdapter, check_name
from cloudstores.errors import InvalidInputError
from cloudstores.stores.documents import DocumentStore
from cloudstores.stores.objects import check_int
from cloudstores.stores.workspace import Stores

__all__ = ["BucketExecutionStore"]

DEFAULT_COLLECTION = "dynabots-workflows"
BASE_FILTERS = ("status", "user_id")
DATE_RANGE = "date_range"


class BucketExecutionStore(StoresAdapter):
    """Workflow and trial executions as documents of one collection, id = ``data["id"]``.

    ``save_workflow`` stores the whole dict as the document's next version (insert or
    replace, like the reference's ``ON CONFLICT (id) DO UPDATE``); ``created_at`` is
    kept from the first save. ``status`` and ``user_id`` (top-level members, strings or
    null), and any names in ``filter_fields``, are declared index fields, so
    ``list_workflows`` filters by an index query and reads only the documents it returns.

    Args:
        stores: the stores to borrow (see :func:`cloudstores.open_stores`).
        collection: the document collection (default ``dynabots-workflows``).
        filter_fields: more top-level string members to filter on; declare the same
            ones every time the collection is opened.
    """

    def __init__(
        self,
        stores: Stores,
        *,
        collection: str = DEFAULT_COLLECTION,
        filter_fields: Iterable[str] = (),
    ) -> None:
        super().__init__(stores)
        extra = tuple(filter_fields) if not isinstance(filter_fields, str) else (filter_fields,)
        for name in extra:
            check_name(name, what="a filter field")
            if name == DATE_RANGE:
                raise InvalidInputError(f"{DATE_RANGE!r} is a built-in filter, not a field")
        self.filters = tuple(dict.fromkeys((*BASE_FILTERS, *extra)))
        self.collection = collection
        self._docs()  # bad names fail here, before any request

    def _docs(self) -> DocumentStore:
        return self.stores.documents(
            self.collection, fields={name: "string" for name in self.filters}
        )

    async def save_workflow(self, workflow_data: dict[str, Any]) -> bool:
        """Store ``workflow_data`` (a JSON object with a str ``"id"``) under its id.

        Cost: one PUT when this store wrote the id last, else one LIST and one GET more;
        plus the index entry (one PUT, shared with concurrent writes).
        """
        if not isinstance(workflow_data, dict):
            raise InvalidInputError(
                f"workflow_data must be a dict, not {type(workflow_data).__name__}"
            )
        workflow_id = check_name(workflow_data.get("id"), what='workflow_data["id"]')
        await self._docs().put(workflow_id, workflow_data)
        return True

    async def get_workflow(self, workflow_id: str) -> dict[str, Any] | None:
        """The workflow saved last under ``workflow_id`` (a fresh copy), or None.
        Cost: one LIST, and one GET unless the version is cached."""
        check_name(workflow_id, what="workflow_id")
        document = await self._docs().get_or_none(workflow_id)
        return None if document is None else dict(document.value)

    async def list_workflows(self, limit: int = 50, **filters: Any) -> list[dict[str, Any]]:
        """Up to ``limit`` workflows, newest first saved first (``created_at`` descending).

        ``filters``: ``status``, ``user_id`` and the ``filter_fields`` by equality (None:
        no filter); ``date_range=(start, end)``, datetimes or None, both inclusive, on
        the first save time. Another name is InvalidInputError (not silently ignored).
        Cost: the index query (warm: one GET) and one GET per workflow returned.
        """
        check_int(limit, what="limit")
        where: dict[str, object] = {}
        for name, value in filters.items():
            if value is None:
                continue
            if name == DATE_RANGE:
                if bounds := _date_range(value):
                    where["created_at"] = bounds
            elif name in self.filters:
                if not isinstance(value, str):
                    raise InvalidInputError(f"filter {name!r} must be a str or None")
                where[name] = value
            else:
                raise InvalidInputError(
                    f"list_workflows: unknown filter {name!r} (known: "
                    f"{', '.join((*self.filters, DATE_RANGE))}; declare more with filter_fields)"
                )
        if limit == 0:
            return []
        page = await self._docs().query(
            where=where, order_by="created_at", descending=True, limit=limit
        )
        return [dict(document.value) for document in page.documents]


def _date_range(value: object) -> dict[str, object]:
    """``(start, end)`` as index range operators on ``created_at``."""
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise InvalidInputError("date_range must be a (start, end) pair of datetimes or None")
    ops: dict[str, object] = {}
    for op, bound in zip(("gte", "lte"), value, strict=True):
        if bound is None:
            continue
        if not isinstance(bound, datetime):
            raise InvalidInputError("date_range bounds must be datetimes or None")
        ops[op] = bound
    return ops
