"""syslog-ng's ``elasticsearch-http()`` destination (Debian's syslog-ng 3.38) shipping to secpipe.

syslog-ng tails a file and posts ``_bulk`` batches with Basic auth (the secpipe token as
password); the lines must land in the lake as OCSF events. syslog-ng comes from
``.ci/system-deps`` (unpacked under /opt/syslog-ng because the package conflicts with
rsyslog) or from a system install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.wire_server import start

ROOTS = [Path(os.environ.get("SECPIPE_SYSLOG_NG_ROOT", "/opt/syslog-ng")), Path("/")]


def _syslog_ng() -> tuple[Path, dict[str, str], list[str]] | None:
    for root in ROOTS:
        binary = root / "usr/sbin/syslog-ng"
        scl = root / "usr/share/syslog-ng/include/scl/elasticsearch/elastic-http.conf"
        mods = root / "usr/lib/syslog-ng/3.38"
        if binary.is_file() and scl.is_file() and (mods / "libhttp.so").is_file():
            env = {**os.environ, "LD_LIBRARY_PATH": str(root / "usr/lib/syslog-ng")}
            return scl, env, [str(binary), f"--module-path={mods}"]
    return None


def test_syslog_ng_elasticsearch_http(tmp_path: Path) -> None:
    found = _syslog_ng()
    if found is None:
        pytest.skip("syslog-ng with the http module is not available: run .ci/system-deps")
    scl, env, cmd = found
    srv = start(tmp_path / "srv")
    src = tmp_path / "input.log"
    src.write_text("")
    conf = tmp_path / "syslog-ng.conf"
    conf.write_text(f"""@version: 3.38
@include "{scl}"
source s_in {{ file("{src}" follow-freq(0.1) flags(no-parse)); }};
destination d_es {{ elasticsearch-http(url("{srv.url}/_bulk") index("syslog-ng") type("")
    user("elastic") password("{srv.ingest}") workers(1) batch-lines(5) batch-timeout(200)); }};
log {{ source(s_in); destination(d_es); }};
""")
    proc = subprocess.Popen([*cmd, "-F", "-f", str(conf), "-R", str(tmp_path / "persist"), "-p", str(tmp_path / "pid"),
                             "-c", str(tmp_path / "ctl"), "--no-caps"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)  # fmt: skip
    try:
        time.sleep(1.0)
        with open(src, "a") as fh:
            for i in range(12):
                fh.write(f"sng-marker line {i}\n")
        n = srv.wait_rows("SELECT count(*) FROM base_event WHERE message LIKE 'sng-marker line %'", 12, timeout=30)
        assert n == 12, (proc.poll(), srv.log.read_text()[-2000:])
        rows = srv.query("SELECT json_extract_string(unmapped, '$.FACILITY'), time_dt FROM base_event "
                         "WHERE message = 'sng-marker line 3'")  # fmt: skip
        assert rows[0][0] == "user" and rows[0][1]
    finally:
        proc.terminate()
        out = proc.communicate(timeout=10)[0].decode(errors="replace")
        srv.stop()
    assert "error" not in out.lower() or "http" not in out.lower(), out
    shutil.rmtree(tmp_path / "srv", ignore_errors=True)
