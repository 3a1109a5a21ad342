"""Values the masks split or swallow (branch masks22): a product token keeps the bracket it did
not open out of its value, a version with its build after ``+`` is one value, an ISO time after
``key:`` is one value.

Each rule is drawn from labels across directories (``docs/benchmarks.md``, "Values the masks
split, round of 2 Dec"); the near misses are shapes the rule must leave as before."""

from __future__ import annotations

from vigil.logs._tokens import mask


def test_a_product_token_leaves_a_closing_bracket_it_did_not_open() -> None:
    # lighttpd's "(lighttpd/1.4.76)" (holdout20): the bracket is the message's, not the value's
    assert mask("server started (lighttpd/1.4.76)") == "server started (<*>)"
    assert mask("agent (curl/8.5.0), retrying") == "agent (<*>), retrying"
    assert mask("[openresty/1.21.4.2] ready") == "[<*>] ready"
    assert mask("(Mozilla/5.0+(X11;+Linux)) done") == "(<*>) done"


def test_a_product_token_keeps_the_brackets_it_opens() -> None:
    # a user agent written with '+' for its spaces: its own brackets are inside the value
    assert mask("ua Mozilla/5.0+(X11;+Linux+x86_64)+Gecko/20100101 done") == "ua <*> done"
    assert mask("client curl/8.5.0 done") == "client <*> done"
