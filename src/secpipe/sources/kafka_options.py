"""Config of the ``kafka`` source (a consumer group member: :mod:`secpipe.sources.kafka`).

Example::

    sources:
      bus:
        type: kafka
        brokers: "kafka-1:9093,kafka-2:9093"
        topics: [falco, k8s-audit, "^ci-.*"]     # a leading ^ subscribes to a pattern
        group_id: secpipe
        format: auto                            # every topic not in topic_formats
        topic_formats: {k8s-audit: k8s_audit, ci-trivy: trivy}
        client:                                  # librdkafka properties, passed as they are
          security.protocol: SASL_SSL
          sasl.mechanism: SCRAM-SHA-512
          sasl.username: secpipe
          sasl.password: ${KAFKA_PASSWORD}
          ssl.ca.location: /etc/secpipe/kafka-ca.pem
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: librdkafka properties the source sets itself (offsets are committed by it, after the WAL fsync)
OWNED = frozenset({"bootstrap.servers", "group.id", "enable.auto.commit", "enable.auto.offset.store",
                   "auto.offset.reset"})  # fmt: skip


class KafkaSourceOptions(BaseModel):
    """Topics consumed in a consumer group, offsets committed once their messages are durable."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["kafka"] = "kafka"
    brokers: str = Field(min_length=1)
    topics: list[str] = Field(min_length=1)
    group_id: str = Field("secpipe", min_length=1)
    format: str = "auto"
    topic_formats: dict[str, str] = Field(default_factory=dict)
    start: Literal["earliest", "latest"] = "earliest"  # where a group without committed offsets begins
    batch_max_messages: int = Field(5000, gt=0, le=1_000_000)
    batch_max_seconds: float = Field(0.5, gt=0)
    client: dict[str, str | int | float | bool] = Field(default_factory=dict)

    @field_validator("client")
    @classmethod
    def _not_owned(cls, value: dict[str, str | int | float | bool]) -> dict[str, str | int | float | bool]:
        owned = sorted(OWNED & set(value))
        if owned:
            msg = f"{', '.join(owned)}: set by the source (brokers, group_id, start; offsets are committed after the WAL fsync) — remove it from client"
            raise ValueError(msg)
        return value
