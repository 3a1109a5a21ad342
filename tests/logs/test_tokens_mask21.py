"""Values the masks split or join (branch mask21): an IP address at a port is an address and
a port, a reverse-DNS name is one value, a relative path keeps a part an earlier mask found.

Each rule is drawn from labels that agree across directories (``docs/benchmarks.md``, "Values
the masks split, round of 1 Dec"); the near misses are shapes the rule must leave as before."""

from __future__ import annotations

from vigil.logs._tokens import mask


def test_an_ip_address_at_a_port_is_an_address_and_a_port() -> None:
    # Knot DNS (holdout20) and ClamAV (holdout19): the labels write <*>@<*>, as <*>:<*> for an
    # address with its port after a colon
    assert mask("binding to interface 10.6.0.2@53") == "binding to interface <*>@<*>"
    assert mask("binding to interface 2001:db8:6::2@53") == "binding to interface <*>@<*>"
    assert mask("refresh, remote 10.6.0.9@53, remote serial 2026112204") == (
        "refresh, remote <*>@<*>, remote serial <*>"
    )
    assert mask("IXFR, outgoing, remote 10.6.0.3@53 TCP, started") == (
        "IXFR, outgoing, remote <*>@<*> TCP, started"
    )
    assert mask("instream(127.0.0.1@51234): Eicar FOUND") == "instream(<*>@<*>): Eicar FOUND"


def test_what_only_looks_like_an_address_at_a_port_is_one_value_as_before() -> None:
    # a version at its build (ntpd), a sequence number at a time (Windows CBS), a user at a
    # host (two values since objrefs33: tests/logs/test_tokens_atnames33.py), an address at a
    # named network (Lustre's NID), a port with more after it
    assert mask("ntpd 4.2.8p15@1.3728-o Wed") == "ntpd <*> <*>"
    assert mask("CSI 00000001@2016/9/28:16:03:58.446 Expecting") == "CSI <*> Expecting"
    assert mask("job queued by svc-train@login02 now") == "job queued by <*>@<*> now"
    assert mask("peer 10.10.0.23@o2ib down") == "peer <*> down"
    assert mask("from 10.0.0.1@53/udp x") == "from <*>/udp x"
    assert mask("from 10.0.0.1@53.5 x") == "from <*> x"


def test_a_reverse_dns_name_is_one_value() -> None:
    # Knot's reverse zone (holdout20), as BIND, Unbound, dnsmasq and CoreDNS print PTR names
    assert mask("[0.6.10.in-addr.arpa.] zone will be loaded") == "[<*>] zone will be loaded"
    assert mask("query: 1.0.0.10.in-addr.arpa IN PTR +") == "query: <*> IN PTR +"
    assert mask("query[PTR] 5.0.0.10.in-addr.arpa from 10.0.0.5") == ("query[PTR] <*> from <*>")
    name = "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa."
    assert mask(f"{name} PTR ok") == "<*> PTR ok"
    assert mask("reply for 1.0.0.10.in-addr.arpa.") == "reply for <*>."


def test_what_only_looks_like_a_reverse_name_is_masked_as_before() -> None:
    # a forward zone kept whole in brackets, a name with a word among its labels
    assert mask("[example.com.] zone will be loaded") == "[example.com.] zone will be loaded"
    assert mask("[lab.internal.] refresh") == "[lab.internal.] refresh"
    assert mask("zone ns.in-addr.arpa x") == "zone <*> x"


def test_a_relative_path_holding_a_time_is_one_value() -> None:
    # Proxmox Backup Server's snapshot (holdout20's vzdump): type, id and an ISO time, which
    # the ISO rule masks before the path rule looks for a number
    assert mask("creating Proxmox Backup Server archive 'vm/101/2026-11-29T02:00:02Z'") == (
        "creating Proxmox Backup Server archive '<*>'"
    )
    assert mask("snapshot ct/203/2026-11-29T02:10:00Z done") == "snapshot <*> done"
    # a path of names only stays, as before
    assert mask("at kv/kvserver/replica.go x") == "at kv/kvserver/replica.go x"


def test_the_unspecified_ipv6_address_alone_before_its_port_is_an_address() -> None:
    # MIT krb5kdc (holdout18) writes udp 0.0.0.0.88 and udp ::.88 in one template; OpenSSH's
    # "Server listening on :: port 22."; BIND's ::#53
    assert mask("listening on fd 10: udp ::.88 (pktinfo)") == (
        "listening on fd <*>: udp <*> (pktinfo)"
    )
    assert mask("listening on fd 9: udp 0.0.0.0.88 (pktinfo)") == (
        "listening on fd <*>: udp <*> (pktinfo)"
    )
    assert mask("Server listening on :: port 22.") == "Server listening on <*> port <*>."
    assert mask("query from ::#53 x") == "query from <*>#<*> x"


def test_a_double_colon_that_is_no_address_stays() -> None:
    # a separator between fields, a scope in a name
    assert mask("10:00 :: INFO :: started") == "<*> :: INFO :: started"
    assert mask("in Foo::Bar and std:: x") == "in Foo::Bar and std:: x"


def test_the_loopback_host_with_its_port_is_one_value() -> None:
    # Caddy's admin address (holdout9, holdout17) and CUPS (holdout13): a host name with its
    # port is <*> (the README's convention, after Proxifier and Hadoop), localhost too
    assert mask('{"address": "localhost:2019", "origins": ["//localhost:2019"]}') == (
        '{"address": "<*>", "origins": ["//<*>"]}'
    )
    assert mask("Listening to localhost:631 on fd 6...") == "Listening to <*> on fd <*>..."
    assert mask("dev server at localhost:8080.") == "dev server at <*>."
    # the host alone, or glued to more, stays
    assert mask("from localhost.") == "from localhost."
    assert mask("to localhost:80x now") == "to localhost:<*> now"
