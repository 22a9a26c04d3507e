"""``secpipe validate`` checks the files a config names, resolving relative paths as ``secpipe
up`` does (from the working directory, not the config's directory): each missing or
unreadable one is an error naming its key path and the fix; a file-source path with nothing
there yet is only a warning. A real ``secpipe up`` agrees on the base: the same relative TLS
paths serve HTTPS from that directory and fail from another."""

from __future__ import annotations

import datetime as dt
import subprocess
import time
from pathlib import Path

from tests.helpers import SECPIPE, free_port


def _self_signed(cert: Path, key: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    k = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    c = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(k.public_key())
         .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
         .not_valid_after(now + dt.timedelta(days=1)).sign(k, hashes.SHA256()))  # fmt: skip
    cert.parent.mkdir(parents=True, exist_ok=True)
    cert.write_bytes(c.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))  # fmt: skip


def _validate(config: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SECPIPE, "validate", str(config)], capture_output=True, text=True, timeout=120, cwd=cwd)


CONFIG = """\
server:
  tls: {cert: certs/server.pem, key: certs/server.key}
sources:
  tail: {type: file, paths: ["logs/*.log"]}
transforms:
  intel: {type: threat_intel, feeds: [{name: a, path: feeds/ips.txt}, {name: b, path: only-beside-the-config.csv}]}
  geo: {type: geoip, inputs: [intel], city: /nonexistent/GeoIP2-City.mmdb}
  detect: {type: sigma, inputs: [geo], rules: [rules, rules-missing]}
  comp: {type: compliance, inputs: [detect], rules_dir: feeds/ips.txt}
  tok: {type: tokenize, inputs: [comp], fields: [actor.user.name], key_file: keys/tokenize.key}
"""


def test_missing_paths_are_errors_with_key_path_and_fix(tmp_path: Path) -> None:
    work, conf = tmp_path / "work", tmp_path / "conf"
    conf.mkdir()
    (work / "feeds").mkdir(parents=True)
    (work / "feeds" / "ips.txt").write_text("192.0.2.1\n")
    (work / "rules").mkdir()
    _self_signed(work / "certs" / "server.pem", work / "certs" / "server.key")
    (conf / "only-beside-the-config.csv").write_text("indicator\n192.0.2.2\n")  # not where `up` looks
    cfg = conf / "pipeline.yaml"
    cfg.write_text(CONFIG)
    pr = _validate(cfg, work)
    assert pr.returncode == 1, pr.stderr
    errors = sorted(line.split(":")[1].strip() for line in pr.stderr.splitlines() if line.startswith("error:"))
    assert errors == ["transforms.comp.rules_dir", "transforms.detect.rules[1]", "transforms.geo.city",
                      "transforms.intel.feeds[1].path", "transforms.tok.key_file"], pr.stderr  # fmt: skip
    by_key = {line.split(":")[1].strip(): line for line in pr.stderr.splitlines()}
    assert f"the working directory {work}, as `secpipe up` reads them" in by_key["transforms.intel.feeds[1].path"]
    assert "not a directory: feeds/ips.txt" in by_key["transforms.comp.rules_dir"]
    assert "give an existing, readable file or remove the key" in by_key["transforms.tok.key_file"]
    assert "relative paths" not in by_key["transforms.geo.city"]  # absolute: said as written
    assert by_key["sources.tail.paths[0]"].startswith("warning:") and "reads files once they appear" in by_key["sources.tail.paths[0]"]
    assert pr.stderr.strip().endswith("5 error(s)")
    # fixed: ok (the tail glob stays a warning)
    (work / "only-beside-the-config.csv").write_text("indicator\n192.0.2.2\n")
    cfg.write_text(CONFIG.replace("/nonexistent/GeoIP2-City.mmdb", str(work / "feeds" / "ips.txt"))
                   .replace("rules, rules-missing", "rules").replace("rules_dir: feeds/ips.txt", "rules_dir: rules")
                   .replace("keys/tokenize.key", "feeds/ips.txt"))  # fmt: skip
    pr = _validate(cfg, work)
    assert pr.returncode == 0 and pr.stdout.strip().endswith(": ok"), pr.stderr
    assert "warning: sources.tail.paths[0]" in pr.stderr
    # run from elsewhere, the same config's relative paths are missing
    pr = _validate(cfg, tmp_path)
    assert pr.returncode == 1 and "server.tls.cert: not found: certs/server.pem" in pr.stderr


def test_up_resolves_relative_paths_from_the_same_base(tmp_path: Path) -> None:
    work = tmp_path / "work"
    _self_signed(work / "certs" / "server.pem", work / "certs" / "server.key")
    cfg = tmp_path / "conf" / "tls.yaml"
    cfg.parent.mkdir()
    cfg.write_text("server:\n  tls: {cert: certs/server.pem, key: certs/server.key}\n")
    assert _validate(cfg, work).returncode == 0
    port = free_port()
    proc = subprocess.Popen([*SECPIPE, "up", "--config", str(cfg), "--data", str(tmp_path / "d"), "--listen",
                             f"127.0.0.1:{port}"], cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 120  # polled: a loaded host takes long to import and start
        seen = ""
        while "listening on" not in seen and time.monotonic() < deadline and proc.poll() is None:
            seen += proc.stdout.readline()
        assert f"listening on https://127.0.0.1:{port}" in seen, seen
    finally:
        proc.terminate()
        proc.wait(30)
    elsewhere = subprocess.run([*SECPIPE, "up", "--config", str(cfg), "--data", str(tmp_path / "d2"), "--listen",
                                f"127.0.0.1:{free_port()}"], cwd=tmp_path, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert elsewhere.returncode == 2 and "certs/server.pem" in elsewhere.stderr
    assert _validate(cfg, tmp_path).returncode == 1
