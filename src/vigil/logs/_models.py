"""A model's identifier, kept whole: a Hugging Face repository id, an Ollama tag, a GPU's name.

Called by :func:`vigil.logs._tokens.mask` first, on a word that holds a slash, a colon or a
hyphen: the parts of the word around an identifier are masked as before, the identifier is kept
as written; :func:`keep_gpu_memory` by :class:`vigil.logs._wordmasks.WordMasks` after the word
masks, for a GPU's name written with spaces (``NVIDIA H100 80GB HBM3``). Pure string rewriting.

Model-serving programs print the model they serve on most lines: vLLM (``model=...``,
``Loading model meta-llama/Llama-3.1-8B-Instruct``), TGI, SGLang, Ray Serve, BentoML, KServe,
Triton, LiteLLM (``hosted_vllm/BAAI/bge-m3``: a provider's prefix), Open WebUI and
text-embeddings-inference print a Hugging Face repository id, ``org/name``; Ollama, Open WebUI
and LiteLLM's ``ollama/`` provider print an Ollama tag, ``name:size`` (``llama3.1:8b``,
``qwen2.5:7b-instruct-q4_K_M``); PyTorch, TensorFlow, llama.cpp, Ollama, DCGM and nvidia-smi
print the CUDA device's name (``NVIDIA A100-SXM4-80GB``). The word masks cut each of them at
its digits (``meta-llama/Llama-3.<*>``, ``llama3.<*>:<*>``) or took it whole for a value (the
GPU, the three-part path), where the labels (``tests/logs/fixtures/README.md``, holdout14's
convention) keep a model a template shows with one value as written and make one that varies a
single ``<*>``, which the miner does for a word kept whole.

The shapes are narrowed to what a model's name holds and a path, a pod or a version does not:

- **a repository id**: ``org/name``, not rooted, not glued to a URL, a host or a path before
  it; the name starts with a letter, holds a hyphen (``bge-m3``; not ``go1.21.6``, the Go
  toolchain after ``w/``) and one of its parts says what a model's name says: a parameter count
  (``8B``, ``125m``, ``1.1B``, ``8x7B``), a version on its own or glued to the family (``3.1``,
  ``v0.3``, ``Qwen2.5``) or a short letter-and-digit tag (``m3``, ``L6``, ``R1``); no part is a
  generated suffix (``k2x8q``, ``7c5b8d6f4``: digits and letters alternating) or a long number
  (``daily-20261129100001``): not a pod, a run or a dated name;
- **an Ollama tag**: a lower-case name, a colon and a count of parameters in billions
  (``8b``, ``1.5b``, ``8x7b``) with its variant: not ``host:port``, ``key:41ms``, ``size:4.1kB``;
- **a GPU's name** as CUDA gives it: a model, its form factor and its memory
  (``A100-SXM4-80GB``, ``V100-SXM2-16GB``, ``A100-PCIE-40GB``, ``H100-NVL``).

A provider's route (``hosted_vllm/BAAI/bge-m3``, ``ollama/llama3.1:8b``: LiteLLM's router
names the model with the backend that serves it) and an id glued to a key (``model=...``) are
masked whole instead: a router's lines name many models in one statement (holdout23's
``litellm.acompletion(model=<*>)``), and a kept id glued into a template's first word would
split it (the miner does not merge across first words), as the three-part path rule of
:mod:`vigil.logs._wholes` masked the route before.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from vigil.logs._marks import WILDCARD

# a part of a model's name that says it is one: a size, a version, a short tag
_MARK = (
    r"(?:\d+(?:\.\d+)?[BbMmKkTt]|\d+x\d+[Bb]|v?\d+(?:\.\d+)+|[A-Za-z]+\d+(?:\.\d+)+"
    r"|[A-Za-z]{1,2}\d{1,2})"
)
_GENERATED = re.compile(r"(?:^|[-._])(?:[a-z]*\d+[a-z]+\d[a-z0-9]*|\d{5,})(?=$|[-._])")
_REPO_ID = re.compile(
    r"(?<![\w./:@%~$*<>\-])"
    r"(?P<provider>[a-z][a-z0-9_]*/)?"  # a provider's prefix (LiteLLM's hosted_vllm/)
    r"[A-Za-z0-9][A-Za-z0-9_.\-]*/"  # the organisation
    rf"(?=[A-Za-z0-9.\-_]*(?<![A-Za-z0-9]){_MARK}(?![A-Za-z0-9]))"
    r"(?P<name>[A-Za-z][A-Za-z0-9]*(?:[._][A-Za-z0-9]+)*(?:-[A-Za-z0-9]+(?:[._][A-Za-z0-9]+)*)+)"
    r"(?![\w/\-]|[.:]\w)"
)
_OLLAMA_TAG = re.compile(
    r"(?<![\w./:@%~$*<>\-])(?P<provider>[a-z]+/)?[a-z][a-z0-9]*(?:[._\-][a-z0-9]+)*"
    r":\d+(?:\.\d+)?(?:x\d+)?b(?:-[A-Za-z0-9_.]*[A-Za-z0-9])*(?![\w/:\-]|\.\w)"
)
_GPU = re.compile(
    r"(?<![\w./:@\-])[A-Z]{1,3}\d{1,4}[A-Za-z]?-(?:SXM\d?|PCIE|PCIe|NVL)(?:-\d+GB)?(?![\w\-])"
)
_HINT = re.compile(r"[A-Za-z0-9]/[A-Za-z]|[a-z0-9]:\d|\d-[SPN]")


def _model_spans(content: str) -> list[tuple[int, int, bool]]:
    """Where the model identifiers of ``content`` are, in order, not overlapping, each with
    whether it is kept (``False``: masked whole)."""
    found: list[re.Match[str]] = []
    if "/" in content:
        found.extend(m for m in _REPO_ID.finditer(content) if not _GENERATED.search(m["name"]))
    if ":" in content:
        found.extend(_OLLAMA_TAG.finditer(content))
    if "-" in content:
        found.extend(_GPU.finditer(content))
    found.sort(key=lambda m: m.start())
    spans: list[tuple[int, int, bool]] = []
    for m in found:
        start, end = m.span()
        if not spans or start >= spans[-1][1]:
            # a provider's route or a keyed value is a value
            routed = m.re is not _GPU and m["provider"] is not None
            keyed = content[max(start - 2, 0) : start].endswith(("=", "='", '="'))
            spans.append((start, end, not routed and not keyed))
    return spans


def keep_models(content: str, mask: Callable[[str], str]) -> str | None:
    """``content`` with its model identifiers kept as written (a provider's route or a keyed
    one masked whole) and the text around them given to ``mask``; ``None`` when it holds none
    (the caller masks it as before)."""
    if _HINT.search(content) is None:
        return None
    spans = _model_spans(content)
    if not spans:
        return None
    out: list[str] = []
    at = 0
    for start, end, keep in spans:
        if start > at:
            out.append(mask(content[at:start]))
        out.append(content[start:end] if keep else WILDCARD)
        at = end
    if at < len(content):
        out.append(mask(content[at:]))
    return "".join(out)


_GPU_MODEL = re.compile(r"[A-Z]{1,3}\d{2,4}[A-Za-z]?")
_GPU_MEMORY = re.compile(r"\d{1,3}GB")
_MEMORY_KIND = re.compile(r"HBM\d\w*|GDDR\d\w*|PCIe|SXM\d?|NVL")


def keep_gpu_memory(words: list[str], out: list[str]) -> list[int]:
    """Give back, in ``out`` (the masks of ``words``), the memory of a GPU's name written with
    spaces (``NVIDIA H100 80GB HBM3``, ``NVIDIA A100 80GB PCIe``: how CUDA names the device
    and PyTorch, vLLM, nvidia-smi, DCGM and cuFile print it), which the word masks took for a
    size; the positions given back. Only a size in gigabytes between a GPU model and its
    memory's kind or form factor: a size elsewhere stays a value."""
    kept: list[int] = []
    for i in range(1, len(words) - 1):
        if (
            out[i] == WILDCARD
            and _GPU_MEMORY.fullmatch(words[i])
            and _GPU_MODEL.fullmatch(words[i - 1])
            and _MEMORY_KIND.fullmatch(words[i + 1])
        ):
            out[i] = words[i]
            kept.append(i)
    return kept


def model_word(word: str) -> bool:
    """``word`` is one model identifier kept whole (``meta-llama/Llama-3.1-8B-Instruct``,
    ``llama3.1:8b``, ``A100-SXM4-80GB``): two different ones in one place of a template are one
    value, ``<*>`` (:func:`vigil.logs._compare.loose`), not their parts."""
    spans = _model_spans(word) if _HINT.search(word) is not None else []
    return len(spans) == 1 and spans[0] == (0, len(word), True)
