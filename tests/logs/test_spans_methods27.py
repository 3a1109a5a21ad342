"""Two request lines of different word counts keep their methods apart (branch bugs27).

uvicorn's access log (KServe, FastAPI, vLLM's OpenAI server) prints ``client - "POST
/v1/models/m:predict HTTP/1.1" 200 OK``: a target the masks cut in two (``<*>:predict``) gives
the request line one word more than ``"GET <*>"``, so the miner compared them as a value of one
word against several (:func:`vigil.logs._spans.span_slot`) and made the method ``<*>``, where
``_slots.event_words`` keeps two methods apart in lines of one word count. A span that opens
with two methods before a target is two events; a quoted value of other words still spans."""

from __future__ import annotations

from vigil.logs import TemplateMiner


def _run(lines: list[str]) -> tuple[list[int], list[str]]:
    miner = TemplateMiner()
    ids = [miner.resolve(miner.cluster_of(line).id) for line in lines]
    return ids, [miner.clusters[i].template for i in ids]


def _access(client: str, request: str) -> str:
    return f'{client} 1 - "{request} HTTP/1.1" 200 OK'


def test_a_get_and_a_post_of_other_word_counts_stay_two_events() -> None:
    ids, templates = _run(
        [
            _access("10.244.2.1:39112", "GET /v2/health/ready"),
            _access("10.244.3.17:48212", "POST /v1/models/sklearn-iris:predict"),
            _access("10.244.2.1:39190", "GET /v2/health/live"),
        ]
    )
    assert ids[0] == ids[2] != ids[1]
    assert templates[0].split('"')[1].split()[0] == "GET"
    assert templates[1].split('"')[1].split()[0] == "POST"


def test_a_post_first_then_a_get_of_fewer_words() -> None:
    ids, templates = _run(
        [
            _access("10.244.3.17:48212", "POST /v1/models/sklearn-iris:predict"),
            _access("10.244.2.1:39112", "GET /v2/health/ready"),
        ]
    )
    assert ids[0] != ids[1]
    assert '"POST' in templates[0] and '"GET' in templates[1]


def test_a_quoted_value_of_other_word_counts_still_spans() -> None:
    ids, templates = _run(
        [
            "service 'NFS' on host web01 is CRITICAL",
            "service 'GPU Temp' on host web02 is CRITICAL",
        ]
    )
    assert ids[0] == ids[1]
    assert templates[1] == "service '<*>' on host <*> is CRITICAL"
