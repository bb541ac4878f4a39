"""`langganan demo` and `langganan serve` (to be written)."""

import click


@click.command()
def demo() -> None:
    """Build the demo merchant."""
    raise click.ClickException("not written yet")


@click.command()
def serve() -> None:
    """Serve the web app."""
    raise click.ClickException("not written yet")
