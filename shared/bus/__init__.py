"""The message bus: CloudEvents over one RabbitMQ topic exchange, with outbox, relay and idempotent consumers."""
