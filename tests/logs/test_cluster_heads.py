"""Names opening a message (branch names20): three lower-case names in the first place of one
statement, the rest equal, are values of one slot (:mod:`vigil.logs._heads`), although Drain's
prefix rule files each under its own first word; two names, capitalised words, verb forms and
look-alike names keep their events apart."""

from __future__ import annotations

from vigil.logs import TemplateMiner, dumps, loads


def _ids(lines: list[str], miner: TemplateMiner | None = None) -> tuple[TemplateMiner, list[int]]:
    miner = miner or TemplateMiner()
    ids = [miner.cluster_of(line).id for line in lines]
    return miner, [miner.resolve(i) for i in ids]


COMMANDS = [
    "backup command end: completed successfully (74184ms)",
    "expire command end: completed successfully (492ms)",
    "archive-push command end: completed successfully (113ms)",
]


def test_a_head_name_is_a_lower_case_name_not_a_verb_form() -> None:
    from vigil.logs._heads import head_name

    assert head_name("backup")
    assert head_name("archive-push")
    assert head_name("eve-log")
    assert head_name("max_dbs_open")
    assert not head_name("Added")  # the verb of a sentence
    assert not head_name("DegradedArray")  # an event's CamelCase name
    assert not head_name("starting")
    assert not head_name("created")
    assert not head_name("error:")  # a label
    assert not head_name("<*>")


def test_three_commands_opening_one_statement_are_one_event() -> None:
    miner, ids = _ids(COMMANDS)
    assert len(set(ids)) == 1
    assert miner.clusters[ids[0]].template == "<*> command end: completed successfully (<*>)"


def test_the_merge_is_reported_as_an_id_remapping() -> None:
    miner = TemplateMiner()
    first, second, third = (miner.add(line) for line in COMMANDS)
    assert first.cluster_id != second.cluster_id
    assert third.cluster_id == first.cluster_id
    assert third.changed
    assert third.remapped == ((second.cluster_id, first.cluster_id),)
    assert miner.resolve(second.cluster_id) == first.cluster_id


def test_a_fourth_name_joins_the_slot_also_after_a_restart() -> None:
    miner, _ = _ids(COMMANDS)
    loaded = loads(dumps(miner))
    line = "restore command end: completed successfully (5ms)"
    assert loaded.add(line).cluster_id == miner.add(line).cluster_id
    assert len(loaded.templates()) == 1


def test_outputs_named_with_their_files_are_one_event() -> None:
    # the output's file, named after it, differs too: two joined names of one skeleton
    lines = [
        "fast output device (regular) initialized: fast.log",
        "eve-log output device (regular) initialized: eve.json",
        "stats output device (regular) initialized: stats.log",
    ]
    miner, ids = _ids(lines)
    assert len(set(ids)) == 1
    assert miner.clusters[ids[0]].template == "<*> output device (regular) initialized: <*>"


def test_two_names_opening_one_statement_stay_two_events() -> None:
    _, ids = _ids(COMMANDS[:2])
    assert len(set(ids)) == 2
    _, ids = _ids(
        [
            "created container: driver=docker container_id=4f2a",
            "removed container: driver=docker container_id=4f2a",
        ]
    )
    assert len(set(ids)) == 2


def test_three_events_named_by_their_first_word_stay_apart() -> None:
    near_misses = [
        [  # capitalised verbs
            "Added request to the scheduler queue",
            "Aborted request to the scheduler queue",
            "Finished request to the scheduler queue",
        ],
        [  # CamelCase event names
            "DegradedArray event detected on md device /dev/md0",
            "NewArray event detected on md device /dev/md0",
            "RebuildStarted event detected on md device /dev/md0",
        ],
        [  # verb forms
            "starting worker pool for queue default",
            "stopping worker pool for queue default",
            "restarting worker pool for queue default",
        ],
        [  # look-alike words: variants of one constant
            "upload task queued for bucket logs",
            "uploads task queued for bucket logs",
            "download task queued for bucket logs",
        ],
    ]
    for lines in near_misses:
        _, ids = _ids(lines)
        assert len(set(ids)) == 3, lines


def test_the_rest_of_the_line_must_agree() -> None:
    # three names, but another word differs as well: three statements
    _, ids = _ids(
        [
            "backup command end: completed successfully (74184ms)",
            "expire command end: aborted with exception (492ms)",
            "archive-push command end: completed with warnings (113ms)",
        ]
    )
    assert len(set(ids)) == 3


def test_the_index_stays_bounded_and_forgets_evicted_clusters() -> None:
    miner = TemplateMiner(max_clusters=50)
    for n in range(600):  # every line a statement of its own, each opened by a name
        miner.add(f"job{n} command {'abcdefghijklmnopqrstuvwxyz'[n % 26]}{n // 26} ended")
    heads = miner._heads
    assert len(miner.clusters) <= 50
    assert heads.entries <= 4 * len(miner.clusters) + 1024
    for count, second, third in list(heads.by_rest):
        near = heads.near(["x", second, third, *["y"] * (count - 3)], miner.clusters)
        assert all(miner.clusters[c.id] is c for c in near)  # never an evicted cluster
    # and a slot made of three names still forms after the evictions
    ids = [miner.add(line).cluster_id for line in COMMANDS]
    assert len({miner.resolve(i) for i in ids}) == 1
    assert miner.add("restore command end: completed successfully (5ms)").template == (
        "<*> command end: completed successfully (<*>)"
    )


def test_a_slot_formed_in_a_crowded_bucket_answers_as_after_a_restart() -> None:
    from vigil.logs._crowded import CROWDED_BUCKET

    miner = TemplateMiner()
    for n in range(CROWDED_BUCKET + 8):  # the "backup" bucket of six words: crowded
        miner.add(f"backup command end: step{'abcdefghij'[n % 10]}{n // 10} x{n}y done")
    miner.add(COMMANDS[0])
    miner.add(COMMANDS[1])
    merged = miner.add(COMMANDS[2])
    assert merged.template == "<*> command end: completed successfully (<*>)"
    loaded = loads(dumps(miner))
    for line in ("backup command end: completed successfully (9ms)", COMMANDS[1]):
        assert loaded.add(line).cluster_id == miner.add(line).cluster_id == merged.cluster_id
