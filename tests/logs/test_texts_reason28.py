"""A reason clause inside a quoted message ends at the quote that closes the message.

client-go's event recorder writes ``reason: 'Attached' Volume v has been attached to w`` inside
a logfmt ``msg="..."`` (Longhorn, Rancher, any logrus program), and the fields after the closing
quote (``func="..."``, ``file="..."``) are the record's own. The reason clause had run to the end
of the line, so those fields became part of one joined value, and a constant in them
(``StartLogging.func1``) was loosened when two lines' reasons differed (holdout18 longhorn)."""

from __future__ import annotations

from vigil.logs import TemplateMiner
from vigil.logs._texts import SPACE, split_words

_EVENT = (
    'msg="Event(v1.ObjectReference{Kind:\\"Volume\\", Name:\\"{vol}\\", FieldPath:\\"\\"}): '
    "type: 'Normal' reason: 'Attached' Volume {vol} has been attached to {node}\" "
    'func="record.(*eventBroadcasterImpl).StartLogging.func1" file="event.go:377"'
)


def _event(vol: str, node: str) -> str:
    return _EVENT.replace("{vol}", vol).replace("{node}", node)


def test_a_reason_in_a_quoted_message_ends_at_its_closing_quote() -> None:
    words = split_words(_event("pvc-6b1f0c9e", "worker-2"))
    assert words[-2:] == [
        'func="record.(*eventBroadcasterImpl).StartLogging.func1"',
        'file="event.go:377"',
    ]
    joined = [w for w in words if w.startswith("reason:")]
    reason = "reason: 'Attached' Volume pvc-6b1f0c9e has been attached to worker-2\""
    assert joined == [reason.replace(" ", SPACE)]


def test_the_fields_after_the_message_stay_as_printed_in_the_template() -> None:
    miner = TemplateMiner()
    lines = [_event("pvc-6b1f0c9e", "worker-2"), _event("pvc-0d93a7e2", "worker-3")]
    ids = [miner.resolve(miner.cluster_of(line).id) for line in lines]
    assert ids[0] == ids[1]
    template = miner.clusters[ids[1]].template
    assert template.endswith(
        ' func="record.(*eventBroadcasterImpl).StartLogging.func1" file="event.go:<*>"'
    ), template


def test_a_reason_outside_quotes_still_runs_to_the_end_of_the_line() -> None:
    words = split_words('Shutting down: reason: node "gpu-7" drained by operator')
    assert words[-1] == 'reason: node "gpu-7" drained by operator'.replace(" ", SPACE)
