"""A model's identifier is kept whole, or masked whole, never in part (1 Dec, models27).

vLLM, TGI, SGLang, Ray Serve, BentoML, Open WebUI and LiteLLM print a Hugging Face repository
id (``meta-llama/Llama-3.1-8B-Instruct``), Ollama and Open WebUI an Ollama tag
(``llama3.1:8b``), PyTorch, TensorFlow, llama.cpp and DCGM a CUDA device's name
(``A100-SXM4-80GB``); the word masks cut them at their digits (``meta-llama/Llama-3.<*>``,
``llama3.<*>:<*>``) or took the GPU for a value, where the labels keep a model shown with one
value as written and make one that varies one ``<*>`` (which the miner does for a kept word).
A provider's route (``hosted_vllm/BAAI/bge-m3``) and a keyed id (``model=...``) are one value.
The near misses (a path, a pod, a version, a key's value, a protocol, a port, a size) stay as
they were."""

from __future__ import annotations

from vigil.logs import TemplateMiner
from vigil.logs._models import keep_models
from vigil.logs._tokens import mask


def test_a_repository_id_is_kept_whole() -> None:
    assert mask("Loading model meta-llama/Llama-3.1-8B-Instruct from /models/x") == (
        "Loading model meta-llama/Llama-3.1-8B-Instruct from <*>"
    )
    for model in (
        "Qwen/Qwen2.5-7B-Instruct",
        "facebook/opt-125m",
        "mistralai/Mistral-7B-Instruct-v0.3",
        "sentence-transformers/all-MiniLM-L6-v2",
        "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
        "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
        "mistralai/Mixtral-8x7B-v0.1",
    ):
        assert mask(model) == model
        assert mask(f"served {model}.") == f"served {model}."


def test_an_ollama_tag_and_a_gpu_name_are_kept_whole() -> None:
    assert mask("model 'llama3.1:8b' not found") == "model 'llama3.1:8b' not found"
    assert mask("qwen2.5:7b-instruct-q4_K_M") == "qwen2.5:7b-instruct-q4_K_M"
    assert mask("mixtral:8x7b") == "mixtral:8x7b"
    assert mask("using device (NVIDIA A100-SXM4-80GB) - 80627 MiB free") == (
        "using device (NVIDIA A100-SXM4-80GB) - <*> MiB free"
    )
    assert mask("name: Tesla V100-SXM2-16GB") == "name: Tesla V100-SXM2-16GB"
    assert mask("A100-PCIE-40GB") == "A100-PCIE-40GB"


def test_a_routed_or_keyed_id_is_one_value() -> None:
    assert mask("Model hosted_vllm/BAAI/bge-m3 not found") == "Model <*> not found"
    assert mask("litellm.acompletion(model=hosted_vllm/Qwen/Qwen2.5-7B-Instruct)") == (
        "litellm.acompletion(model=<*>)"
    )
    assert mask("model=meta-llama/Llama-3.1-8B") == "model=<*>"
    assert mask("ollama/llama3.1:8b") == "<*>"


def test_a_varying_model_is_one_value_in_its_template() -> None:
    miner = TemplateMiner()
    for model in ("meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen2.5-7B-Instruct"):
        for n in (1, 2):
            miner.add(f"Loading model {model} with tensor_parallel_size={n}")
    templates = {c.template for c in miner.clusters.values()}
    assert templates == {"Loading model <*> with tensor_parallel_size=<*>"}
    # the same organisation, or none: still the whole id, never "meta-llama/<*>.<*>"
    miner = TemplateMiner()
    for model, n in (("meta-llama/Llama-3.1-8B-Instruct", 2), ("meta-llama/Llama-3.1-70B", 8)):
        miner.add(f"Loading model {model} on {n} GPUs")
    miner.add("Loading model Qwen/Qwen2.5-7B-Instruct on 1 GPUs")
    for tag in ("llama3.1:8b", "qwen2.5:7b", "llama3.1:70b"):
        miner.add(f"model {tag} loaded in 3 s")
    for gpu in ("A100-SXM4-80GB", "H100-SXM5-80GB"):
        miner.add(f"GPU 0: NVIDIA {gpu} ok")
    templates = {c.template for c in miner.clusters.values()}
    assert templates == {
        "Loading model <*> on <*> GPUs",
        "model <*> loaded in <*> s",
        "GPU <*>: NVIDIA <*> ok",
    }


def test_paths_pods_versions_and_keys_stay_as_they_were() -> None:
    for text in (
        "GET /v1/models",
        "pod default/nginx-7c5b8d6f4-x2k9p",
        "pod inference/vllm-llama3-70b-6d9f7c8b5-k2x8q",
        "job team-a/bert-ft-42",
        "backup velero/daily-20261129100001",
        "version v1.2.3",
        "key=value",
        "GET / HTTP/1.1",
        "server nginx/1.25.3",
        "host es02:9200",
        "size:4.1kB exec-time:41ms",
        "ua w/go1.21.6",
        "shard imagenet/train/shard-00412.tar",
        "ns/web-0",
        "http://hub/meta-llama/Llama-3.1-8B",
        "/models/meta-llama/Llama-3.1-8B",
    ):
        assert keep_models(text, mask) is None, text


def test_a_gpu_name_written_with_spaces_keeps_its_memory() -> None:
    miner = TemplateMiner()
    for n in (0, 1, 2):
        miner.add(f"GPU index {n} NVIDIA H100 80GB HBM3 bar:1 supports GDS")
    for n in (0, 1):
        miner.add(f"GPU {n}: NVIDIA A100 80GB PCIe (UUID: GPU-{n}f3a)")
    templates = {c.template for c in miner.clusters.values()}
    assert "GPU index <*> NVIDIA H100 80GB HBM3 bar:<*> supports GDS" in templates
    assert any("NVIDIA A100 80GB PCIe" in t for t in templates), templates
    # a size elsewhere is a value: not after a GPU model, not before a memory's kind
    miner = TemplateMiner()
    for size in ("80GB", "40GB"):
        miner.add(f"volume H100 {size} free")
        miner.add(f"pool {size} HBM3 ok")
    templates = {c.template for c in miner.clusters.values()}
    assert templates == {"volume H100 <*> free", "pool <*> HBM3 ok"}
