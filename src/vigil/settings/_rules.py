"""Metric rules in the settings: the condition grammar (``metric{labels} op value`` or
``anomaly(metric) op value``), its parser and the ``rules:`` section model. Used by
:mod:`vigil.settings._models` (the root's ``rules``) and by the rule engine
(:mod:`vigil.detectors._rules`) through ``parse_rule_expr``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from vigil.settings._types import Seconds, _Section

_RULE = re.compile(
    r"^\s*(?:(?P<func>anomaly)\(\s*(?P<fmetric>[A-Za-z_][\w.:]*)(?P<flabels>\{[^}]*\})?\s*\)"
    r"|(?P<metric>[A-Za-z_][\w.:]*)(?P<labels>\{[^}]*\})?)"
    r"\s*(?P<op>>=|<=|>|<)\s*(?P<value>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*$"
)

_PAIR = re.compile(
    r"""\s*(?P<key>[A-Za-z_]\w*)\s*(?P<op>=~|!=|!~|=)\s*"""
    r"""(?P<value>"[^"]*"|'[^']*'|[^,]*?)\s*(?:,|$)"""
)


@dataclass(frozen=True)
class RuleExpr:
    """A parsed rule condition: ``metric{labels} op value`` or ``anomaly(metric) op value``."""

    metric: str
    labels: dict[str, str]
    op: str
    value: float
    anomaly: bool


def _labels(expr: str, inner: str) -> dict[str, str]:
    """The ``key="value"`` pairs between the braces of a rule's selector. Split on every comma
    and on the first ``=``, ``gpu!="0"`` became a label named ``gpu!`` and ``gpu=~"0|1"`` the
    value ``~"0|1``: rules that matched no series and said nothing. Only ``=`` is supported."""
    labels: dict[str, str] = {}
    at = 0
    while at < len(inner):
        if not inner[at:].strip():
            break
        pair = _PAIR.match(inner, at)
        if pair is None:
            shown = inner[at:].split(",")[0].strip()
            raise ValueError(f'rule {expr!r}: label {shown!r} is not key="value"')
        if pair["op"] != "=":
            raise ValueError(
                f"rule {expr!r}: label matcher {pair['key']}{pair['op']} is not supported; "
                f'only exact matches (key="value") are: write one rule per value'
            )
        value = pair["value"].strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        labels[pair["key"]] = value
        at = pair.end()
    return labels


def parse_rule_expr(expr: str) -> RuleExpr:
    """Parse ``host.mem.used_pct > 90``, ``gpu.temperature_c{gpu="0"} >= 85`` or
    ``anomaly(host.cpu.used_pct) > 0.99``; ValueError with the fix otherwise."""
    match = _RULE.match(expr)
    if not match:
        raise ValueError(
            f'not a rule: {expr!r}; write `metric > 90`, `metric{{label="x"}} <= 5` or '
            "`anomaly(metric) > 0.99`"
        )
    raw = match.group("flabels") or match.group("labels") or "{}"
    labels = _labels(expr, raw[1:-1])
    value = float(match.group("value"))
    anomaly = match.group("func") == "anomaly"
    if anomaly and not 0.0 <= value <= 1.0:
        raise ValueError(f"rule {expr!r}: an anomaly score is in [0, 1] (got {value:g})")
    return RuleExpr(
        metric=match.group("fmetric") or match.group("metric"),
        labels=labels,
        op=match.group("op"),
        value=value,
        anomaly=anomaly,
    )


class MetricRule(_Section):
    """A condition on a metric that raises a finding (and an incident) while it holds."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")
    expr: str
    """`host.disk.used_pct > 90`, `gpu.temperature_c{gpu="0"} > 85`, `anomaly(m) > 0.99`."""
    for_: Seconds = Field(default=0.0, alias="for")
    """How long the condition must hold before the rule fires."""
    clear: float | None = None
    """Hysteresis: once firing, the rule clears only past this value (default: the limit)."""
    severity: Literal["info", "warning", "critical"] = "warning"

    @field_validator("clear")
    @classmethod
    def _clear_side(cls, clear: float | None, info: ValidationInfo) -> float | None:
        """A ``clear`` past the value (95 for ``> 90``) is refused here, at its line: the rule
        engine would refuse it anyway, and before, on the rule's first sample, mid-push."""
        expr = info.data.get("expr")
        if clear is not None and not math.isfinite(clear):  # .nan: fired and cleared by turns
            raise ValueError(f"must be a finite number (got {clear}), or left out")
        if clear is None or not isinstance(expr, str):
            return clear
        try:
            parsed = parse_rule_expr(expr)
        except ValueError:
            return clear  # the expr's own check says what is wrong with it
        above = parsed.op in (">", ">=")
        if (clear > parsed.value) if above else (clear < parsed.value):
            side = "at or below" if above else "at or above"
            raise ValueError(
                f"must be {side} the value of {expr!r} (got {clear:g}): it is where a firing "
                f"rule stops firing (default: the value itself)"
            )
        return clear

    @field_validator("expr")
    @classmethod
    def _parses(cls, expr: str) -> str:
        """Checked here, at the expression's own line (rules[0].expr), not the rule's."""
        parse_rule_expr(expr)
        return expr
