"""Values the masks split or join (branch mask20): an IPv6 address in brackets is one value
(in a URL too), a WAL position is two hexadecimal values, a relative path of three or more
parts holding a number is one value.

Each rule is drawn from labels that agree across directories (``docs/benchmarks.md``, "Values
the masks split, round of 7 Dec"); the near misses are shapes the rule must leave as before."""

from __future__ import annotations

from vigil.logs._tokens import mask


def test_an_ipv6_address_in_brackets_is_a_host_and_its_port() -> None:
    # Vault (holdout17), Loki (holdout17), Mattermost (holdout15), Squid (holdout11): the labels
    # write <*>:<*>, an address and a port, as for an IPv4 address
    assert mask("cluster_listen_address=[::]:8201") == "cluster_listen_address=<*>:<*>"
    assert mask("http=[::]:3100 grpc=[::]:9095") == "http=<*>:<*> grpc=<*>:<*>"
    assert mask('"msg":"Server is listening on [::]:8065"') == (
        '"msg":"Server is listening on <*>:<*>"'
    )
    assert mask("at conn3 local=[::]:3128 remote=[::] FD 12") == (
        "at conn3 local=<*>:<*> remote=<*> FD <*>"
    )
    assert mask("connect to [2001:db8::53]:443 failed") == "connect to <*>:<*> failed"
    assert mask("bind [fe80::1%eth0]:546 ok") == "bind <*>:<*> ok"
    # CockroachDB's redaction marks around it (holdout19)
    marked = "starting https server at \u2039[::]:8080\u203a"
    assert mask(marked) == "starting https server at \u2039<*>:<*>\u203a"


def test_an_ipv6_host_in_brackets_belongs_to_its_url() -> None:
    # Telegraf (holdout19): a web URL is http://<*> in the labels of eight directories
    assert mask("Listening on http://[::]:9273/metrics") == "Listening on http://<*>"
    assert mask("see http://[::1] now") == "see http://<*> now"
    assert mask("at http://[2001:db8::1]:8080/x.") == "at http://<*>."


def test_what_only_looks_like_a_bracketed_ipv6_address_is_masked_as_before() -> None:
    # a bracketed clock (no "::", not seven colons), a line that brackets its IPv4 address too
    # (Exim's: its labels keep the brackets of both), a C++ scope, a name glued to a bracket
    assert mask("[10:00:01] started") == "[<*>:<*>:<*>] started"
    assert mask("SMTP on [0.0.0.0]:25 [::]:25") == "SMTP on [<*>]:<*> [<*>]:<*>"
    assert mask("in [std::vector] x") == "in [std::vector] x"
    assert mask("addr[::1] x") == "addr[<*>] x"


def test_a_wal_position_is_two_hexadecimal_values() -> None:
    # pgBackRest (holdout19) and Patroni (holdout19): the labels write lsn = <*>/<*>
    assert mask("backup start archive = 000000010000000A00000042, lsn = A/42000028") == (
        "backup start archive = <*>, lsn = <*>/<*>"
    )
    assert mask("Local timeline=1 lsn=0/4000148") == "Local timeline=<*> lsn=<*>/<*>"
    assert mask("redo starts at 1F/A3000028") == "redo starts at <*>/<*>"
    assert mask("replay at BC/ABCD1234.") == "replay at <*>/<*>."


def test_what_only_looks_like_a_wal_position_is_masked_as_before() -> None:
    # words in capitals, a low part of letters only or too short, lower case, inside a path
    assert mask("grade A/B and CPU/GPU load") == "grade A/B and CPU/GPU load"
    assert mask("ratio AB/12 x") == "ratio AB/<*> x"
    assert mask("ratio A/BCDEF x") == "ratio A/BCDEF x"
    assert mask("hash a/42000028 x") == "hash a/<*> x"
    assert mask("path /var/A/42000028 x") == "path <*> x"


def test_a_relative_path_with_a_number_in_it_is_one_value() -> None:
    # CouchDB (holdout19), Accelerate (holdout15), W&B (holdout13), MinIO (holdout14), Samba
    # (holdout16): the labels write <*> for the whole path, as for a rooted path
    assert mask('Starting compaction for db "shards/00000000-7fffffff/orders.1796032801" at 4') == (
        'Starting compaction for db "<*>" at <*>'
    )
    assert mask("Model weights saved in output/step_500/model.safetensors") == (
        "Model weights saved in <*>"
    )
    assert mask("Saved in output/step_500/model.safetensors.") == "Saved in <*>."
    assert mask("finishing run alice/llm-sft/3kq9x2vb") == "finishing run <*>"
    assert mask("GetObject(bucket=datasets, object=imagenet/train/shard-00412.tar)") == (
        "GetObject(bucket=datasets, object=<*>)"
    )


def test_what_only_looks_like_a_relative_path_with_a_value_is_masked_as_before() -> None:
    # two parts (a name pair: the labels disagree), no digit (a source file or a design doc),
    # a transport in capitals (NCCL's NET/IB/0: its labels keep the layers), a source location
    # with its line, a rooted path, a date
    assert mask("server web/web1 is DOWN") == "server web/web1 is DOWN"
    assert mask("idx: _design/app") == "idx: _design/app"
    assert mask("at kv/kvserver/replica_command.go:2120") == "at kv/kvserver/replica_command.go:<*>"
    assert mask("via NET/IB/0") == "via NET/IB/<*>"
    assert mask("k8s.io/client-go/tools/cache/reflector.go:160: watch") == (
        "<*>/client-go/tools/cache/reflector.go:<*>: watch"
    )
    assert mask("open /var/lib/x1/y2 failed") == "open <*> failed"
    assert mask("GET api.example.com/v1/models/x done") == "GET <*>/v1/models/x done"
    assert mask("on 2026/11/29 x") == "on <*>/<*>/<*> x"
