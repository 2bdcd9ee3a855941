"""Markdown for the analyses' tables (and the experiments' tabulate scripts)."""

import pandas as pd


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub Markdown table, floats in scientific notation (to_markdown needs tabulate)."""

    def cell(value) -> str:
        return f"{value:.2e}" if isinstance(value, float) else str(value)

    lines = [
        "| " + " | ".join(map(str, frame.columns)) + " |",
        "|" + "|".join("---" for _ in frame.columns) + "|",
    ]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(False)]
    return "\n".join(lines) + "\n"
