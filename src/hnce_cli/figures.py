"""Numbers as people read them in hnce's summaries (an import's "共 … 学分", a count of rows).

Credits are floats added up row by row: 100,000 declarations of 20 credits came out as
`1.99999e+06` with `:g`, and a sum of decimals as 1999989.9999999998. A person reads
thousands separated and at most two decimals — 1,999,990 学分, 12.5 学分 — never an
exponent. --json keeps the plain numbers.
"""

from __future__ import annotations


def amount(value: float) -> str:
    """1,999,990 / 12.5 / 0.25: thousands separated, at most two decimals, no trailing zeros."""
    text = f"{round(float(value), 2):,.2f}"
    text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def count(value: int) -> str:
    """100,000: a count of rows, people or files."""
    return f"{int(value):,}"
