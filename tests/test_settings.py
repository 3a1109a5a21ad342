"""parse_settings / load_settings: good configs load; every problem is one line that names
``file:line: dotted.path: message``, and all problems are reported at once, sorted by line."""

from __future__ import annotations

import re
from pathlib import Path
from textwrap import dedent

import pytest

from vigil.errors import ConfigError
from vigil.settings import Settings, hash_token, load_settings, parse_settings

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "vigil.yaml"
PROBLEM = re.compile(
    r"^(?P<file>[^:]+):(?P<line>\d+): (?P<path>\(top level\)|\S+): (?P<message>.+)$"
)
HASH = "a" * 64

GOOD = f"""\
data_dir: /var/lib/vigil
api:
  host: 0.0.0.0
  port: 8800
  tokens:
    - name: admin
      role: admin
      sha256: {HASH}
heartbeat:
  interval: 2s
  phi_suspect: 4
  phi_down: 9
nodes:
  - name: local
  - name: gpu-01
    address: 10.0.0.11
    labels: {{gpu: a100}}
services:
  - name: llm
    command: serve --port {{port}}
    replicas: 2
    base_port: 9100
    node: gpu-01
    stop_grace: 500ms
    start_timeout: 2m
    liveness:
      http: {{path: /healthz}}
      interval: 250ms
    restart:
      policy: on-failure
      crash_loop: {{max_restarts: 3, window: 1m}}
    logs: {{max_bytes: 10MB, keep: 5}}
  - name: embed
    command: [embed, --port, "{{port}}"]
    logs: {{max_bytes: 512KiB}}
"""


def problems_of(text: str, source: str = "vigil.yaml") -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(dedent(text), source)
    return caught.value.problems


def only_problem(text: str) -> tuple[int, str, str]:
    """The single problem as (line, dotted path, message), checking the line's shape."""
    [problem] = problems_of(text)
    match = PROBLEM.match(problem)
    assert match, f"not 'file:line: path: message': {problem!r}"
    assert match["file"] == "vigil.yaml"
    return int(match["line"]), match["path"], match["message"]


def test_a_good_config_parses_into_settings() -> None:
    s = parse_settings(GOOD)
    assert s.data_dir == "/var/lib/vigil"
    assert (s.api.host, s.api.port) == ("0.0.0.0", 8800)
    assert s.api.tokens[0].token_hash() == HASH
    assert s.heartbeat.interval == 2.0
    assert [n.name for n in s.nodes] == ["local", "gpu-01"]
    assert s.nodes[1].labels == {"gpu": "a100"}
    llm, embed = s.services
    assert llm.command == "serve --port {port}"
    assert embed.command == ["embed", "--port", "{port}"]
    assert (llm.replicas, llm.base_port, llm.node) == (2, 9100, "gpu-01")
    assert llm.liveness is not None and llm.liveness.http is not None
    assert llm.liveness.http.path == "/healthz"
    assert llm.readiness is None
    assert llm.restart.policy == "on-failure"
    assert llm.restart.crash_loop.max_restarts == 3
    assert embed.node == "local"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("500ms", 0.5), ("2m", 120.0), ("5s", 5.0), ("1h", 3600.0), ("1.5", 1.5), ("3", 3.0)],
)
def test_durations_accept_units(text: str, seconds: float) -> None:
    s = parse_settings(f"services:\n  - name: a\n    command: x\n    stop_grace: '{text}'\n")
    assert s.services[0].stop_grace == seconds


@pytest.mark.parametrize(
    ("text", "size"),
    [("10MB", 10 * 1024**2), ("512KiB", 512 * 1024), ("1G", 1024**3), ("100", 100), ("7B", 7)],
)
def test_sizes_accept_units(text: str, size: int) -> None:
    s = parse_settings(f"services:\n  - name: a\n    command: x\n    logs: {{max_bytes: {text}}}\n")
    assert s.services[0].logs.max_bytes == size


def test_the_durations_and_sizes_of_the_good_config_are_converted() -> None:
    llm, embed = parse_settings(GOOD).services
    assert llm.stop_grace == 0.5
    assert llm.start_timeout == 120.0
    assert llm.liveness is not None and llm.liveness.interval == 0.25
    assert llm.restart.crash_loop.window == 60.0
    assert llm.logs.max_bytes == 10 * 1024 * 1024
    assert embed.logs.max_bytes == 512 * 1024


def test_an_empty_file_gives_the_defaults() -> None:
    assert parse_settings("") == Settings()
    assert parse_settings("# nothing here yet\n") == Settings()
    defaults = Settings()
    assert [n.name for n in defaults.nodes] == ["local"]
    assert defaults.services == []
    assert defaults.api.host == "127.0.0.1"


def test_a_wrong_type_names_the_line_and_the_field() -> None:
    line, path, message = only_problem("api:\n  host: 127.0.0.1\n  port: lots\n")
    assert (line, path) == (3, "api.port")
    assert "valid integer" in message
    assert "(got 'lots')" in message


def test_an_unknown_field_suggests_the_closest_known_one() -> None:
    line, path, message = only_problem(
        """\
        services:
          - name: llm
            command: serve
            replics: 2
        """
    )
    assert (line, path) == (4, "services[0].replics")
    assert message == "unknown field; did you mean 'replicas'?"


def test_an_unknown_field_in_a_nested_optional_section_suggests_too() -> None:
    line, path, message = only_problem(
        """\
        services:
          - name: llm
            command: serve
            liveness:
              http: {pth: /healthz}
        """
    )
    assert (line, path, message) == (
        5,
        "services[0].liveness.http.pth",
        "unknown field; did you mean 'path'?",
    )


def test_an_unknown_field_unlike_any_other_lists_the_known_fields() -> None:
    line, path, message = only_problem("api:\n  zzzzzz: 1\n")
    assert (line, path) == (2, "api.zzzzzz")
    assert message == "unknown field; known fields: host, port, tokens"


def test_an_unknown_top_level_section_is_named() -> None:
    line, path, message = only_problem("services: []\nheartbeats: {}\n")
    assert (line, path, message) == (2, "heartbeats", "unknown field; did you mean 'heartbeat'?")


def test_an_out_of_range_value_says_the_limit() -> None:
    line, path, message = only_problem("api:\n  port: 99999\n")
    assert (line, path, message) == (2, "api.port", "must be <= 65535 (got 99999)")


def test_a_negative_duration_is_out_of_range() -> None:
    line, path, message = only_problem(
        "services:\n  - name: a\n    command: x\n    stop_grace: -1\n"
    )
    assert (line, path, message) == (4, "services[0].stop_grace", "must be >= 0 (got -1)")


def test_a_bad_duration_string_says_how_to_write_one() -> None:
    line, path, message = only_problem(
        "services:\n  - name: a\n    command: x\n    start_timeout: 5x\n"
    )
    assert (line, path) == (4, "services[0].start_timeout")
    assert message.startswith("not a duration")
    assert "'500ms'" in message and "(got '5x')" in message


def test_a_bad_size_string_says_how_to_write_one() -> None:
    line, path, message = only_problem(
        "services:\n  - name: a\n    command: x\n    logs:\n      max_bytes: 10QB\n"
    )
    assert (line, path) == (5, "services[0].logs.max_bytes")
    assert message.startswith("not a size")
    assert "'10MB'" in message and "(got '10QB')" in message


def test_a_missing_required_field_is_reported_at_its_section() -> None:
    line, path, message = only_problem("services:\n  - name: a\n")
    assert (line, path, message) == (2, "services[0].command", "required: add this field")


def test_an_unknown_choice_lists_the_allowed_ones() -> None:
    line, path, message = only_problem(
        "services:\n  - name: a\n    command: x\n    restart: {policy: sometimes}\n"
    )
    assert (line, path) == (4, "services[0].restart.policy")
    assert "'always', 'on-failure' or 'never'" in message


def test_duplicate_service_names_are_refused() -> None:
    [problem] = problems_of(
        """\
        services:
          - name: llm
            command: a
          - name: llm
            command: b
        """
    )
    assert PROBLEM.match(problem)
    assert problem.startswith("vigil.yaml:")
    assert problem.startswith("vigil.yaml:4: services[1].name: duplicate name 'llm'")


def test_a_service_on_an_unknown_node_names_the_known_nodes() -> None:
    [problem] = problems_of("services:\n  - name: llm\n    command: a\n    node: gpu-09\n")
    assert PROBLEM.match(problem)
    assert problem.startswith("vigil.yaml:4: services[0].node: no node named 'gpu-09'")
    assert "['local']" in problem


@pytest.mark.parametrize(
    ("probe", "got"),
    [("{interval: 1s}", "none"), ("{http: {}, tcp: {}}", "['http', 'tcp']")],
)
def test_a_probe_must_have_exactly_one_kind(probe: str, got: str) -> None:
    line, path, message = only_problem(
        f"services:\n  - name: a\n    command: x\n    readiness: {probe}\n"
    )
    assert (line, path) == (4, "services[0].readiness")
    assert message == f"give exactly one of http, tcp, exec (got {got})"


def test_phi_down_below_phi_suspect_is_refused() -> None:
    line, path, message = only_problem("heartbeat:\n  phi_suspect: 8\n  phi_down: 3\n")
    assert (line, path) == (1, "heartbeat")
    assert message == "phi_down must be >= phi_suspect (got 3.0 < 8.0)"


def test_an_api_open_to_the_network_without_tokens_is_refused() -> None:
    [problem] = problems_of("api:\n  host: 0.0.0.0\n")
    assert PROBLEM.match(problem)
    assert problem.startswith("vigil.yaml:2: api.host: binding '0.0.0.0' without api.tokens")


def test_an_api_on_the_network_with_a_token_is_accepted() -> None:
    s = parse_settings(f"api:\n  host: 0.0.0.0\n  tokens:\n    - name: a\n      sha256: {HASH}\n")
    assert s.api.host == "0.0.0.0"


def test_a_token_given_in_two_ways_is_refused() -> None:
    line, path, message = only_problem(
        f"api:\n  tokens:\n    - name: a\n      sha256: {HASH}\n      token_env: VIGIL_TOKEN\n"
    )
    assert (line, path) == (3, "api.tokens[0]")
    assert message == "give exactly one of sha256, token, token_env (got ['sha256', 'token_env'])"


def test_a_token_given_in_no_way_is_refused() -> None:
    line, path, message = only_problem("agents:\n  - node: gpu-01\n")
    assert (line, path) == (2, "agents[0]")
    assert message == "give exactly one of sha256, token, token_env (got none)"


def test_a_plain_token_is_stored_as_its_hash() -> None:
    s = parse_settings("api:\n  tokens:\n    - name: a\n      token: a-long-enough-secret\n")
    assert s.api.tokens[0].token_hash() == hash_token("a-long-enough-secret")


def test_invalid_yaml_is_reported_with_the_parser_line() -> None:
    [problem] = problems_of("api:\n  port: 1\n   host: x\n", "conf/vigil.yaml")
    assert problem.startswith("conf/vigil.yaml:3: not valid YAML: ")
    assert "mapping values are not allowed here" in problem


@pytest.mark.parametrize(("text", "got"), [("- a\n- b\n", "list"), ("hello\n", "str")])
def test_the_top_level_must_be_a_mapping(text: str, got: str) -> None:
    assert problems_of(text) == [
        f"vigil.yaml:1: the top level must be a mapping of sections (got {got})"
    ]


def test_every_problem_is_reported_sorted_by_line() -> None:
    problems = problems_of(
        """\
        heartbeat:
          phi_down: 0
        api:
          port: 99999
          hots: 127.0.0.1
        services:
          - name: LLM
            command: x
            replicas: -1
        """
    )
    # pydantic reports api before heartbeat (field order): the sort puts heartbeat first
    assert [int(PROBLEM.match(p)["line"]) for p in problems] == [2, 4, 5, 7, 9]  # type: ignore[index]
    assert [PROBLEM.match(p)["path"] for p in problems] == [  # type: ignore[index]
        "heartbeat.phi_down",
        "api.port",
        "api.hots",
        "services[0].name",
        "services[0].replicas",
    ]
    assert all(p.startswith("vigil.yaml:") for p in problems)
    assert str(ConfigError(problems)) == "\n".join(problems)


def test_load_settings_names_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "vigil.yaml"
    with pytest.raises(ConfigError) as caught:
        load_settings(missing)
    assert caught.value.problems == [f"{missing}: no such file: create it or pass -c PATH"]


def test_load_settings_names_the_file_in_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "vigil.yaml"
    path.write_text("api:\n  port: -5\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert caught.value.problems == [f"{path}:2: api.port: must be >= 0 (got -5)"]


def test_the_example_config_loads() -> None:
    s = load_settings(EXAMPLE)
    assert [svc.name for svc in s.services] == ["llm"]
    assert {n.name for n in s.nodes} >= {"local"}
    llm = s.services[0]
    assert llm.stop_grace == 10.0
    assert llm.start_timeout == 120.0
    assert llm.liveness is not None and llm.readiness is not None


# --- the checks across sections point at the offending line ------------------------------------


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (
            "services:\n  - name: llm\n    command: a\n  - name: llm\n    command: b\n",
            "vigil.yaml:4: services[1].name: ",
        ),
        (
            "services:\n  - name: llm\n    command: a\n    node: gpu-09\n",
            "vigil.yaml:4: services[0].node: ",
        ),
        ("api:\n  port: 8700\n  host: 0.0.0.0\n", "vigil.yaml:3: api.host: "),
        (
            "rules:\n  - {name: temp, expr: 'gpu.t > 85'}\n  - {name: temp, expr: 'gpu.t < 10'}\n",
            "vigil.yaml:3: rules[1].name: duplicate name 'temp' (also rules[0])",
        ),
        (
            "agents:\n  - node: gpu-09\n    token_env: T\n",
            "vigil.yaml:2: agents[0].node: no node named 'gpu-09': add it to nodes",
        ),
    ],
    ids=["duplicate-service", "unknown-node", "open-api-host", "duplicate-rule", "agent-node"],
)
def test_a_cross_section_problem_is_reported_at_the_offending_field(text: str, where: str) -> None:
    [problem] = problems_of(text)
    assert problem.startswith(where)


def test_a_key_given_twice_is_refused_naming_both_lines() -> None:
    # YAML itself keeps the last silently: the first api section (its tokens) was dropped
    problems = problems_of(
        """\
        api:
          tokens:
            - {name: admin, role: admin, sha256: HASH}
        services:
          - name: llm
            command: a
            replicas: 2
            replicas: 3
        api:
          port: 8701
        """.replace("HASH", HASH)
    )
    assert problems == [
        "vigil.yaml:8: services[0].replicas: given twice (first at line 7); YAML would keep "
        "only this one: merge the two into one",
        "vigil.yaml:9: api: given twice (first at line 1); YAML would keep only this one: "
        "merge the two into one",
    ]
    assert all(PROBLEM.match(p) for p in problems)


def test_the_same_key_in_two_mappings_is_not_a_duplicate() -> None:
    settings = parse_settings(
        "nodes:\n  - {name: a, labels: {zone: x}}\n  - {name: b, labels: {zone: y}}\n"
    )
    assert [n.labels["zone"] for n in settings.nodes] == ["x", "y"]


@pytest.mark.parametrize(
    ("text", "line"),
    [("data_dir: x\nrules: &x [*x]\n", 2), ("nodes: &n\n  - name: a\n    labels: *n\n", 1)],
)
def test_an_anchor_used_inside_itself_is_refused_naming_its_line(text: str, line: int) -> None:
    # it made every walk of the tree recurse until RecursionError (a traceback, not a problem)
    assert problems_of(text) == [
        f"vigil.yaml:{line}: this anchor is used inside itself (an alias refers to a node that "
        "contains it): copy the values instead"
    ]


def test_an_anchor_used_twice_side_by_side_is_fine() -> None:
    settings = parse_settings(
        "nodes:\n  - {name: a, labels: &l {zone: x}}\n  - {name: b, labels: *l}\n"
    )
    assert [n.labels for n in settings.nodes] == [{"zone": "x"}, {"zone": "x"}]


def test_one_secret_given_to_two_api_tokens_or_an_api_and_an_agent_token_is_refused() -> None:
    secret = "s" * 32
    problems = problems_of(
        f"""\
        api:
          tokens:
            - name: ops
              role: viewer
              token: {secret}
            - name: root
              role: admin
              sha256: {hash_token(secret)}
        nodes:
          - name: gpu-01
          - name: gpu-02
        agents:
          - node: gpu-01
            sha256: {hash_token(secret)}
          - node: gpu-02
            token: {"a" * 32}
          - node: gpu-01
            token: {"a" * 32}
        """
    )  # one agent token for two nodes is fine: it may report for both
    assert [p.split(": ", 2)[1] for p in problems] == ["api.tokens[1].sha256", "agents[0].sha256"]
    assert all("the same token as api.tokens[0]" in p for p in problems)
