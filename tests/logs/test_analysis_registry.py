"""TemplateRegistry: one id per template text, counts and examples, bounded, saved and restored."""

from __future__ import annotations

import json

import pytest

from vigil.errors import InputError
from vigil.logs.analysis import TemplateRegistry


def test_the_same_text_from_two_sources_is_one_template_with_counts_per_source() -> None:
    reg = TemplateRegistry()
    a, created_a, _ = reg.observe(
        "worker <*> started", 10.0, count=3, source="n1/app", example="worker 1 started"
    )
    b, created_b, _ = reg.observe(
        "worker <*> started", 20.0, count=2, source="n2/app", example="worker 9 started"
    )
    assert a is b and (created_a, created_b) == (True, False)
    assert (a.count, a.first_seen, a.last_seen) == (5, 10.0, 20.0)
    assert a.sources == {"n1/app": 3, "n2/app": 2}
    assert a.example == "worker 1 started"
    other, created, _ = reg.observe("disk <*> full", 30.0)
    assert created and other.id == a.id + 1
    assert reg.id_of("disk <*> full") == other.id


def test_the_most_severe_level_seen_is_kept() -> None:
    reg = TemplateRegistry()
    for level in ("INFO", "ERROR", "WARN", "debug"):
        entry, _, _ = reg.observe("x <*>", 1.0, level=level)
    assert entry.level == "ERROR"


def test_the_least_recently_seen_template_is_evicted_and_its_id_returned() -> None:
    reg = TemplateRegistry(max_templates=2)
    first, _, _ = reg.observe("a", 1.0)
    reg.observe("b", 2.0)
    reg.observe("a", 3.0)  # a is fresh again, b is the oldest
    _, _, evicted = reg.observe("c", 4.0)
    assert evicted == [first.id + 1]
    assert sorted(e.template for e in reg.entries()) == ["a", "c"]


def test_a_saved_registry_comes_back_with_its_ids_and_next_id() -> None:
    reg = TemplateRegistry()
    reg.observe("a <*>", 1.0, count=4, level="WARN", source="n1/x", example="a 1")
    reg.observe("b", 2.0)
    back = TemplateRegistry.from_dict(json.loads(json.dumps(reg.to_dict())))
    assert [e.to_dict() for e in back.entries()] == [e.to_dict() for e in reg.entries()]
    new, _, _ = back.observe("c", 3.0)
    assert new.id == 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "templates: expected an object"),
        ({"next_id": 1}, "templates.templates: expected a list"),
        ({"next_id": 1, "templates": [{"id": "1"}]}, r"templates.templates\[0\].id: expected int"),
        ({"next_id": 0, "templates": []}, "templates.next_id: expected a positive integer"),
    ],
)
def test_a_malformed_saved_registry_names_the_field(data: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        TemplateRegistry.from_dict(data)
