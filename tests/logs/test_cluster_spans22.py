"""A user agent in a JSON or logfmt field (branch spans22): a key's quoted text that opens with
a product token and its version is one value however many words the browser writes, also in a
compact JSON line whose first space falls inside that field; texts that open with a word, and
the message's own words, stay as they are."""

from __future__ import annotations

from vigil.logs import TemplateMiner
from vigil.logs._texts import SPACE, split_words
from vigil.logs._tokens import mask

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15"
)


def _run(lines: list[str]) -> tuple[list[int], list[str]]:
    miner = TemplateMiner()
    ids = [miner.resolve(miner.cluster_of(line).id) for line in lines]
    return ids, [miner.clusters[i].template for i in ids]


def _access(path: str, agent: str) -> str:
    # structlog's compact JSON (authentik's router): the message member ("event") is a path
    return (
        f'{{"event":"{path}","scheme":"https","method":"GET","status":200,"user_agent":"{agent}"}}'
    )


def test_a_user_agent_in_a_compact_json_line_is_one_value() -> None:
    lines = [
        _access("/api/v3/core/users/me/", FIREFOX),
        _access("/api/v3/flows/executor/", SAFARI),
        _access("/if/flow/default/", FIREFOX),
    ]
    ids, templates = _run(lines)
    assert ids[0] == ids[1] == ids[2]
    assert templates[-1] == (
        '{"event":"<*>","scheme":"https","method":"GET","status":<*>,"user_agent":"<*>"}'
    )


def test_the_field_holding_the_first_space_of_a_compact_json_line_is_one_word() -> None:
    assert split_words(_access("/a/", SAFARI)) == [_access("/a/", SAFARI).replace(" ", SPACE)]


def test_a_user_agent_in_logfmt_is_one_value() -> None:
    ids, templates = _run(
        [
            f'level=info msg="request served" path=/a ua="{FIREFOX}" status=200',
            f'level=info msg="request served" path=/b ua="{SAFARI}" status=200',
        ]
    )
    assert ids[0] == ids[1]
    assert templates[-1] == 'level=info msg="request served" path=<*> ua="<*>" status=<*>'


def test_the_message_member_and_a_text_opening_with_a_word_stay_words() -> None:
    # near misses: the first space inside the message's own member ("msg") keeps its words;
    # an error text after the same kind of key, opening with a word, is not masked whole
    line = '{"level":"info","msg":"shim disconnected","id":"a1"}'
    assert split_words(line) == line.split()
    text = 'error="failed' + SPACE + "to" + SPACE + 'connect"'
    assert mask(text) == text
    _, templates = _run(
        [
            'level=warn msg="retrying" error="failed to connect to upstream" try=1',
            'level=warn msg="retrying" error="failed to connect to upstream" try=2',
        ]
    )
    assert templates[-1] == (
        'level=warn msg="retrying" error="failed to connect to upstream" try=<*>'
    )
