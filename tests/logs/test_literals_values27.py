"""A Python or JSON container of literals printed as a value is one value (branch values27).

Python programs print ``repr()`` of a list or dict in their messages (Dagster's ``Steps failed:
['train_model']``, cloud-init's ``['OpenStack', 'None']``, LMCache's config dict), and others
print JSON or Ruby values (Ray Serve's ``{"CPU": 8.0, "GPU": 1.0}``, Vector's
``exclude_paths=["**/*.gz", "**/*.tmp"]``, Logstash's ``:hosts=>[...]``): the labels write one
``[<*>]`` / ``{<*>}``. Word by word, a list of another length was a template of its own, and a
list shown once stayed a constant. Near misses: a ``{}`` placeholder, ``[INFO]``, a bracketed
pair, a one-item list in double quotes, a tuple of numbers, a JSON line's own structure and a
structured logger's trailing fields object stay as the word masks leave them."""

from __future__ import annotations

from vigil.logs import TemplateMiner
from vigil.logs._texts import SPACE, split_words
from vigil.logs._tokens import mask


def _masked(line: str) -> str:
    return " ".join(mask(word) for word in split_words(line)).replace(SPACE, " ")


def _run(lines: list[str]) -> tuple[list[int], list[str]]:
    miner = TemplateMiner()
    ids = [miner.cluster_of(line).id for line in lines]
    return ids, [miner.clusters[i].template for i in ids]


def test_a_python_list_or_dict_is_one_value_even_shown_once() -> None:
    assert _masked("Steps failed: ['train_model'].") == "Steps failed: [<*>]."
    assert _masked("Creating engine with config: {'chunk_size': 256, 'local_cpu': True}") == (
        "Creating engine with config: {<*>}"
    )
    assert _masked(
        'Resources required: {"CPU": 8.0, "GPU": 1.0}, available: {"CPU": 54.0, "GPU": 0.0}.'
    ) == ("Resources required: {<*>}, available: {<*>}.")
    assert _masked('Excluding files. exclude_paths=["**/*.gz", "**/*.tmp"]') == (
        "Excluding files. exclude_paths=[<*>]"
    )
    assert _masked('output {:class=>"X", :hosts=>["http://a:9200", "http://b:9200"]}') == (
        'output {:class=>"X", :hosts=>[<*>]}'
    )


def test_lists_of_other_lengths_are_one_template() -> None:
    ids, templates = _run(
        [
            "Looking for data source in: ['OpenStack', 'None'], via packages ['', 'cloudinit']",
            "Looking for data source in: ['NoCloud'], via packages ['cloudinit.sources']",
            "Looking for data source in: ['Ec2', 'ConfigDrive', 'None'], via packages ['']",
        ]
    )
    assert len(set(ids)) == 1
    assert templates[-1] == "Looking for data source in: [<*>], via packages [<*>]"


def test_near_misses_stay_as_they_were() -> None:
    # a placeholder, a level, a bracketed pair, a one-item list in double quotes, a tuple
    assert _masked("handler {} called [INFO] [pool www]") == "handler {} called [INFO] [pool www]"
    assert _masked('Starting ProtocolHandler ["http-nio-8080"]') == (
        'Starting ProtocolHandler ["<*>"]'
    )
    assert _masked("navigating from (1.24, -0.53) to (4.00, 2.50)") == (
        "navigating from (<*>, <*>) to (<*>, <*>)"
    )
    assert _masked("rank [[31522,1],9] and lr=[0.001, 0.002]") == (
        "rank [[<*>,<*>],<*>] and lr=[<*>, <*>]"
    )
    # a JSON line's own structure, and a JSON member's value inside it
    line = '{"level":"info","msg":"server running","protocols":["h1","h2","h3"]}'
    assert _masked(line) == line
    compact = '{"event":"/api/v3/flows/","user_agent":"Mozilla/5.0 (X11; Linux x86_64)"}'
    assert _masked(compact).startswith('{"event":')
    spaced = '{"event": "Created", "user": {"email": "a@b.c", "pk": 12}, "tags": ["a", "b"]}'
    assert "{<*>}" not in _masked(spaced) and "[<*>]" not in _masked(spaced)
    # a structured logger's fields object ending the line (zap console, otelcol)
    fields = 'Health Check state change {"kind": "extension", "status": "ready"}'
    assert _masked(fields) == fields
