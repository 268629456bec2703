"""``eval-anything merge DIR... --output-dir OUT``: combine data-parallel shard runs into one."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("merge")
    def merge(
        run_dirs: list[Path] = typer.Argument(..., help="Shard run directories (run --shard I/N)."),
        output_dir: Path = typer.Option(
            ..., "--output-dir", "-o", help="New folder for the merged run."
        ),
        include_path: list[Path] = typer.Option(
            [], "--include-path", help="Folders of task YAML the shards used (if not bundled)."
        ),
        allow_partial: bool = typer.Option(
            False, "--allow-partial", help="Merge even if some shards of the run are missing."
        ),
    ) -> None:
        """Merge shard runs; metrics are recomputed from the merged per-sample records."""
        from eval_anything.cli.common import console, results_table, user_errors
        from eval_anything.run.merge import merge_runs

        with user_errors():
            results = merge_runs(run_dirs, output_dir, include_path, allow_partial=allow_partial)
        console.print(results_table(results))
        console.print(f"merged {len(run_dirs)} shards into {output_dir}")
