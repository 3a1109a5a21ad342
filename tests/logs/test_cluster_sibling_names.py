"""Compound names that differ in whole parts are two values (branch gather18): ``site-b`` /
``site-c``, ``com.example.weather`` / ``com.example.maps`` no longer "look alike" as two
variants of one constant word do (``SCREEN_ON`` / ``SCREEN_OFF``, ``failure;`` / ``failures;``)."""

from __future__ import annotations

from vigil.logs import TemplateMiner
from vigil.logs._slots import look_alike, sibling_names


def _ids(lines: list[str]) -> tuple[TemplateMiner, list[int]]:
    miner = TemplateMiner()
    ids = [miner.cluster_of(line).id for line in lines]
    return miner, [miner.resolve(i) for i in ids]


def test_names_sharing_some_parts_and_differing_in_others_are_siblings() -> None:
    assert sibling_names("site-b", "site-c")
    assert sibling_names("scratch-client", "home-client")
    assert sibling_names("com.example.weather", "com.example.maps")
    assert sibling_names("eu-west|task-0", "us-east|task-0")
    assert not look_alike("site-b", "site-c")
    assert not look_alike("com.example.weather", "com.example.maps")


def test_words_that_are_not_two_compound_names_are_not_siblings() -> None:
    assert not sibling_names("SCREEN_ON", "SCREEN_OFF")  # "_" joins one constant word
    assert not sibling_names("z-", "z+")  # an empty part: a sign, not a name
    assert not sibling_names("a-b", "c-d")  # nothing shared
    assert not sibling_names("jammy", "jammy-updates")  # another number of parts
    assert not sibling_names("site-b", "site-b")
    # a call or a stack frame: code locations are the event's
    assert not sibling_names("x.Client.call(Client.java:<*>)", "x.Client.open(Client.java:<*>)")
    assert not sibling_names("ipc.Client$Connection.setup", "ipc.Client.setup")
    assert look_alike("SCREEN_ON", "SCREEN_OFF")
    assert look_alike("failure;", "failures;")


def test_a_name_after_a_label_that_differs_in_one_part_is_a_value() -> None:
    miner, ids = _ids(["added vici connection: site-b", "added vici connection: site-c"])
    assert ids[0] == ids[1]
    assert miner.clusters[ids[0]].template == "added vici connection: <*>"


def test_a_dotted_name_after_its_noun_is_a_value() -> None:
    miner, ids = _ids(
        [
            "Client com.example.weather is not authorized for location",
            "Client com.example.maps is not authorized for location",
        ]
    )
    assert ids[0] == ids[1]
    assert miner.clusters[ids[0]].template == "Client <*> is not authorized for location"


def test_two_stack_frames_of_one_class_stay_two_templates() -> None:
    _, ids = _ids(
        [
            "at org.apache.hadoop.ipc.Client.call(Client.java:1471)",
            "at org.apache.hadoop.ipc.Client$Connection.setupIOstreams(Client.java:712)",
        ]
    )
    assert ids[0] != ids[1]


def test_two_states_written_as_one_word_stay_two_templates() -> None:
    _, ids = _ids(["display state: SCREEN_ON", "display state: SCREEN_OFF"])
    assert ids[0] != ids[1]


def test_hyphen_joined_names_after_their_kind_are_one_value() -> None:
    # holdout8's Lustre labels join "Mounted scratch-client" / "Mounted home-client"; before
    # this rule the pair looked alike (a shared "-client") and stayed apart
    miner, ids = _ids(["Module scratch-client mounted now", "Module home-client mounted now"])
    assert ids[0] == ids[1]
    assert miner.clusters[ids[0]].template == "Module <*> mounted now"
