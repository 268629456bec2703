"""Progress bars (rich, on stderr) with samples per second and time remaining.

A home of its own because more than one stage reports progress: the runner (one bar per task),
the lm-eval bridge (one bar per lm-eval request type) and the trainers (language-feedback
rounds). It imports nothing of ours, so any of them can use it without importing another."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class _Rate(TextColumn):
    def __init__(self) -> None:
        super().__init__("")

    def render(self, task: Any) -> Any:
        from rich.text import Text

        speed = task.finished_speed or task.speed
        return Text("-- samples/s" if not speed else f"{speed:.2f} samples/s", style="cyan")


class _Bar:
    def __init__(self, progress: Progress | None, task_id: Any) -> None:
        self.progress, self.task_id = progress, task_id

    def advance(self, n: int) -> None:
        if self.progress is not None:
            self.progress.advance(self.task_id, n)

    def describe(self, text: str) -> None:
        """Rename the bar (the runner says there when the cache answered most of a task, so
        its samples per second are not read as the model's)."""
        if self.progress is not None:
            self.progress.update(self.task_id, description=text)


class ProgressReporter:
    """Bars on stderr, one per :meth:`task`; disabled (``--quiet``) it draws nothing and every
    call is a no-op, so callers never branch on whether progress is shown."""

    def __init__(self, enabled: bool = True) -> None:
        self.progress: Progress | None = None
        if enabled:
            self.progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TaskProgressColumn(),
                _Rate(),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self.progress.start()

    def task(self, name: str, total: int, completed: int = 0) -> _Bar:
        if self.progress is None:
            return _Bar(None, None)
        tid = self.progress.add_task(name, total=total, completed=completed)
        return _Bar(self.progress, tid)

    def note(self, text: str) -> None:
        """One line above the bars (nothing when progress is off, as with ``--quiet``)."""
        if self.progress is not None:
            self.progress.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
