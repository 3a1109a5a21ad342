"""A line's words masked one by one through two bounded caches keyed on each word's shape.

Used by :class:`vigil.logs.TemplateMiner` (:mod:`vigil.logs._miner`) on its slow path (a line
shape not seen before), for :meth:`~vigil.logs.TemplateMiner.mask_words` and to find the bucket
a cluster was filed under. Pure: no I/O, no clock.

A word's mask depends only on where its digits are, never on which digits they are, so masks
are cached by the word's *shape* (every digit ``0``, :data:`vigil.logs._shape.SHAPE`): a
constant word or a number of a shape seen before costs one dict lookup. A *weak* word is one
whose mask keeps a digit (``ssh2``): its digits matter, so its shape is marked ``""`` and the
word itself is the key of a second cache. After the word masks, names the words before them
introduce are masked (:func:`vigil.logs._named.named_values`; no weak words then), a GPU's
memory in its name is given back (:func:`vigil.logs._models.keep_gpu_memory`) and a full
stop the line ends with is kept apart from its last value (:func:`vigil.logs._tokens.full_stop`).
A bracketed IPv6 address on a line that brackets an IPv4 address keeps its brackets
(:func:`vigil.logs._wholes.ipv6_beside_ipv4`): a rule of the whole line, which a word's own
mask cannot see.
"""

from __future__ import annotations

from vigil.logs._apigroups import keep_type_names
from vigil.logs._models import keep_gpu_memory
from vigil.logs._msgids import keep_ids
from vigil.logs._named import named_values
from vigil.logs._shape import SHAPE, has_digit
from vigil.logs._tokens import WILDCARD, full_stop, mask
from vigil.logs._wholes import ipv6_beside_ipv4


class WordMasks:
    """Each word of a line masked, with the caches that make a word seen before cheap.

    ``limit`` bounds each of the two caches (word shape -> mask, weak word -> mask); a full
    cache is dropped and refills from the stream.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.words: dict[str, str] = {}  # word shape -> mask, "" when the digits matter
        self.weak: dict[str, str] = {}  # word -> mask, for the word shapes marked ""

    def clear(self) -> None:
        """Drop both caches (a miner restored from saved state starts them afresh)."""
        self.words.clear()
        self.weak.clear()

    def mask_list(
        self, words: list[str]
    ) -> tuple[list[str], tuple[int, ...], list[tuple[int, str]]]:
        """Each word masked, the positions of the weak words (masks that keep a digit), and the
        catalogue message ids kept as words with the masks they had
        (:func:`vigil.logs._msgids.keep_ids`: the miner looks the line up without them too)."""
        cache, weak_cache = self.words, self.weak
        out = []
        weak: list[int] = []
        # every word's shape in one pass: the shape of the joined words, split again (digits
        # map to digits, so the words come back as they were cut, in shape)
        joined = " ".join(words)
        shapes = joined.translate(SHAPE).split(" ")
        if len(shapes) != len(words):  # a word holding a space of its own: one by one
            shapes = [word.translate(SHAPE) for word in words]
        for i, (word, key) in enumerate(zip(words, shapes, strict=True)):
            masked = cache.get(key)
            if masked is None:
                masked = WILDCARD if word.isdigit() else mask(word)
                if len(cache) >= self.limit:
                    cache.clear()
                if has_digit(masked):
                    cache[key] = ""
                    weak.append(i)
                else:
                    cache[key] = masked
            elif not masked:  # a weak word: its digits are kept, so the word itself is the key
                weak.append(i)
                masked = weak_cache.get(word) or mask(word)
                if len(weak_cache) >= self.limit:
                    weak_cache.clear()
                weak_cache[word] = masked
            out.append(masked)
        if "::" in joined and "[" in joined:  # Exim's "[0.0.0.0]:25 [::]:25": brackets kept
            for i in ipv6_beside_ipv4(words):
                out[i] = mask(words[i], beside_ipv4=True)
        if '"' in joined and "." in joined:  # "on pytorchjobs.kubeflow.org \"x\"": API groups
            groups = [i for i in keep_type_names(words, out) if has_digit(out[i])]
            if groups:  # "kueue.x-k8s.io": kept as written, its digits matter
                weak = sorted({*weak, *groups})
        kept = keep_ids(words, out)
        if kept:  # a message id kept: its digits matter, as a weak word's (sorted places)
            weak = sorted({*weak, *(i for i, _ in kept)})
        if "GB " in joined:  # "NVIDIA H100 80GB HBM3": the GPU's name, its digits kept
            weak = sorted({*weak, *keep_gpu_memory(words, out)})
        if len(out) > 1:
            named = named_values(words, out)
            if named and weak:  # a name masked is no weak word
                weak = [i for i in weak if i not in named]
        if len(out) > 1:  # the line's own full stop, not a last value's (db1.example.com.)
            out[-1] = full_stop(words[-1], out[-1])
        return out, tuple(weak), kept
