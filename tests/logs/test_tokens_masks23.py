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


def test_the_go_toolchain_version_glued_to_what_precedes_it_is_one_value() -> None:
    # nsqd's "(built w/go1.21.6)" (holdout22); Prometheus and its exporters' build context
    # "(go=go1.21.6, ...)"; a Go release's first version has two parts, a candidate a suffix
    assert mask("nsqd v1.3.0 (built w/go1.21.6)") == "nsqd <*> (built w/<*>)"
    assert mask("build_context=(go=go1.21.6, platform=linux/amd64)") == (
        "build_context=(go=<*>, platform=linux/amd64)"
    )
    assert mask("compiled with go1.22rc1") == "compiled with <*>"
    assert mask("built with go1.20, ok") == "built with <*>, ok"
    # alone it was one value already (Gitea, MinIO, CockroachDB, Syncthing)
    assert mask("(go1.22.8 linux-amd64)") == "(<*> linux-amd64)"


def test_a_go_toolchain_inside_a_path_or_a_name_stays_the_paths() -> None:
    # inside a path the path is the value; glued to a longer name it is not Go's version
    assert mask("GOROOT=/usr/local/go1.21.6/bin ok") == "GOROOT=<*> ok"
    assert mask("tag algo1.5 x") == "tag algo1.<*> x"
