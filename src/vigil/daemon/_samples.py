"""Samples into the controller: stored in the series store, then seen by the metric rules, whose
changes open and resolve ``rule:<name>{labels}`` incidents.

:class:`SampleIntake` is built by :class:`vigil.daemon.Controller`; agents' heartbeats and
``POST /api/v1/samples`` (through the controller's ``ingest_samples``) and the scrape and PromQL
loops (:mod:`vigil.daemon._scrape`) feed it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from vigil.collectors import CardinalityError, Resent, Sample, SampleBatch, SeriesStore
from vigil.detectors import RuleChange, RuleEngine, RuleSpec
from vigil.errors import InputError
from vigil.model import Finding, FindingKind, Severity
from vigil.remediation import IncidentBook
from vigil.settings import MetricRule, parse_rule_expr

log = logging.getLogger("vigil.daemon")

REFUSED_NAMES_LOGGED = 1000
"""Metric names whose cardinality refusals are logged one by one; the rest are only counted."""
SAMPLE_MAX_AHEAD = 300.0
"""Seconds a sample's time may be ahead of the controller's clock (skewed node clocks): one
from further ahead is refused, or its series would refuse every sample until then."""


def rule_spec(rule: MetricRule) -> RuleSpec:
    expr = parse_rule_expr(rule.expr)
    return RuleSpec(
        name=rule.name,
        metric=expr.metric,
        labels=expr.labels,
        op=expr.op,
        value=expr.value,
        for_seconds=rule.for_,
        clear=rule.clear,
        anomaly=expr.anomaly,
        severity=rule.severity,
    )


class SampleIntake:
    """Stores samples and runs the rules over those of ruled metrics; counts the refused."""

    def __init__(
        self,
        series: SeriesStore,
        rules: RuleEngine,
        incidents: Callable[[], IncidentBook],
        clock: Callable[[], float],
    ) -> None:
        self.series = series
        self.rules = rules
        self._incidents = incidents  # the controller's book, made when it runs
        self._clock = clock
        self._ruled = rules.metrics
        self._refused: set[str] = set()
        self.refused = 0
        """Samples refused for cardinality (``vigil_series_refused_total``)."""
        self.resent = 0
        """Samples sent again that the store held already (``vigil_samples_resent_total``):
        not errors, so not in the sender's answer, and not seen by the rules twice."""

    def ingest(self, samples: Sequence[Sample]) -> list[str]:
        """Store samples (agents', scrapes', queries') and run the rules over them."""
        if isinstance(samples, SampleBatch):  # a heartbeat's, from the lean path
            return self._ingest_batch(samples)
        errors: list[str] = []
        not_after = self._clock() + SAMPLE_MAX_AHEAD
        for sample in samples:
            try:
                self.series.add(sample, not_after=not_after)
            except CardinalityError as exc:
                errors.append(str(exc))
                self._report_refused(sample, str(exc))
                continue
            except Resent:
                self.resent += 1
                continue
            except InputError as exc:
                errors.append(str(exc))
                continue
            if sample.name not in self._ruled:  # most metrics have no rule: skip the dict
                continue
            for change in self.rules.observe(
                sample.name, sample.labels_dict, sample.at, sample.value
            ):
                self._rule_changed(change)
        return errors

    def _ingest_batch(self, batch: SampleBatch) -> list[str]:
        """:meth:`ingest` for samples in columns: stored in one pass, then the rules see the
        stored samples of ruled metrics, in order (rules do not read the series store)."""
        failed = self.series.add_batch(batch, not_after=self._clock() + SAMPLE_MAX_AHEAD)
        errors: list[str] = []
        for i, exc in failed:
            if isinstance(exc, Resent):
                self.resent += 1
                continue
            errors.append(str(exc))
            if isinstance(exc, CardinalityError):
                self._report_refused(batch[i], str(exc))
        if self._ruled.isdisjoint(batch.names):  # most pushes carry no ruled metric
            return errors
        refused = {i for i, _ in failed}
        for i, name in enumerate(batch.names):
            if name in self._ruled and i not in refused:
                labels = dict(batch.labels[i])
                for change in self.rules.observe(name, labels, batch.ats[i], batch.values[i]):
                    self._rule_changed(change)
        return errors

    def _report_refused(self, sample: Sample, problem: str) -> None:
        """Log a cardinality refusal once per metric name (the sender hears of each sample),
        for the first :data:`REFUSED_NAMES_LOGGED` names: a sender making up a name per
        sample (a request id in the name) grew the set of names logged without bound."""
        self.refused += 1
        if sample.name in self._refused or len(self._refused) > REFUSED_NAMES_LOGGED:
            return
        self._refused.add(sample.name)
        if len(self._refused) > REFUSED_NAMES_LOGGED:
            log.error(
                "%s; samples of more than %d metric names refused: not logged name by name any "
                "more (vigil_series_refused_total counts them)",
                problem,
                REFUSED_NAMES_LOGGED,
            )
            return
        log.error("%s (logged once per metric name)", problem)

    def _rule_changed(self, change: RuleChange) -> None:
        where = ",".join(f"{k}={v}" for k, v in change.labels)
        subject = f"rule:{change.rule}{{{where}}}"
        if not change.firing:
            self._incidents().recovered(subject, change.at, change.explanation)
            return
        self._incidents().raise_finding(
            Finding(
                kind=FindingKind.METRIC_RULE,
                subject=subject,
                at=change.at,
                severity=Severity(change.severity),
                summary=f"rule {change.rule} firing on {where}: {change.explanation}",
                evidence={
                    "rule": change.rule,
                    "labels": dict(change.labels),
                    "value": change.value,
                    **({} if change.score is None else {"score": change.score}),
                },
            )
        )
