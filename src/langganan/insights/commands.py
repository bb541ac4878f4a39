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
@click.option("--verbose", is_flag=True, help="Also print the models' parameters.")
@click.option(
    "--lang",
    type=click.Choice(["id", "en"]),
    default="id",
    show_default=True,
    help="Language of the summary.",
)
def analyze(merchant_slug: str, engine: str, verbose: bool, lang: str) -> None:
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
    from langganan.insights.summary import model_lines, summary_lines

    for line in summary_lines(run, merchant_slug, lang):
        click.echo(line)
    if verbose:
        for line in model_lines(run):
            click.echo(line)
