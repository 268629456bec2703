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
        from eval_anything.merge import MergeError, merge_runs

        try:
            results = merge_runs(run_dirs, output_dir, include_path, allow_partial=allow_partial)
        except (MergeError, FileNotFoundError) as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(2) from None
        typer.echo(f"merged {len(run_dirs)} shards into {output_dir}")
        for name, tr in results.tasks.items():
            shown = ", ".join(f"{k}={v.value:.4f}" for k, v in list(tr.metrics.items())[:4])
            typer.echo(f"  {name} (n={tr.n}): {shown}")
