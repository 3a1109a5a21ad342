"""A bracketed request id opening a message: one statement, one cluster, whatever its digit
count (branch bugs27).

The word masks take an id with many digits whole (``[K7QX2M9Z]`` -> ``[<*>]``, filed with the
masked subjects) and leave one with a single digit as a weak word (``[KQXZM9AB]``), which
was filed under its bracketed name (``[<>]``): the two never met, and one statement opened a
cluster in each bucket (bench/logparse_ab.py's ``--reqids`` stream: 6 clusters for its 3
statements). A bracketed word that loosens to ``[<*>]`` is now filed as the masked one is;
the miner's weak-word rule still keeps an id that is constant per statement (FRR's
``[XXXXX-XXXXX]`` message ids, one per statement)."""

from __future__ import annotations

from vigil.logs import TemplateMiner


def _run(lines: list[str]) -> tuple[list[int], list[str]]:
    miner = TemplateMiner()
    ids = [miner.resolve(miner.cluster_of(line).id) for line in lines]
    return ids, [miner.clusters[i].template for i in ids]


def test_request_ids_of_few_and_many_digits_are_one_statement() -> None:
    ids, templates = _run(
        [
            "[KQXZMWAB] GET /api/items took 12 ms",  # no digit: a word
            "[KQXZM9AB] GET /api/items took 15 ms",  # one digit: a weak word
            "[K7QX2M9Z] GET /api/items took 9 ms",  # many: masked whole
            "[PLMQ4RTA] GET /api/items took 31 ms",
            "[X81F0C4D] GET /api/items took 7 ms",
        ]
    )
    assert ids[1:] == [ids[1]] * 4
    assert templates[-1] == "[<*>] GET <*> took <*> ms"


def test_the_masked_id_first_then_one_of_few_digits() -> None:
    ids, templates = _run(
        [
            "[K7QX2M9Z] user u12 logged in from 10.0.0.7",
            "[ABCDE1FG] user u40 logged in from 10.0.0.9",
            "[ZZ4QX0W1] user u77 logged in from 10.0.0.3",
        ]
    )
    assert ids == [ids[0]] * 3
    assert templates[-1].startswith("[<*>] user")


def test_catalogue_ids_of_few_digits_stay_words_per_statement() -> None:
    ids, templates = _run(
        [
            "BGP: [RZMGY-Q6ZVK] Peer 10.0.0.1 went down",
            "BGP: [M59KS-A3ZXZ] Peer 10.0.0.2 is established",
            "BGP: [RZMGY-Q6ZVK] Peer 10.0.0.3 went down",
            "BGP: [M59KS-A3ZXZ] Peer 10.0.0.4 is established",
        ]
    )
    assert ids[0] == ids[2] != ids[1] == ids[3]
    assert templates[0] == "BGP: [RZMGY-Q6ZVK] Peer <*> went down"
    assert templates[1] == "BGP: [M59KS-A3ZXZ] Peer <*> is established"
