"""`langganan analyze`."""

from __future__ import annotations

import sys

import click


@click.command()
@click.option("--merchant", "merchant_slug", required=True, help="The merchant's slug.")
@click.option(
    "--engine",
    type=click.Choice(["duckdb", "spark"]),
    default="duckdb",
    show_default=True,
    help="Where the SQL aggregations run.",
)
def analyze(merchant_slug: str, engine: str) -> None:
    """Compute every customer's insights (RFM, lifecycle, models, habits) and store them."""
    from tqdm import tqdm

    from langganan.analytics.engines import EngineUnavailableError
    from langganan.analytics.pipeline import STEPS
    from langganan.core.errors import LanggananError
    from langganan.core.selectors import merchant_get
    from langganan.insights.services import insights_refresh

    bar = tqdm(
        total=len(STEPS),
        desc="analyze",
        unit="step",
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
    )

    def progress(name: str) -> None:
        if bar.n or name != STEPS[0]:
            bar.update(1)
        bar.set_postfix_str(name)

    try:
        run = insights_refresh(
            merchant=merchant_get(slug=merchant_slug), engine=engine, progress=progress
        )
    except (LanggananError, EngineUnavailableError) as exc:
        raise click.ClickException(getattr(exc, "message", str(exc))) from exc
    finally:
        bar.update(bar.total - bar.n)
        bar.close()
    bg = run.models_fitted.get("bg_nbd", {})
    click.echo(
        f"Analysed {run.customers:,} customers and {run.transactions:,} transactions of "
        f"{merchant_slug} in {run.timings.get('total', 0):.1f} s ({engine})."
    )
    if "params" in bg:
        params = ", ".join(f"{k}={v:.3g}" for k, v in bg["params"].items())
        click.echo(f"BG/NBD: {params}")
    elif "error" in bg:
        click.echo(f"BG/NBD not fitted: {bg['error']}")
    if run.lifecycle_counts:
        click.echo(
            "Lifecycle: " + ", ".join(f"{k} {v}" for k, v in sorted(run.lifecycle_counts.items()))
        )
