"""A rooted path ending in a custom method or a route parameter is one value (branch bugs27).

Google's API style names an action on a resource after a colon (``/v1/models/m:predict``:
TF Serving, KServe, Vertex AI; ``:generateContent``, Gemini), and Express-style routes write
a parameter so (``/api/dashboards/uid/:uid``, Grafana's handler). The path mask stopped at the
colon (``<*>:predict``), so one request line had a word more than another of the same
statement and the two requests opened two clusters."""

from __future__ import annotations

from vigil.logs import TemplateMiner, mask


def test_a_custom_method_stays_in_its_path() -> None:
    assert mask("/v1/models/sklearn-iris:predict") == "<*>"
    assert mask("/v1beta/models/gemini-pro:generateContent?alt=sse") == "<*>"
    assert mask("handler=/api/dashboards/uid/:uid") == "handler=<*>"


def test_two_targets_of_one_statement_are_one_cluster() -> None:
    miner = TemplateMiner()
    a = miner.add('10.244.3.17:48212 1 - "POST /v1/models/sklearn-iris:predict HTTP/1.1" 200 OK')
    b = miner.add('10.244.3.17:48220 1 - "POST /v2/models/xgb-churn/infer HTTP/1.1" 200 OK')
    assert miner.resolve(a.cluster_id) == miner.resolve(b.cluster_id)
    assert b.template == '<*>:<*> <*> - "POST <*>" <*> OK'


def test_a_source_line_and_a_path_list_keep_their_colons() -> None:
    assert mask("/src/a.c:12:5:") == "<*>:<*>:<*>:"
    assert mask("/usr/local/bin:/usr/bin") == "<*>:<*>"
    assert mask("/a/b:foo:bar") == "<*>:foo:bar"
