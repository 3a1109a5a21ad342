"""Words joined by ``@`` (branch objrefs33): a bare name at an identity hash or a port keeps its
name (``ServerConnector@<*>``, ``vty@<*>``), a user at a numbered host is two values
(``<*>@<*>``); mailboxes, quoted node names, qualified class names and the rest stay as before.
Each test holds words that failed on main's code and near misses the rules must not change."""

from __future__ import annotations

from vigil.logs._atnames import mask_at_names
from vigil.logs._tokens import mask
from vigil.logs._wholes import AT_PORT


def test_a_bare_name_at_a_hash_or_port_keeps_the_name() -> None:
    # Jetty's connector and server (Java's Object.toString()), FRR's vty at its port
    assert mask("Started ServerConnector@5a7e1f3b{HTTP/1.1, x}") == (
        "Started ServerConnector@<*>{HTTP/1.1, x}"
    )
    assert mask("Started Server@2c9f9fb0{STARTING}[11.0.24,sto=0]") == (
        "Started Server@<*>{STARTING}[<*>,sto=<*>]"
    )
    assert mask("zebra 9.1.1 starting: vty@2601") == "zebra <*> starting: vty@<*>"
    assert mask("starting: vty@2605, bgp@<all>:179") == "starting: vty@<*>, bgp@<all>:<*>"
    assert mask("Pool@deadbeef1 closed.") == "Pool@<*> closed."


def test_what_is_not_a_bare_name_at_a_hash_is_masked_as_before() -> None:
    # a class qualified by its package is one value (NiFi's and HealthApp's labels)
    assert mask("Saved flow controller org.apache.nifi.FlowController@6a2b1f0c //") == (
        "Saved flow controller <*> //"
    )
    assert mask("getTodaySportData mStepsRecordManager=com.huawei.health.g.c@8a2a501") == (
        "getTodaySportData mStepsRecordManager=<*>"
    )
    # a logger header's class and line, glued to the thread before it
    assert mask("[main:QuorumPeer@1802] - x") == "[main:<*>] - x"
    # hex without a digit (a mailbox's shape), fewer than four digits, a version, a port after
    # the hash
    assert mask("a@beef b@123 left-pad@1.3.0 x@1234:80") == "<*> b@<*> left-pad@<*> <*>:<*>"


def test_a_user_at_a_numbered_host_is_two_values() -> None:
    # PBS's and SGE's requester, pgbouncer-style user at a node
    assert mask("Job deleted at request of carol@login01") == "Job deleted at request of <*>@<*>"
    assert mask("Type 71 request received from root@login01, sock=25") == (
        "Type <*> request received from <*>@<*>, sock=<*>"
    )
    assert mask_at_names("by svc-train@login02 now") == f"by {AT_PORT} now"


def test_mailboxes_and_other_names_at_hosts_stay_one_value() -> None:
    # a mail domain or a dotted host (a dot after '@'), a provider without a digit (Traefik's
    # router), a quoted Erlang node name, a dotted name before '@' (SGE's queue instance)
    assert mask("Authenticated as ana@chat.example.org") == "Authenticated as <*>"
    assert mask("execd@node009.cluster reports") == "<*> reports"
    assert mask("routerName=grafana@docker") == "routerName=<*>"
    assert mask("alarm set on node 'rabbit@mq-2'.") == "alarm set on node '<*>'."
    assert mask('in queue "all.q@node009" x') == 'in queue "<*>" x'
    assert mask("principal alice@LAB.INTERNAL") == "principal <*>"
    # a host with a port, an image digest, a URL's user: as before
    assert mask("ssh user@host01:22 ok") == "ssh <*>:<*> ok"
    assert mask("pull ghcr.io/org/app@sha256:0123456789abcdef0123 ok") == "pull <*> ok"
    assert mask("driver: spark://Sched@10.1.2.3:4040") == "driver: spark://<*>"
    # a systemd unit's instance, an npm package's version, an IP at a port: unchanged
    assert mask("Started getty@tty1.service.") == "Started <*>."
    assert mask("IXFR remote 10.6.0.3@53 TCP") == "IXFR remote <*>@<*> TCP"
