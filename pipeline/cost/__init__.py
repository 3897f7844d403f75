"""The cost model: a dated price table, the work each batch makes, a monthly estimate, a run's cost.

- `python -m pipeline cost …`: :func:`add_cost_parser` / :func:`run_cost`;
- :func:`estimate_monthly` for a :class:`Workload` and a :class:`PriceTable`;
- :func:`estimate_run_cost` for the local runner's report.
"""

from pipeline.cost.cli import add_cost_parser, render, run_cost
from pipeline.cost.model import Estimate, LineItem, estimate_monthly
from pipeline.cost.prices import DEFAULT_TABLE, Price, PriceError, PriceTable, load_prices
from pipeline.cost.run import estimate_run_cost
from pipeline.cost.workload import Workload

__all__ = [
    "DEFAULT_TABLE",
    "Estimate",
    "LineItem",
    "Price",
    "PriceError",
    "PriceTable",
    "Workload",
    "add_cost_parser",
    "estimate_monthly",
    "estimate_run_cost",
    "load_prices",
    "render",
    "run_cost",
]
