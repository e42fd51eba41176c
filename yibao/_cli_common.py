"""What every ``yibao`` command shares: the stderr console, progress bars, failing, settings."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from yibao.errors import YibaoError
from yibao.settings import Settings

err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str, int, int], None]]:
    """A progress callback drawing a rich bar on stderr (a no-op when disabled)."""
    if not enabled:
        yield lambda stage, done, total: None
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("…", total=None)

        def update(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total or None)

        yield update


def _fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[red]错误 / error:[/] {message}", soft_wrap=True, highlight=False)
    sys.exit(code)


def _settings(**overrides: Any) -> Settings:
    try:
        return Settings.from_env(**overrides)
    except YibaoError as exc:
        _fail(str(exc))
