"""Bus fixtures: each test gets an exchange and queues of its own on the test vhost, removed afterwards,
and a place to run relays and consumers in threads that are stopped before anything is torn down."""

from __future__ import annotations

import contextlib
import shutil
import threading
import urllib.parse
import uuid
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import pika
import pytest
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

from shared.bus.topology import QueueSpec, declare_exchange, declare_queue
from shared.config import BusSettings
from tests.conftest import rabbitmqctl
from tests.helpers import wait_until
from tests.infrastructure import Infrastructure


class Component(Protocol):
    name: str

    def run(self, stop: threading.Event) -> None: ...


def vhost_of(amqp_url: str) -> str:
    return urllib.parse.unquote(urllib.parse.urlsplit(amqp_url).path[1:]) or "/"


class Broker:
    """The test's view of RabbitMQ: its own exchange, the queues it declared, a channel to look inside, and
    `rabbitmqctl` on that broker (in its container when the tests run on Docker)."""

    def __init__(self, settings: BusSettings, infra: Infrastructure) -> None:
        self.settings = settings
        self.infra = infra
        self.vhost = vhost_of(settings.amqp_url)
        self._queues: list[str] = []
        self._connection: BlockingConnection | None = None
        self.channel = self.reconnect()
        declare_exchange(self.channel, settings)

    def reconnect(self) -> BlockingChannel:
        """A fresh connection, e.g. after the broker restarted under the old one."""
        if self._connection is not None and self._connection.is_open:
            with contextlib.suppress(pika.exceptions.AMQPError, OSError):
                self._connection.close()
        self._connection = pika.BlockingConnection(pika.URLParameters(self.settings.amqp_url))
        self.channel = self._connection.channel()
        # Publishes from the test return only once the broker holds them.
        self.channel.confirm_delivery()
        return self.channel

    def rabbitmqctl(self, *args: str, timeout: float = 120) -> str:
        if not self.infra.docker and shutil.which("rabbitmqctl") is None:
            pytest.skip("needs rabbitmqctl on the local broker")
        return rabbitmqctl(self.infra, *args, timeout=timeout)

    def accepts_connections(self) -> bool:
        try:
            pika.BlockingConnection(pika.URLParameters(self.settings.amqp_url)).close()
        except (pika.exceptions.AMQPError, OSError):
            return False
        return True

    def consuming_queue(self, purpose: str, bindings: Sequence[str], settings: BusSettings | None = None) -> QueueSpec:
        """A `<consumer>.<purpose>` queue with its retry and parking siblings, declared and bound."""
        spec = QueueSpec(f"bustest.{purpose}.{uuid.uuid4().hex[:8]}", tuple(bindings))
        self._queues += [spec.name, spec.retry, spec.parking]
        declare_queue(self.channel, settings or self.settings, spec)
        return spec

    def tap(self, binding: str) -> str:
        """A plain queue bound beside the consumers', to look at messages as they were published."""
        name = f"bustest.tap.{uuid.uuid4().hex[:8]}"
        self._queues.append(name)
        self.channel.queue_declare(name, durable=True)
        self.channel.queue_bind(name, self.settings.exchange, routing_key=binding)
        return name

    def publish(self, routing_key: str, body: bytes, message_id: str | None = None) -> None:
        self.channel.basic_publish(
            self.settings.exchange,
            routing_key,
            body,
            pika.BasicProperties(
                content_type="application/cloudevents+json",
                delivery_mode=pika.DeliveryMode.Persistent,
                message_id=message_id,
                type=routing_key,
            ),
            mandatory=True,
        )

    def get(self, queue: str) -> tuple[pika.BasicProperties, bytes] | None:
        method, properties, body = self.channel.basic_get(queue, auto_ack=True)
        return None if method is None else (properties, body)

    def count(self, queue: str) -> int:
        return self.channel.queue_declare(queue, passive=True).method.message_count

    def drain_message_ids(self, queue: str, quiet_seconds: float = 1.0) -> list[str]:
        """Every message id in the queue, taking messages until none came for `quiet_seconds`."""
        ids: list[str] = []
        self.channel.basic_qos(prefetch_count=500)
        for method, properties, _body in self.channel.consume(queue, auto_ack=True, inactivity_timeout=quiet_seconds):
            if method is None:
                break
            ids.append(properties.message_id)
        self.channel.cancel()
        return ids

    def close(self) -> None:
        channel = self.reconnect()
        for queue in self._queues:
            channel.queue_delete(queue)
        channel.exchange_delete(self.settings.exchange)
        assert self._connection is not None
        self._connection.close()


class Background:
    """Runs relays and consumers in threads with one stop event, as the worker process does."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self, component: Any) -> Any:
        thread = threading.Thread(target=component.run, args=(self.stop,), name=component.name, daemon=True)
        thread.start()
        self._threads.append(thread)
        return component

    def start_consumer(self, consumer: Any) -> Any:
        self.start(consumer)
        wait_until(consumer.connected.is_set, timeout=10, message="the consumer to connect")
        return consumer

    def stop_all(self) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        alive = [t.name for t in self._threads if t.is_alive()]
        assert not alive, f"threads did not stop: {alive}"


@pytest.fixture
def bus_settings(amqp_url: str) -> BusSettings:
    """Settings with an exchange of the test's own, quick retries and a quick relay."""
    return BusSettings(
        amqp_url=amqp_url,
        exchange=f"bustest.events.{uuid.uuid4().hex[:8]}",
        prefetch=20,
        max_retries=2,
        retry_delay_ms=200,
        relay_idle_seconds=0.05,
        confirm_timeout_seconds=5.0,
    )


@pytest.fixture
def broker(bus_settings: BusSettings, infra: Infrastructure) -> Iterator[Broker]:
    broker = Broker(bus_settings, infra)
    try:
        yield broker
    finally:
        broker.close()


@pytest.fixture
def background(broker: Broker) -> Iterator[Background]:
    """Depends on `broker` so its threads stop before the queues (and the test's database) go away."""
    runner = Background()
    try:
        yield runner
    finally:
        runner.stop_all()


@contextlib.contextmanager
def broker_stopped(broker: Broker) -> Iterator[None]:
    """Stop the tests' RabbitMQ application, and always start it again and wait until it serves."""
    broker.rabbitmqctl("stop_app")
    try:
        yield
    finally:
        broker.rabbitmqctl("start_app")
        broker.rabbitmqctl("await_startup")
        wait_until(broker.accepts_connections, timeout=60, interval=0.5, message="the broker to accept")
        broker.reconnect()
