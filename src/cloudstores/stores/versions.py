"""Version chains: numbered, create-only version objects of one thing (a run, a document).

The versions of one thing live under one key prefix as ``{prefix}{n:0{digits}d}.json``,
``n`` = 0, 1, 2, ... A writer takes the next free number with a create-only PUT; one that
loses the race for a number reads what it missed and takes the next. So numbers are
contiguous by construction, and a missing number below an existing one means a deleted
object: :meth:`VersionChain.list` checks that, and that the chain reaches the newest
number this process has seen (a version known to exist that is gone is an
IntegrityError naming it, never a silently older answer).

Costs: :meth:`VersionChain.list` and :meth:`VersionChain.latest` are one LIST (per 1,000
versions listed) starting at the first number asked for; :meth:`VersionChain.put_next`
is one create-only PUT when the number it tries is free, and one LIST more per number it
loses. Used by the execution store (runs) and the document store.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from cloudstores.bucket.base import Bucket
from cloudstores.errors import AlreadyExistsError, IntegrityError, NotFoundError
from cloudstores.stores.objects import put_json

__all__ = ["VersionChain", "version_number"]


def version_number(name: str, digits: int) -> int | None:
    """The number of a version object's name ``{n:0{digits}d}.json``, else None."""
    text = name[:-5] if name.endswith(".json") else ""
    if len(text) != digits or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


class VersionChain:
    """The version objects of many things of one kind (``what``: "run", "document").

    Each thing is named by its version prefix (ending in ``/``) and a display ``name``
    for error messages. ``known`` remembers, per prefix, the newest version this process
    has seen to exist (a lower bound for later reads).
    """

    def __init__(self, bucket: Bucket, *, what: str, digits: int = 10) -> None:
        self.bucket = bucket
        self.what = what
        self.digits = digits
        self.known: dict[str, int] = {}

    # ------------------------------------------------------------------ keys
    def key(self, prefix: str, version: int) -> str:
        return f"{prefix}{version:0{self.digits}d}.json"

    def number(self, name: str) -> int | None:
        """The version number of a key's last segment, or None if it is not one."""
        return version_number(name, self.digits)

    def note(self, prefix: str, version: int) -> None:
        """Remember that ``version`` exists."""
        self.known[prefix] = max(version, self.known.get(prefix, -1))

    # ------------------------------------------------------------------ reading
    async def list(self, prefix: str, *, start: int, known: int | None, name: str) -> list[int]:
        """The version numbers from ``start`` on (one LIST), checked to be contiguous and
        to reach ``known`` (a version seen to exist); NotFoundError if there are none and
        nothing says there were."""
        after = self.key(prefix, start - 1) if start > 0 else None
        versions: list[int] = []
        async for info in self.bucket.list(prefix, start_after=after):
            number = self.number(info.key[len(prefix) :])
            if number is None:
                continue  # a stray object is not a version (reindex reports it)
            expected = versions[-1] + 1 if versions else start
            if number != expected:
                raise IntegrityError(
                    f"{self.what} {name!r} has no version {expected}, but has version {number}",
                    bucket=self.bucket.name,
                    key=self.key(prefix, expected),
                )
            versions.append(number)
        if not versions and known is None:
            raise NotFoundError(
                f"no {self.what} {name!r}", bucket=self.bucket.name, key=self.key(prefix, 0)
            )
        if known is not None and (not versions or versions[-1] < known):
            gone = versions[-1] + 1 if versions else start
            raise IntegrityError(
                f"{self.what} {name!r} version {gone} is gone (version {known} was seen)",
                bucket=self.bucket.name,
                key=self.key(prefix, gone),
            )
        self.note(prefix, versions[-1])
        return versions

    async def latest(
        self, prefix: str, *, name: str, hint: int | None = None, at_least: int = -1
    ) -> int:
        """The newest version number (one LIST from the newest known one: this process's
        memory, ``hint`` or ``at_least``, whichever is highest); NotFoundError if none."""
        known = max(
            (v for v in (self.known.get(prefix), hint, at_least) if v is not None and v >= 0),
            default=None,
        )
        versions = await self.list(prefix, start=known or 0, known=known, name=name)
        return versions[-1]

    # ------------------------------------------------------------------ writing
    async def put_next(
        self,
        prefix: str,
        first: int,
        build: Callable[[int], Awaitable[bytes]],
        *,
        name: str,
    ) -> int:
        """Create the first free version from ``first`` on and return its number.

        ``build(n)`` makes the body of version ``n`` (it may raise to give up, e.g. when
        an expected version no longer holds; it is called again for each number tried).
        Only a lost race (AlreadyExistsError, which the Bucket has already told apart
        from its own earlier attempt that landed) moves on to a later number; any other
        error propagates, so a write that may have landed is never made a second time.
        """
        version = first
        while True:
            body = await build(version)
            try:
                await put_json(self.bucket, self.key(prefix, version), body)
            except AlreadyExistsError:
                version = await self.latest(prefix, name=name, at_least=version) + 1
                continue
            self.note(prefix, version)
            return version
