"""A real Apache Kafka 4.1 broker for the Kafka source tests: KRaft, one node, on loopback.

``python tests/integration/kafka/broker.py fetch`` fetches the broker's jars once (Maven
Central, ``mvn dependency:copy-dependencies`` of ``pom.xml`` beside this file) into
:data:`JARS` (``$SECPIPE_KAFKA_JARS``, default ``~/.cache/secpipe/kafka-4.1.1``); .ci/system-deps
runs it. :func:`start` formats a fresh log directory (``kafka.tools.StorageTool format``, a
standalone controller) and starts ``kafka.Kafka`` as broker and controller in one process (a
plaintext listener, a SASL_PLAINTEXT one with the PLAIN mechanism and a password made for the
run, an SSL one with a self-signed certificate), then waits until the broker answers on its port. :func:`unavailable` says why a broker cannot start
here (no Java, no jars), or None.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
JARS = Path(os.environ.get("SECPIPE_KAFKA_JARS", Path.home() / ".cache" / "secpipe" / "kafka-4.1.1"))

_LOG4J = """<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN"><Appenders><Console name="out" target="SYSTEM_OUT">
<PatternLayout pattern="[%d] %p %m (%c)%n"/></Console></Appenders>
<Loggers><Root level="WARN"><AppenderRef ref="out"/></Root></Loggers></Configuration>
"""


def fetch() -> None:
    """Fetch the broker's jars into :data:`JARS` (once: a non-empty directory is kept)."""
    if JARS.is_dir() and any(JARS.glob("kafka_2.13-*.jar")):
        return
    tmp = JARS.with_name(JARS.name + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    subprocess.run(["mvn", "-q", "-B", "-f", str(HERE / "pom.xml"), "dependency:copy-dependencies",
                    "-DincludeScope=runtime", f"-DoutputDirectory={tmp}"], check=True)  # fmt: skip
    tmp.rename(JARS)


def unavailable() -> str | None:
    """Why no broker can start here, or None."""
    if shutil.which("java") is None:
        return "java is not installed"
    if not any(JARS.glob("kafka_2.13-*.jar")):
        return f"no Kafka jars in {JARS}: run `python tests/integration/kafka/broker.py fetch`"
    return None


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Broker:
    """A started broker: ``bootstrap`` is its plaintext ``host:port``; ``sasl_bootstrap`` a
    SASL_PLAINTEXT listener (mechanism PLAIN) that knows user ``secpipe`` with ``password``;
    ``tls_bootstrap`` an SSL one."""

    proc: subprocess.Popen[bytes]
    bootstrap: str
    log: Path
    sasl_bootstrap: str = ""
    password: str = ""
    tls_bootstrap: str = ""  # an SSL listener whose certificate ``ca`` (PEM, self-signed for 127.0.0.1) verifies
    ca: Path | None = None

    def stop(self) -> None:
        """Stop the broker (SIGTERM, then SIGKILL after 30 s)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _java(main: str, *args: str, log: Path, config_dir: Path) -> list[str]:
    return ["java", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={config_dir / 'log4j2.xml'}", "-cp", f"{JARS}/*", main, *args]  # fmt: skip


def start(workdir: Path, timeout: float = 90.0) -> Broker:
    """Format a KRaft log directory under ``workdir`` and start one broker+controller on it."""
    reason = unavailable()
    if reason is not None:
        raise RuntimeError(reason)
    workdir.mkdir(parents=True, exist_ok=True)
    from tests.integration.wire_server import self_signed  # (cryptography: not needed to fetch)

    port, ctl, sasl, tls = free_port(), free_port(), free_port(), free_port()
    cert, key = self_signed(workdir)
    keystore = workdir / "server-keystore.pem"  # PEM keystore: the PKCS#8 key (unencrypted), then the certificate
    keystore.write_bytes(key.read_bytes() + cert.read_bytes())
    password = secrets.token_hex(12)  # this broker's alone: written under workdir, gone with it
    (workdir / "log4j2.xml").write_text(_LOG4J)
    props = workdir / "server.properties"
    props.write_text("\n".join([
        "process.roles=broker,controller", "node.id=1",
        f"controller.quorum.bootstrap.servers=127.0.0.1:{ctl}",
        f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{ctl},SASL://127.0.0.1:{sasl},"
        f"SSL://127.0.0.1:{tls}",
        f"advertised.listeners=PLAINTEXT://127.0.0.1:{port},SASL://127.0.0.1:{sasl},SSL://127.0.0.1:{tls}",
        "controller.listener.names=CONTROLLER", "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL:SASL_PLAINTEXT,SSL:SSL",
        "listener.name.ssl.ssl.keystore.type=PEM", f"listener.name.ssl.ssl.keystore.location={keystore}",
        "listener.name.sasl.sasl.enabled.mechanisms=PLAIN",
        "listener.name.sasl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule "
        f'required user_secpipe="{password}";',
        f"log.dirs={workdir / 'logs'}", "num.partitions=1", "offsets.topic.replication.factor=1",
        "transaction.state.log.replication.factor=1", "transaction.state.log.min.isr=1",
        "group.initial.rebalance.delay.ms=0", "auto.create.topics.enable=true", "",
    ]))  # fmt: skip
    log = workdir / "broker.log"
    subprocess.run(_java("kafka.tools.StorageTool", "format", "-t", uuid.uuid4().hex[:22], "-c", str(props),
                         "--standalone", log=log, config_dir=workdir),
                   check=True, capture_output=True, timeout=120)  # fmt: skip
    with open(log, "wb") as out:
        proc = subprocess.Popen(_java("kafka.Kafka", str(props), log=log, config_dir=workdir), stdout=out,
                                stderr=subprocess.STDOUT)  # fmt: skip
    broker = Broker(proc, f"127.0.0.1:{port}", log, f"127.0.0.1:{sasl}", password, f"127.0.0.1:{tls}", cert)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            msg = f"the Kafka broker exited ({proc.returncode}): {log.read_text()[-2000:]}"
            raise RuntimeError(msg)
        if _ready(broker.bootstrap):
            return broker
        time.sleep(0.5)
    broker.stop()
    msg = f"the Kafka broker did not answer within {timeout:.0f} s: {log.read_text()[-2000:]}"
    raise RuntimeError(msg)


def _ready(bootstrap: str) -> bool:
    """Whether the broker accepts connections and answers a metadata request (confluent-kafka's
    AdminClient; asked only once the port is open, so the client logs no refused connections)."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    host, _, port = bootstrap.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
        return bool(AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=5).brokers)
    except (OSError, KafkaException):  # not up yet
        return False


if __name__ == "__main__":
    if sys.argv[1:] == ["fetch"]:
        fetch()
    else:
        sys.exit("usage: broker.py fetch")
