"""Bad settings files the loader must refuse with one ``file:line: field: problem`` line each
(never a traceback, never a value the controller cannot use): infinite numbers, nesting too deep
for the YAML parser, a directory or a non-UTF-8 file given as the config."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from vigil.errors import ConfigError
from vigil.settings import load_settings, parse_settings


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(dedent(text))
    return caught.value.problems


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("heartbeat:\n  interval: .inf\n", "vigil.yaml:2: heartbeat.interval"),
        ("heartbeat:\n  phi_down: .inf\n", "vigil.yaml:2: heartbeat.phi_down"),
        (
            "services:\n  - name: a\n    command: x\n    stop_grace: .inf\n",
            "vigil.yaml:4: services[0].stop_grace",
        ),
        ("logs:\n  ship_every: -.inf\n", "vigil.yaml:2: logs.ship_every"),
    ],
    ids=["heartbeat-interval", "phi-down", "stop-grace", "minus-inf"],
)
def test_an_infinite_number_is_refused_naming_its_field(text: str, where: str) -> None:
    # YAML's .inf passed every `>= 0` check: the controller then told agents
    # {"interval": Infinity}, which is not JSON, and waited for ever on a stop
    [problem] = problems_of(text)
    assert problem.startswith(where + ": must be a finite number"), problem


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("data_dir: x\nrules: " + "[" * 5000 + "]" * 5000 + "\n", 2),
        # the top mapping is level 1, the list under nodes (line 3) level 2: line 66 opens 65
        ("data_dir: x\nnodes:\n" + "".join("  " * i + "- \n" for i in range(1, 3000)), 66),
        ("logs: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n", 1),
    ],
    ids=["flow-lists", "block-lists", "flow-maps"],
)
def test_nesting_too_deep_for_the_parser_is_a_problem_not_a_traceback(text: str, line: int) -> None:
    # the YAML composer recursed once per level: RecursionError, a traceback from check-config
    [problem] = problems_of(text)
    assert problem.startswith(f"vigil.yaml:{line}: nested more than 64 levels deep"), problem


def test_a_directory_given_as_the_config_says_to_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path)
    assert caught.value.problems == [
        f"{tmp_path}: is a directory, not a config file: pass the file, "
        f"e.g. -c {tmp_path / 'vigil.yaml'}"
    ]


def test_a_byte_that_is_not_utf8_is_refused_naming_its_line(tmp_path: Path) -> None:
    path = tmp_path / "vigil.yaml"
    path.write_bytes(b"data_dir: x\napi:\n  host: caf\xe9\n")  # saved as Latin-1
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert caught.value.problems == [
        f"{path}:3: not UTF-8 (byte 0xe9 at column 12): save the file as UTF-8"
    ]


@pytest.mark.parametrize(
    ("text", "where", "got"),
    [
        (
            "services:\n  - name: a\n    command: x\n    env: {PORT: 8080}\n",
            "4: services[0].env.PORT",
            "8080",
        ),
        ("nodes:\n  - name: a\n    labels: {fast: yes}\n", "3: nodes[0].labels.fast", "True"),
    ],
    ids=["env-number", "label-yes"],
)
def test_a_number_or_boolean_where_text_is_needed_says_to_quote_it(
    text: str, where: str, got: str
) -> None:
    # YAML reads 8080 and yes as a number and a boolean: the fix is quotes, which it never said
    assert problems_of(text) == [
        f"vigil.yaml:{where}: must be text: put the value in quotes (got {got})"
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "api:\n  port: 1\x01\n",
            "vigil.yaml:2: not valid YAML: control character U+0001 at column 10: delete it "
            "(YAML allows no control characters but tab and line breaks)",
        ),
        (
            "data_dir: x\n---\napi: {}\n",
            "vigil.yaml:2: not valid YAML: expected a single document in the stream, but found "
            "another document: keep one (delete the '---' line and what follows, or merge it)",
        ),
        (
            "api:\n\tport: 1\n",
            "vigil.yaml:2: not valid YAML: found character '\\t' that cannot start any token: "
            "indent with spaces, not tabs",
        ),
    ],
    ids=["control-character", "two-documents", "tab"],
)
def test_a_yaml_syntax_error_names_its_line_and_the_fix(text: str, problem: str) -> None:
    # the control character was 'vigil.yaml:?: ... position 14' over two lines; the second
    # document 'but found another document', without what was expected; a tab had no fix
    assert problems_of(text) == [problem]


def test_an_api_token_name_longer_than_the_audit_trail_holds_is_refused() -> None:
    # the name is the audit actor (255 characters in the store): on PostgreSQL every audited
    # action by that token was taken and then answered 500, its audit entry refused
    [problem] = problems_of(
        f"api:\n  tokens:\n    - name: {'n' * 256}\n      role: admin\n      sha256: {'a' * 64}\n"
    )
    assert problem.startswith(
        "vigil.yaml:3: api.tokens[0].name: string should have at most 255 characters"
    ), problem
    parse_settings(f"api:\n  tokens:\n    - {{name: {'n' * 255}, sha256: {'a' * 64}}}\n")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("heartbeat:\n  interval: 0\n", "vigil.yaml:2: heartbeat.interval"),
        ("heartbeat:\n  check_every: 0s\n", "vigil.yaml:2: heartbeat.check_every"),
        ("logs:\n  analysis:\n    window: 0\n", "vigil.yaml:3: logs.analysis.window"),
        ("logs:\n  analysis:\n    burst_bucket: 0\n", "vigil.yaml:3: logs.analysis.burst_bucket"),
        ("logs:\n  poll_every: 0ms\n", "vigil.yaml:2: logs.poll_every"),
        ("logs:\n  ship_every: 0\n", "vigil.yaml:2: logs.ship_every"),
    ],
    ids=["interval", "check-every", "window", "burst-bucket", "poll-every", "ship-every"],
)
def test_a_zero_period_is_refused_at_load_naming_its_field(text: str, where: str) -> None:
    # each passed check-config; then 'vigil up' died with a traceback (interval, window,
    # burst_bucket: ValueError '... must be > 0') or spun a loop with no pause (the others)
    [problem] = problems_of(text)
    assert problem.startswith(f"{where}: must be > 0"), problem


@pytest.mark.parametrize(
    ("text", "where", "secret"),
    [
        (
            "api:\n  tokens:\n    - {name: ops, token: hunter2secret}\n",
            "vigil.yaml:3: api.tokens[0].token: string should have at least 16 characters",
            "hunter2secret",
        ),
        (
            "api:\n  tokens:\n    - {name: ci, sha256: my-real-token-pasted-as-its-hash}\n",
            "vigil.yaml:3: api.tokens[0].sha256: must match ^[0-9a-f]{64}$",
            "my-real-token-pasted-as-its-hash",
        ),
        (
            "agents:\n  - {node: a, token: 12345678901234567890}\n",
            "vigil.yaml:2: agents[0].token: must be text: put the value in quotes",
            "12345678901234567890",
        ),
    ],
    ids=["short-token", "token-as-sha256", "number-token"],
)
def test_a_refused_token_is_not_repeated_in_the_problem(text: str, where: str, secret: str) -> None:
    # the problem line goes to the terminal, and from 'vigil up' to the service's log
    # (journald): it quoted the token (or what was pasted as its hash) in '(got ...)'
    [problem] = problems_of(text)
    assert problem.startswith(where), problem
    assert secret not in problem
    assert "not shown" in problem


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (
            "mysql://vigil:s3cret@db/vigil",
            "store.url: the database 'mysql' is not supported: use sqlite:///path or "
            "postgresql://user:password@host/db",
        ),
        (
            "postgresql:/vigil:s3cret@db/vigil",
            "store.url: not a database URL: use sqlite:///path or "
            "postgresql://user:password@host/db",
        ),
        (
            "postgresql://vigil:s3cret@db:54x32/vigil",
            "store.url: the port '54x32' is no number",
        ),
        (
            "PostgreSQL://db/vigil",
            "store.url: the database 'PostgreSQL' is not supported: use sqlite:///path or "
            "postgresql://user:password@host/db",
        ),
    ],
    ids=["mysql", "one-slash", "port", "capitals"],
)
def test_check_config_refuses_a_store_url_vigil_up_cannot_open(url: str, problem: str) -> None:
    # each passed 'vigil check-config' (store.url was any string), then 'vigil up' refused it
    assert problems_of(f"store:\n  url: {url}\n") == [f"vigil.yaml:2: {problem}"]


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///{data_dir}/vigil.db",
        "sqlite://",
        "sqlite+pysqlite:////var/lib/vigil/v.db",
        "postgresql://vigil:pw@db:5432/vigil",
        "postgresql://vigil:p/w:d@db/vigil",
        "postgresql+psycopg://vigil@[::1]:5432/vigil?sslmode=require",
    ],
)
def test_a_store_url_vigil_can_open_is_taken(url: str) -> None:
    assert parse_settings(f"store:\n  url: '{url}'\n").store.url == url


@pytest.mark.parametrize("url", ["sqlite:///{data_dir}/vigil.db", "sqlite+pysqlite:///v.db"])
def test_a_standby_on_a_sqlite_store_is_refused_at_its_line(url: str) -> None:
    # `vigil up --standby` refused it, but `store: {standby: true}` passed check-config and
    # `vigil up` led a SQLite store of its own: the "standby" started every replica at once
    assert problems_of(f"api:\n  port: 8700\nstore:\n  url: '{url}'\n  standby: true\n") == [
        "vigil.yaml:5: store.standby: a standby waits for a PostgreSQL store, and store.url is "
        "sqlite: set store.url to postgresql://user:password@host/db, or standby: false"
    ]
    assert problems_of("store:\n  standby: true\n") == [
        "vigil.yaml:2: store.standby: a standby waits for a PostgreSQL store, and store.url is "
        "sqlite: set store.url to postgresql://user:password@host/db, or standby: false"
    ]


def test_a_standby_on_a_postgresql_store_is_taken() -> None:
    text = "store:\n  url: postgresql://vigil@db/vigil\n  standby: true\n"
    assert parse_settings(text).store.standby is True


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (
            """\
            services:
              - name: llm
                replicas: 2
                command: "{pyhton} -m server --port {port}"
            """,
            "vigil.yaml:4: services[0].command: command uses unknown placeholder(s) ['pyhton'] "
            "(did you mean {python}?)",
        ),
        (
            """\
            rules:
              - name: hot
                severity: critical
                expr: host.cpu.used_pct >> 90
            """,
            "vigil.yaml:4: rules[0].expr: not a rule: 'host.cpu.used_pct >> 90'",
        ),
        (
            """\
            remediation:
              windows:
                - name: patching
                  duration: 2h
                  cron: "0 25 * * *"
            """,
            "vigil.yaml:5: remediation.windows[0].cron: cron '0 25 * * *'",
        ),
    ],
)
def test_a_checked_field_is_named_at_its_own_line(text: str, where: str) -> None:
    # these were checked on the whole item: "vigil.yaml:2: services[0]: command uses ...",
    # the line of the item's first key, and a mistyped placeholder got no suggestion
    [problem] = problems_of(text)
    assert problem.startswith(where), problem


def test_a_retention_shorter_than_its_bucket_is_refused_saying_a_bare_number_is_seconds() -> None:
    # keep_hours: 2160 (meant: hours) is 36 minutes: every stored hour rollup was deleted at
    # each retention pass, the newest included
    found = problems_of("metrics:\n  keep_minutes: 30\n  keep_hours: 2160\n")
    assert found == [
        "vigil.yaml:2: metrics.keep_minutes: 30s keeps no 1-minute rollup (at least 60s); a "
        "bare number is seconds: write the unit, e.g. '30m' or '7d'",
        "vigil.yaml:3: metrics.keep_hours: 2160s keeps no 1-hour rollup (at least 3600s); a "
        "bare number is seconds: write the unit, e.g. '2160h' or '90d'",
    ]


def test_a_duration_in_days_is_read() -> None:
    settings = parse_settings("metrics:\n  keep_minutes: 7d\n  keep_hours: 1.5d\n")
    assert (settings.metrics.keep_minutes, settings.metrics.keep_hours) == (604800.0, 129600.0)


def test_a_trusted_proxies_entry_that_is_no_address_is_refused_naming_it() -> None:
    text = """\
        services:
          - name: a
            command: x
            balancer:
              trusted_proxies: [10.0.0.0/8, 10.0.0.0/33]
        """
    [problem] = problems_of(text)
    assert problem.startswith("vigil.yaml:5: services[0].balancer.trusted_proxies[1]: "), problem
    assert "'10.0.0.0/33' is not an IP address or CIDR block (e.g. 10.0.0.0/8" in problem


def test_trusted_proxies_are_kept_in_canonical_form() -> None:
    settings = parse_settings(
        "services:\n  - name: a\n    command: x\n    balancer:\n"
        "      trusted_proxies: [10.1.2.3/8, '::1']\n"
    )
    balancer = settings.services[0].balancer
    assert balancer is not None
    assert balancer.trusted_proxies == ["10.0.0.0/8", "::1/128"]


def test_an_unknown_workers_balance_is_refused_naming_the_line_and_the_choices() -> None:
    [problem] = problems_of(
        """\
        services:
          - name: a
            command: x
            balancer:
              workers: 2
              workers_balance: even
        """
    )
    assert problem == (
        "vigil.yaml:6: services[0].balancer.workers_balance: must be one of 'exact' or 'kernel' "
        "(got 'even')"
    ), problem
    for value in ("exact", "kernel"):
        settings = parse_settings(
            f"services:\n  - name: a\n    command: x\n    balancer:\n"
            f"      workers_balance: {value}\n"
        )
        assert settings.services[0].balancer is not None
        assert settings.services[0].balancer.workers_balance == value
