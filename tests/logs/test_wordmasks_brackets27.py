"""A bracketed IPv6 address beside a bracketed IPv4 address keeps its brackets (branch bugs27).

``mask_bracketed_ipv6`` leaves the brackets of a line that also brackets an IPv4 address (Exim
prints every address so: ``listening for SMTP on [0.0.0.0]:25 [::]:25``, ``H=host
[192.0.2.1]``; holdout10's labels write ``[<*>]:<*> [<*>]:<*>``). The miner masks word by word,
so the rule saw ``[::]:25`` alone and took the brackets off; the word masks now look at the
line. A bracketed IPv6 address with no IPv4 one beside it is still ``<*>:<*>`` (Vault, Loki,
Squid)."""

from __future__ import annotations

from vigil.logs import TemplateMiner, mask


def test_exims_two_listening_sockets_keep_their_brackets() -> None:
    line = "exim 4.96 daemon started: pid=812, listening for SMTP on [0.0.0.0]:25 [::]:25"
    miner = TemplateMiner()
    assert miner.mask_words(line) == mask(line)
    assert miner.mask_words(line).endswith("on [<*>]:<*> [<*>]:<*>")
    assert miner.add(line).template.endswith("on [<*>]:<*> [<*>]:<*>")


def test_a_full_ipv6_address_beside_an_ipv4_one() -> None:
    line = "H=mx.example.org [2001:db8::25] from [198.51.100.23]:25"
    assert TemplateMiner().mask_words(line) == "H=<*> [<*>] from [<*>]:<*>"


def test_an_ipv6_address_alone_loses_its_brackets() -> None:
    miner = TemplateMiner()
    assert miner.mask_words("core: listening on [::]:8201") == "core: listening on <*>:<*>"
    assert miner.mask_words("dial [2001:db8::1]:443 from 10.0.0.5") == "dial <*>:<*> from <*>"
