"""A dotted call with its argument glued to it, opening a message: the call is the event."""

from __future__ import annotations

from vigil.logs import TemplateMiner

ROUTED = [  # LiteLLM's router: the model a call went to, a route masked whole or a plain word
    "litellm.acompletion(model=hosted_vllm/meta-llama/Llama-3.1-70B-Instruct) 200 OK",
    "litellm.acompletion(model=hosted_vllm/Qwen/Qwen2.5-7B-Instruct) 200 OK",
    "litellm.acompletion(model=azure/gpt-4o) 200 OK",
]


def test_a_call_whose_argument_the_masks_left_a_word_joins_the_calls_masked_whole() -> None:
    m = TemplateMiner()
    ids = {m.add(line).cluster_id for line in ROUTED}
    assert len(ids) == 1
    assert m.add(ROUTED[-1]).template == "litellm.acompletion(model=<*>) <*> OK"


def test_a_qualified_call_with_two_arguments_is_one_event() -> None:
    m = TemplateMiner()  # a cache key, an event and its sequence number: values of the call
    one = m.add("cache.get(user:alice) missed, loading from the database")
    two = m.add("cache.get(user:bob) missed, loading from the database")
    assert one.cluster_id == two.cluster_id
    assert two.template == "cache.get(user:<*>) missed, loading from the database"
    sent = m.add("Dispatcher.send(OrderCreated#12) done in 3 ms").cluster_id
    again = m.add("Dispatcher.send(UserDeleted#7) done in 4 ms")
    assert again.cluster_id == sent
    assert again.template == "Dispatcher.send(<*>) done in <*> ms"


def test_two_calls_stay_two_events() -> None:
    m = TemplateMiner()
    completion = m.add(ROUTED[0]).cluster_id
    embedding = m.add("litellm.aembedding(model=hosted_vllm/BAAI/bge-m3) 200 OK").cluster_id
    assert completion != embedding
    assert m.add(ROUTED[2]).cluster_id == completion
