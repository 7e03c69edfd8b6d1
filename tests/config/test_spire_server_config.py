"""substrate:identity.server (SPIRE replicas, datastore, key manager, database): one exact line
naming the key, the value and what is allowed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import config_error, stack_yaml, typed_config

S = "substrate:identity.server"
Mutation = Callable[[dict[str, Any]], object]


def _server(**values: Any) -> Mutation:
    return lambda c: c["substrate:identity"].setdefault("server", {}).update(values)


def _database(**values: Any) -> Mutation:
    return lambda c: c["substrate:identity"]["server"]["database"].update(values)


def _without_database(c: dict[str, Any]) -> None:
    c["substrate:identity"]["server"].pop("database")


CASES: list[tuple[str, str, Mutation, str]] = [
    (
        "two replicas on sqlite",
        "dev",
        _server(replicas=2),
        f"{S}.replicas = 2: needs a shared datastore; sqlite lives on one replica's volume "
        "(allowed: 1, or datastore: postgres)",
    ),
    (
        "two replicas with their keys on disk",
        "prod",
        _server(keyManager="disk"),
        f"{S}.replicas = 2: keeps each replica's signing keys on its own zonal volume (allowed: "
        "1, or keyManager: awsKms)",
    ),
    (
        "postgres without the database Substrate creates",
        "prod",
        _without_database,
        f'{S}.datastore = "postgres": needs the database Substrate creates (allowed: a '
        f"{S}.database section, or sqlite)",
    ),
    (
        "an unknown datastore",
        "prod",
        _server(datastore="mysql"),
        f'{S}.datastore = "mysql": is not one of the allowed values (allowed: "sqlite", '
        '"postgres")',
    ),
    (
        "no replica",
        "prod",
        _server(replicas=0),
        f"{S}.replicas = 0: is out of range (allowed: 1 to 5)",
    ),
    (
        "a PostgreSQL version RDS does not offer",
        "prod",
        _database(engineVersion="12"),
        f'{S}.database.engineVersion = "12": is not a PostgreSQL major version RDS offers with '
        'IAM authentication (allowed: "14", "15", "16" or "17" (RDS picks the current minor '
        "version))",
    ),
    (
        "an instance class that is not one",
        "prod",
        _database(instanceClass="m7g.large"),
        f'{S}.database.instanceClass = "m7g.large": is not an RDS instance class (allowed: e.g. '
        '"db.t4g.small" or "db.m7g.large")',
    ),
]


@pytest.mark.parametrize(("name", "stack", "mutate", "message"), CASES, ids=[c[0] for c in CASES])
def test_invalid_spire_server_gives_exact_one_line_error(
    name: str, stack: str, mutate: Mutation, message: str
) -> None:
    assert config_error(stack, mutate) == message


def test_the_database_may_come_one_deployment_before_the_datastore() -> None:
    """The staged path docs/identity.md describes: create the RDS instance with sqlite still in
    use, create the `spire` user, then switch."""
    raw = stack_yaml("prod")
    raw["substrate:identity"]["server"].update(replicas=1, datastore="sqlite")
    server = typed_config(raw).identity.server
    assert server.database is not None and server.datastore == "sqlite"
