"""Names the words before them make values (branch meaning16): a user or a host seen once."""

from __future__ import annotations

from vigil.logs import TemplateMiner
from vigil.logs._named import named_values
from vigil.logs._tokens import mask


def _named(line: str) -> str:
    words = line.split()
    masks = [mask(w) for w in words]
    named_values(words, masks)
    return " ".join(masks)


def test_an_account_after_for_user_as_user_invalid_user_is_a_value() -> None:
    assert _named("session closed for user fztu") == "session closed for user <*>"
    assert _named("session opened for user fztu by (uid=0)") == (
        "session opened for user <*> by (uid=<*>)"
    )
    assert _named("connect to service home initially as user alice, (uid=1000)") == (
        "connect to service home initially as user <*>, (uid=<*>)"
    )
    assert _named("Invalid user oracle from 10.0.0.5") == "Invalid user <*> from <*>"


def test_an_account_between_for_and_from_an_address_is_a_value() -> None:
    assert _named("Accepted password for fztu from 10.0.0.1 port 22 ssh2") == (
        "Accepted password for <*> from <*> port <*> ssh2"
    )
    # "for invalid user X from": "invalid" is followed by "user", not "from": kept
    assert _named("Failed password for invalid user test from 10.0.0.1") == (
        "Failed password for invalid user <*> from <*>"
    )


def test_a_host_after_on_host_is_a_value() -> None:
    assert _named("Starting executor ID 3 on host worker") == "Starting executor ID <*> on host <*>"


def test_words_in_other_contexts_are_kept() -> None:
    # the labels keep these: a bare "user X", "user=X", "for X from" with no address after it
    assert _named("returning control to user process") == "returning control to user process"
    assert _named("check pass; user unknown") == "check pass; user unknown"
    assert _named("rhost=host1 user=guest") == "rhost=host1 user=guest"
    assert _named("Waiting for input from upstream") == "Waiting for input from upstream"
    assert _named("no host name found for IP address 10.0.0.1") == (
        "no host name found for IP address <*>"
    )
    assert _named("Unsuccessful login attempt: Invalid user or password") == (
        "Unsuccessful login attempt: Invalid user or password"
    )
    assert _named("Connected to host via ssh") == "Connected to host via ssh"


def test_a_message_seen_once_shows_its_user_as_a_value() -> None:
    miner = TemplateMiner()
    accepted = miner.cluster_of("Accepted password for fztu from 10.0.0.1 port 22 ssh2")
    assert accepted.template == "Accepted password for <*> from <*> port <*> ssh2"
    opened = miner.cluster_of("session opened for user fztu by (uid=0)")
    assert opened.template == "session opened for user <*> by (uid=<*>)"
    # a second account joins the same template (before: a second cluster, merged later)
    again = miner.cluster_of("Accepted password for root from 10.0.0.2 port 23 ssh2")
    assert again.id == accepted.id


def test_a_weak_account_name_is_masked_and_lines_of_one_shape_agree() -> None:
    miner = TemplateMiner()
    first = miner.cluster_of("session closed for user user1")
    assert first.template == "session closed for user <*>"  # before: "... user user1"
    assert miner.cluster_of("session closed for user user2").id == first.id


def test_a_boolean_ending_the_line_is_a_value_and_one_inside_it_is_kept() -> None:
    assert _named("initUserPrivacy the userPrivacy is true") == (
        "initUserPrivacy the userPrivacy is <*>"
    )
    assert _named("registersensorsuccess: false") == "registersensorsuccess: <*>"
    assert _named("start commit{,optimize=false}") == "start commit{,optimize=false}"
    assert _named("udp 34 false 512") == "udp <*> false <*>"
    assert _named("uploadStaticsToDB failed message=true") == (
        "uploadStaticsToDB failed message=true"
    )
    miner = TemplateMiner()
    assert miner.cluster_of("isScreenOn true").template == "isScreenOn <*>"
