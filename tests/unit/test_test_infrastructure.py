"""Where the tests find RabbitMQ and PostgreSQL: containers when a Docker engine answers, the local servers
otherwise, and the broker-control helpers always aimed at the broker the tests talk to."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.infrastructure import compose_command, in_containers, local, use_docker

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ("docker", "compose", "-f", "/repo/tests/docker-compose.test.yml", "-p", "pytest42")


def never_asked() -> bool:
    raise AssertionError("the engine was asked although the answer was already known")


def test_a_docker_engine_that_answers_runs_the_tests_on_containers() -> None:
    assert use_docker({}, "/usr/bin/docker", lambda: True)


def test_without_docker_or_with_a_silent_engine_the_local_servers_serve() -> None:
    assert not use_docker({}, None, never_asked)
    assert not use_docker({}, "/usr/bin/docker", lambda: False)


def test_local_services_can_be_asked_for_even_with_docker() -> None:
    assert not use_docker({"CIO_TESTS_USE_LOCAL_SERVICES": "1"}, "/usr/bin/docker", never_asked)


def test_containers_are_reached_on_their_published_ports_and_controlled_inside_the_broker_container() -> None:
    published = {("rabbitmq", 5672): 49153, ("rabbitmq", 15692): 49154, ("postgres", 5432): 49155}
    infra = in_containers("10.0.0.7", lambda service, port: published[service, port], COMPOSE)
    assert infra.amqp == "amqp://guest:guest@10.0.0.7:49153/"
    assert infra.pg == "postgresql://postgres@10.0.0.7:49155/postgres"
    assert infra.broker_metrics == "10.0.0.7:49154"
    assert infra.rabbitmqctl == (*COMPOSE, "exec", "-T", "rabbitmq", "rabbitmqctl")
    assert infra.docker


def test_local_servers_come_from_the_environment_or_the_defaults() -> None:
    default = local({})
    assert (default.amqp, default.pg) == (
        "amqp://guest:guest@127.0.0.1:5672/",
        "postgresql://postgres@127.0.0.1:5432/postgres",
    )
    assert default.rabbitmqctl == ("rabbitmqctl",) and not default.docker
    named = local({"TEST_AMQP_URL": "amqp://u:p@broker.test:5672/", "TEST_PG_URL": "postgresql://pg.test/postgres"})
    assert (named.amqp, named.pg, named.broker_metrics) == (
        "amqp://u:p@broker.test:5672/",
        "postgresql://pg.test/postgres",
        "broker.test:15692",
    )


def test_the_compose_command_names_pytest_dockers_files_and_project() -> None:
    assert compose_command("docker compose", "/repo/tests/docker-compose.test.yml", "pytest42") == COMPOSE
    assert compose_command("docker-compose", ["a.yml", "b.yml"], "p") == (
        "docker-compose",
        "-f",
        "a.yml",
        "-f",
        "b.yml",
        "-p",
        "p",
    )


def test_the_test_compose_file_publishes_every_port_the_tests_use() -> None:
    services = yaml.safe_load((ROOT / "tests" / "docker-compose.test.yml").read_text(encoding="utf-8"))["services"]
    published = {name: {int(str(p).split(":")[-1]) for p in spec["ports"]} for name, spec in services.items()}
    assert published == {"rabbitmq": {5672, 15692}, "postgres": {5432}}
    plugins = services["rabbitmq"]["volumes"][0].split(":")[0]
    assert "rabbitmq_prometheus" in (ROOT / "tests" / plugins).resolve().read_text(encoding="utf-8")
