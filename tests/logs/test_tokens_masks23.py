"""Values the masks split or swallow (branch masks23): the unspecified IPv6 address written
before its port without brackets is an address and a port, the Go toolchain's version glued to
what precedes it is one value.

Each rule is drawn from labels across directories (``docs/benchmarks.md``, "Values the masks
split, round of 1 Dec, fourth session"); the near misses are shapes the rule must leave as
before."""

from __future__ import annotations

from vigil.logs import TemplateMiner
from vigil.logs._tokens import mask


def test_the_unspecified_ipv6_address_before_a_port_is_an_address_and_a_port() -> None:
    # pgpool's "Setting up socket for :::9999" beside "0.0.0.0:9999" (holdout22); Node's
    # "listening on :::3000", netstat's and ss's ":::22"
    assert mask("Setting up socket for :::9999") == "Setting up socket for <*>:<*>"
    assert mask("Server listening on :::3000.") == "Server listening on <*>:<*>."
    assert mask("tcp6 0 0 :::22 :::* LISTEN") == "tcp6 <*> <*> <*>:<*> :::* LISTEN"
    assert mask("bound (:::8080)") == "bound (<*>:<*>)"
    # word by word, as the miner masks a line it has not seen the shape of
    assert TemplateMiner().mask_words("Setting up socket for :::9999") == (
        "Setting up socket for <*>:<*>"
    )


def test_other_triple_colons_and_addresses_stay_as_before() -> None:
    # not a word glued before it (a C++ scope, a separator), not without a port, and an IPv6
    # address with a port and no brackets is ambiguous: one value as before
    assert mask("std:::9 x") == "std:::<*> x"
    assert mask("foreign :::* LISTEN") == "foreign :::* LISTEN"
    assert mask("a ::: b") == "a ::: b"
    assert mask("on ::1:8080 x") == "on <*> x"
    assert mask("listening on [::]:4151") == "listening on <*>:<*>"
    assert mask("from 0.0.0.0:9999") == "from <*>:<*>"
