"""Masking rules added in the holdout11 round: a protocol's name with its version."""

from __future__ import annotations

from vigil.logs._tokens import mask


def test_a_protocol_with_its_version_outside_quotes_is_kept() -> None:
    assert mask("generated 2 bytes (HTTP/1.1 200)") == "generated <*> bytes (HTTP/1.1 <*>)"
    assert mask("SIP/2.0 180 Ringing") == "SIP/2.0 <*> Ringing"
    assert mask("negotiated HTTP/2 with 10.0.0.1") == "negotiated HTTP/2 with <*>"
    # two of them, each kept
    assert mask("HTTP/1.0 then HTTP/1.1") == "HTTP/1.0 then HTTP/1.1"


def test_a_quoted_request_line_or_a_product_keeps_its_masking() -> None:
    # a quoted request line is one value the miner groups by its words (Loghub's "GET <*>")
    assert mask('"GET /a HTTP/1.1" 200') == '"GET <*> HTTP/<*>" <*>'
    assert mask("agent curl/8.5.0 done") == "agent <*> done"
    # lower case or a longer name is not a protocol token
    assert mask("ratio 3/4 and abc/1.2") == "ratio <*>/<*> and <*>"
    assert mask("intellimouse PS/2") == "intellimouse PS/<*>"
