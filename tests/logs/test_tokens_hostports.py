"""A hyphenated host name holding a digit, with its port, is one value (1 Dec, third session).

A StatefulSet's pod or a service in its namespace, with its port (``pg-db02:5432``,
``redis-0.redis-headless:6379``, ``nsqlookupd-0.nsqlookupd:4160``), was masked in part
(``pg-db02:<*>``, ``<*>.nsqlookupd:<*>``): only a name ending in ``-<digits>`` (``msra-sa-41:9000``)
or in a top-level domain was taken whole with its port. Kafka, Redis, NATS, etcd, NSQ and
PgBouncer clients print such names; the labels make a host name with its port one ``<*>`` (the
Loghub convention of Proxifier and Hadoop; holdout22's pgpool and nsqd). The near misses keep a
key and its number apart, as before."""

from __future__ import annotations

from vigil.logs._tokens import mask


def test_a_hyphenated_host_with_a_digit_and_its_port_is_one_value() -> None:
    assert mask('connect to "pg-db02:5432" failed') == 'connect to "<*>" failed'
    assert mask("LOOKUP connecting to nsqlookupd-0.nsqlookupd:4160") == "LOOKUP connecting to <*>"
    assert mask("LOOKUPD(nsqlookupd-1.nsqlookupd:4160): adding peer") == "LOOKUPD(<*>): adding peer"
    assert mask("bootstrap broker kafka-1.kafka.svc:9092 ready") == "bootstrap broker <*> ready"
    assert mask("sentinel redis-0.redis-headless:26379, master up") == "sentinel <*>, master up"
    # as before: a name ending in -<digits>, an IP with its port
    assert mask("Address change detected. Old: msra-sa-41/10.190.173.170:9000") == (
        "Address change detected. Old: <*>"
    )
    assert mask("peer 10.0.0.1:5432 up") == "peer <*>:<*> up"


def test_a_key_and_its_number_stay_apart() -> None:
    # no hyphen, or no digit before the colon: a key (or an interface alias) and its number
    assert mask("peer info {TCPPort:4160 HTTPPort:4161}") == "peer info {TCPPort:<*> HTTPPort:<*>}"
    assert mask("set max-retries:10 now") == "set max-retries:<*> now"
    assert mask("alias eth0:1 up") == "alias eth0:<*> up"
    assert mask("ray-head-svc:6379 reachable") == "ray-head-svc:<*> reachable"
