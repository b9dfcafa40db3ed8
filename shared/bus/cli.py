"""`cio-bus`: the runbook's bus commands, so an operator never hand-shovels a parked message.

    cio-bus replay --queue identity.appointments --since 2026-12-04T08:00:00+08:00            # list (dry run)
    cio-bus replay --queue identity.appointments --since 2026-12-04T08:00:00+08:00 --apply    # move them

A message a consumer gave up on sits in `<queue>.parking` with `x-error`, `x-attempts`, `x-parked-at` and
`x-original-routing-key` headers. Replaying moves it into `<queue>.retry`: after the retry delay the broker
dead-letters it back to `<queue>`, exactly the path a failed delivery takes, and it starts with a fresh retry
budget (the attempts are counted from the broker's `x-death` entries, which parking dropped). The consumer's inbox
makes a replay harmless for events that were applied after all. Nothing is moved without `--apply`; each moved
message is published with confirms and acknowledged in `.parking` only once the broker holds it in `.retry`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel

from shared.bus.publisher import connect, forwarded_properties
from shared.bus.topology import QueueSpec

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


@dataclass(frozen=True)
class ParkedMessage:
    """One message in a parking queue, as the listing shows it."""

    message_id: str | None
    event_type: str | None
    routing_key: str | None
    parked_at: dt.datetime | None
    attempts: int | None
    error: str

    def line(self) -> str:
        when = self.parked_at.isoformat() if self.parked_at else "?"
        return f"{when}  {self.message_id}  {self.routing_key}  attempts={self.attempts}  {self.error[:160]}"


def parse_time(value: str) -> dt.datetime:
    """An ISO 8601 time with its offset; a time without one is ambiguous across the platform's zones."""
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{value!r} has no UTC offset (write e.g. {value}+08:00 or {value}Z)")
    return parsed


def _parked(properties: pika.BasicProperties) -> ParkedMessage:
    headers: dict[str, Any] = dict(properties.headers or {})
    raw_time = headers.get("x-parked-at")
    parked_at = None
    if raw_time:
        text = raw_time.decode() if isinstance(raw_time, bytes) else str(raw_time)
        parked_at = dt.datetime.fromisoformat(text)
    error = headers.get("x-error", "")
    key = headers.get("x-original-routing-key")
    return ParkedMessage(
        message_id=properties.message_id,
        event_type=properties.type,
        routing_key=key.decode() if isinstance(key, bytes) else key,
        parked_at=parked_at,
        attempts=headers.get("x-attempts"),
        error=error.decode(errors="replace") if isinstance(error, bytes) else str(error),
    )


def replay(channel: BlockingChannel, queue: str, since: dt.datetime, *, apply: bool) -> tuple[list[ParkedMessage], int]:
    """The messages parked at or after `since` (and, with `apply`, moved to the retry queue); returns them and how
    many others stay parked.

    Every message is taken once without acknowledging it; those not replayed go back to the parking queue when the
    channel closes, so the listing never loses one and never loops over the ones it put back."""
    spec = QueueSpec(queue, ())
    waiting = channel.queue_declare(spec.parking, passive=True).method.message_count
    channel.queue_declare(spec.retry, passive=True)  # a replay into a queue that does not exist would be lost
    chosen: list[ParkedMessage] = []
    kept = 0
    for _ in range(waiting):
        method, properties, body = channel.basic_get(spec.parking, auto_ack=False)
        if method is None:
            break
        message = _parked(properties)
        if message.parked_at is None or message.parked_at < since:
            kept += 1
            continue
        chosen.append(message)
        if apply:
            headers = dict(properties.headers or {})
            headers.pop("x-death", None)
            headers["x-replayed-at"] = dt.datetime.now(dt.UTC).isoformat()
            channel.basic_publish("", spec.retry, body, forwarded_properties(properties, headers), mandatory=True)
            channel.basic_ack(method.delivery_tag)
    return chosen, kept


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cio-bus", description="Operator commands for the platform's bus.")
    parser.add_argument("--amqp-url", default=os.environ.get("AMQP_URL", DEFAULT_AMQP_URL), help="default $AMQP_URL")
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("replay", help="move parked messages back through their retry path")
    cmd.add_argument("--queue", required=True, help="the consuming queue, e.g. identity.appointments")
    cmd.add_argument("--since", required=True, type=parse_time, help="parked at or after (ISO 8601 with offset)")
    mode = cmd.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", dest="apply", action="store_false", help="only list them (the default)")
    mode.add_argument("--apply", dest="apply", action="store_true", help="move them to <queue>.retry")
    cmd.set_defaults(apply=False)  # without it, --dry-run's store_false would make moving the default
    args = parser.parse_args(argv)

    connection = connect(args.amqp_url, "cio-bus")
    try:
        channel = connection.channel()
        channel.confirm_delivery()  # publish returns only once the broker holds the message in .retry
        try:
            chosen, kept = replay(channel, args.queue, args.since, apply=args.apply)
        except pika.exceptions.ChannelClosedByBroker as exc:
            print(f"cio-bus: {args.queue}: {exc.reply_text}", file=sys.stderr)
            return 1
    finally:
        connection.close()
    for message in chosen:
        print(message.line())
    verb = "moved to" if args.apply else "would move to (dry run; --apply to move)"
    print(f"cio-bus: {len(chosen)} parked messages {verb} {args.queue}.retry; {kept} older ones stay parked")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
