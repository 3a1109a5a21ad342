"""The two refusals of :class:`vigil.collectors.SeriesStore` that are not plain bad input: a
series limit reached, and a sample the store holds already. Raised by
:mod:`vigil.collectors._series`; the controller's sample intake (:mod:`vigil.daemon._samples`)
tells them apart from other :class:`~vigil.errors.InputError` s.
"""

from __future__ import annotations

from vigil.errors import InputError


class CardinalityError(InputError):
    """A new series refused because a series limit is reached (the message names the setting)."""


class Resent(InputError):
    """A sample the store already holds, same series, time and value: sent again by an agent
    whose answer was lost (a timed-out heartbeat whose samples the controller had stored).
    Nothing is stored twice and nothing is wrong: callers count it, not report it, and the
    rules do not see it again. A sample at a stored time with another value stays an error, as
    Prometheus's TSDB has it ("duplicate sample for timestamp" only when the value differs)."""
