"""Where the command line's output goes: JSON, rich tables on a terminal, plain lines otherwise.

Every command builds one JSON-able result and a function that shows it to a person.
With ``--json`` the result is printed as one JSON document; on a terminal the person
gets rich tables; piped (stdout not a terminal) they get plain tab-separated lines.

Everything shown is untrusted text (bucket contents, URLs, error messages that quote
them): it reaches rich only as :class:`rich.text.Text` (see ``render.plain``) or through
:func:`rich.markup.escape`, never as markup, so ``[s3]`` or ``[/y]`` print as they are.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from cloudstores.cli.render import plain

__all__ = ["Output", "escape"]

Tick = Callable[..., None]
"""``tick(done)`` or ``tick(done, total)``."""


class Output:
    """One command's output channel."""

    def __init__(self, *, json_mode: bool) -> None:
        self.json = json_mode
        self.console = Console(highlight=False, soft_wrap=False, emoji=False)
        self.err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
        self.terminal = self.console.is_terminal and not json_mode

    # ------------------------------------------------------------------ results
    def result(self, data: Any, show: Callable[[], None]) -> None:
        """``data`` as JSON with ``--json``, else ``show()`` for a person."""
        if self.json:
            sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
            sys.stdout.flush()
        else:
            show()

    def line(self, text: object = "", style: str = "") -> None:
        if self.terminal:
            self.console.print(plain(text, style))
        else:
            sys.stdout.write(plain(text).plain + "\n")

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        """A rich table on a terminal; else a ``# title`` line, a header and tab-separated rows."""
        if self.terminal:
            table = Table(title=plain(title, "table.title"))
            for column in columns:
                table.add_column(column)
            for row in rows:
                table.add_row(*(plain(cell) for cell in row))
            self.console.print(table)
            return
        sys.stdout.write(f"# {plain(title).plain}\n")
        sys.stdout.write("\t".join(columns) + "\n")
        for row in rows:
            sys.stdout.write("\t".join(plain(cell).plain for cell in row) + "\n")

    def error(self, message: str) -> None:
        """One line on stderr, printed literally (escaped before rich sees it)."""
        self.err.print(f"[red]error:[/red] {escape(message)}", markup=True)

    def warn(self, message: str) -> None:
        self.err.print(f"[yellow]warning:[/yellow] {escape(message)}", markup=True)

    # ------------------------------------------------------------------ progress
    @contextmanager
    def progress(
        self, what: str, unit: str, total: int | None = None, *, bar: bool = False
    ) -> Iterator[Tick]:
        """A transient progress bar (spinner and count when ``total`` is unknown) on a
        terminal's stderr; a no-op when piped or with ``--json``."""
        if not self.err.is_terminal or self.json:
            yield lambda done, total=None: None
            return
        columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}", markup=False)]
        if total is not None or bar:
            columns += [BarColumn(), MofNCompleteColumn()]
        else:
            columns.append(TextColumn("{task.completed:,.0f}"))
        columns += [TextColumn(unit, markup=False), TimeElapsedColumn()]
        with Progress(*columns, transient=True, console=self.err) as shown:
            task = shown.add_task(what, total=total)
            yield lambda done, total=None: shown.update(task, completed=done, total=total)
