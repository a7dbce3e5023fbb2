"""Rich tables and lines the CLI prints (the terminal's view of the reports)."""

from __future__ import annotations

import math

from rich.table import Table


def headline_table(rows: list[dict], sources: list[str]) -> Table:
    """The headline (sources x axes) as a rich table: value and its 95 % interval."""
    from realitygap.scorecard.score import HEADLINE, headline

    table = Table(title="scorecard (all scenarios; 95 % bootstrap intervals over episodes)")
    table.add_column("source")
    for axis, _, _, label in HEADLINE:
        table.add_column(f"{axis}\n{label}", justify="right")
    for source, cells in headline(rows, sources):
        table.add_row(source, *(score_cell(row) for row in cells))
    return table


def score_cell(row: dict | None) -> str:
    if row is None or row["value"] != row["value"]:
        return "-"
    value = f"{100 * row['value']:.0f} %" if row["statistic"] == "share" else f"{row['value']:.3g} {row['unit']}".strip()
    if row["ci_low"] == row["ci_low"] and row["ci_high"] == row["ci_high"]:
        scale = 100 if row["statistic"] == "share" else 1
        value += f" [{scale * row['ci_low']:.3g}, {scale * row['ci_high']:.3g}]"
    return value


def ratio_cell(row: dict | None) -> str:
    if row is None or not math.isfinite(row["ratio"]):
        return "n/a"
    return f"{row['ratio']:.2f} [{row['ratio_low']:.2f}, {row['ratio_high']:.2f}]"


def prompt_spec_renderables(spec) -> list:
    """The scenario and parameters a prompt chose, each with its unit and origin, and the prompt's setup cost,
    as lines and a table to print."""
    from realitygap.scenarios import get_scenario

    shown: list = [f"prompt -> scenario [bold]{spec.scenario}[/bold] (similarity {spec.similarity:.3f}; "
                   f"runner-up {spec.runner_up} {spec.runner_up_similarity:.3f})"]
    table = Table(title=f"{spec.scenario} parameters from the prompt")
    for column in ("parameter", "value", "unit", "from"):
        table.add_column(column)
    for parameter in get_scenario(spec.scenario).parameters:
        value, origin = spec.params[parameter.name], spec.origins[parameter.name]
        where = {"default": "default", "prompt": f"prompt: {origin.phrase!r}"}.get(origin.source, origin.phrase)
        table.add_row(parameter.name, f"{value:g}" if isinstance(value, float) else str(value), parameter.unit, where)
    shown.append(table)
    if spec.ignored:
        shown.append(f"numbers not used: {', '.join(spec.ignored)}")
    cost = spec.cost
    shown.append(f"context setup: {cost.prompt_chars} characters, {cost.prompt_words} words, {cost.prompt_tokens} tokens; "
                 f"parsed in {cost.parse_wall_s:.3f} s (encoder load {cost.encoder_load_s:.1f} s)")
    return shown
