"""Nodes, services, replicas and replica commands."""

from __future__ import annotations

import json
import math

import httpx
from apifakes import FakeControl, bearer
from pydantic import TypeAdapter

from vigil.api._fleet import _listing, nodes_json
from vigil.api._schemas import NodeOut
from vigil.model import Node, NodeStatus
from vigil.store import Store

VIEW = bearer("viewer")
OPERATE = bearer("operator")


async def test_nodes_are_listed_with_their_status(client: httpx.AsyncClient) -> None:
    nodes = (await client.get("/api/v1/nodes", headers=VIEW)).json()
    assert [(n["name"], n["status"]) for n in nodes] == [("node-a", "up"), ("node-b", "unknown")]
    assert nodes[0]["labels"] == {"gpu": "a100"}


async def test_services_show_desired_and_ready_counts(client: httpx.AsyncClient) -> None:
    (web,) = (await client.get("/api/v1/services", headers=VIEW)).json()
    assert (web["name"], web["desired"], web["ready"]) == ("web", 2, 1)
    assert [r["id"] for r in web["replicas"]] == ["web/0", "web/1"]


async def test_one_service_is_served_by_name(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/services/web", headers=VIEW)
    assert response.status_code == 200
    assert response.json()["replicas"][0]["port"] == 9000


async def test_an_unknown_service_is_404_naming_it(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/services/nope", headers=VIEW)
    assert response.status_code == 404
    assert response.json() == {"detail": "no service named 'nope'"}
    listing = await client.get("/api/v1/replicas", params={"service": "nope"}, headers=VIEW)
    assert listing.status_code == 404


async def test_replicas_can_be_filtered_by_service(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/replicas", params={"service": "web"}, headers=VIEW)
    assert [r["index"] for r in response.json()] == [0, 1]


async def test_one_replica_is_served_and_an_unknown_index_is_404(
    client: httpx.AsyncClient,
) -> None:
    replica = (await client.get("/api/v1/replicas/web/1", headers=VIEW)).json()
    assert (replica["state"], replica["ready"]) == ("running", "unhealthy")
    missing = await client.get("/api/v1/replicas/web/7", headers=VIEW)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no replica named 'web/7'"}


async def test_a_negative_index_is_422_naming_the_path_field(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/replicas/web/-1", headers=VIEW)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("path.index: ")


async def test_a_command_without_a_body_gets_a_default_reason(
    client: httpx.AsyncClient, control: FakeControl
) -> None:
    response = await client.post("/api/v1/replicas/web/1/stop", headers=OPERATE)
    assert response.status_code == 202
    assert control.commands == [("web/1", "stop", "olga", "stop requested via API")]


async def test_an_unknown_command_is_422_naming_it(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/replicas/web/0/explode", headers=OPERATE)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("path.command: ")


async def test_a_command_on_an_unknown_replica_is_404_and_audited_as_an_error(
    client: httpx.AsyncClient, store: Store
) -> None:
    response = await client.post("/api/v1/replicas/web/9/start", headers=OPERATE)
    assert response.status_code == 404
    (entry,) = store.list_audit().items
    assert entry.result == "error: no replica named 'web/9'"
    assert entry.target == "replica:web/9"


async def test_a_command_refused_by_a_guard_is_409(
    client: httpx.AsyncClient, control: FakeControl
) -> None:
    control.refuse = True
    response = await client.post("/api/v1/replicas/web/0/restart", headers=OPERATE)
    assert response.status_code == 409
    assert response.json()["detail"] == "refused by cooldown: restarted 2s ago; wait 28s"


async def test_a_malformed_json_body_is_422_with_a_clear_message(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/api/v1/replicas/web/0/restart",
        headers={**OPERATE, "Content-Type": "application/json"},
        content=b"{reason: oops",
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("body: malformed JSON")


async def test_an_unknown_body_field_is_422_naming_it(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/replicas/web/0/restart", headers=OPERATE, json={"reasn": "typo"}
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("body.reasn: ")


async def test_a_body_without_a_json_content_type_is_422_saying_to_send_json(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/api/v1/replicas/web/0/restart", headers=OPERATE, content=b'{"reason": "x"}'
    )
    assert response.status_code == 422
    assert "Content-Type: application/json" in response.json()["detail"]


def test_the_nodes_json_is_the_document_of_the_node_models() -> None:
    nodes = [
        Node(
            name="a",
            address="10.0.0.1",
            labels={"gpu": "a100"},
            status=NodeStatus.UP,
            last_heartbeat=1700000000.25,
            phi=2.5e-06,  # json.dumps writes 2.5e-06, pydantic 2.5e-6
            info={"load1": 0.5, "gpus": [1, 2], "ü": "é"},
        ),
        Node(name="b"),
        Node(name="c", status=NodeStatus.DOWN, last_heartbeat=5.0, phi=math.inf),
        Node(name="d", status=NodeStatus.SUSPECT, info={"odd": math.nan}),
    ]
    expected = TypeAdapter(list[NodeOut]).dump_json([NodeOut.model_validate(n) for n in nodes])
    assert nodes_json(nodes) == expected  # the very bytes, float notation included
    finite = TypeAdapter(list[NodeOut]).dump_json([NodeOut.model_validate(n) for n in nodes[:3]])
    assert nodes_json(nodes[:3]) == finite
    assert list(json.loads(nodes_json(nodes[:1]))[0]) == list(NodeOut.model_fields)


async def test_the_nodes_listing_keeps_its_schema_in_openapi(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    answer = schema["paths"]["/api/v1/nodes"]["get"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"]["items"]["$ref"].endswith("/NodeOut")


def test_the_same_node_snapshot_is_encoded_once_and_a_list_every_time() -> None:
    snapshot = (Node(name="a", status=NodeStatus.UP, last_heartbeat=1.0),)
    body = _listing(snapshot)
    assert _listing(snapshot) is body
    assert json.loads(_listing((Node(name="b"),)))[0]["name"] == "b"
    listed = [Node(name="a")]
    first = _listing(listed)
    listed[0] = Node(name="c")
    assert json.loads(_listing(listed))[0]["name"] == "c" != json.loads(first)[0]["name"]
