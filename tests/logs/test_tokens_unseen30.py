"""A Kubernetes service's short DNS name is a host (holdout30): in-cluster clients print a
service as ``<service>.<namespace>.svc`` (or ``<service>.svc``) with its port
(``qdrant.vec.svc:6333``: hyper's pool, .NET's ``HttpRequestException``, Kafka, Redis and NATS
clients, Argo CD, Envoy), the form of ``.svc.cluster.local`` whose ``local`` the host rule
already knew. The labels make a host name with its port one value (Loghub's Proxifier and
Hadoop); the masker kept the name and masked the port alone, so a template of one service said
``qdrant.vec.svc:<*>``."""

from __future__ import annotations

from vigil.logs import TemplateMiner
from vigil.logs._tokens import mask


def test_a_service_name_with_its_namespace_and_port_is_one_value() -> None:
    line = 'reuse idle connection for ("http", qdrant.vec.svc:6333)'
    assert mask(line) == 'reuse idle connection for ("http", <*>)'
    assert mask("Connection refused (redis.cache.svc:6379)") == "Connection refused (<*>)"
    assert mask("watching kubernetes.default.svc for changes") == "watching <*> for changes"
    assert mask('"inference.svc:8000" "10.0.4.7:8000"') == '"<*>" "<*>:<*>"'  # Envoy's authority


def test_a_template_of_one_service_masks_it_whole() -> None:
    miner = TemplateMiner()
    for port in (6334, 6334, 6334):
        miner.add(f"HttpRequestException: Connection refused (qdrant.vec.svc:{port})")
    (only,) = miner.templates()
    assert only.template == "HttpRequestException: Connection refused (<*>)"


def test_the_word_svc_alone_and_a_logger_with_its_line_stay() -> None:
    for text in ("restart svc now", "svc_restart ok", "svc.worker started", "salt.minion:<*> up"):
        assert mask(text) == text
