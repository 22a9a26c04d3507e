"""Pipeline config validation: key paths and fixes in every error, env interpolation."""

from __future__ import annotations

from pathlib import Path

import pytest

from secpipe.config.models import check, validate_file
from tests.helpers import cli

REPO = Path(__file__).resolve().parents[2]


def test_example_config_is_valid() -> None:
    cfg, errors = validate_file(REPO / "examples" / "pipeline.yaml")
    assert errors == [] and cfg is not None
    assert cli("validate", str(REPO / "examples" / "pipeline.yaml")).stdout.strip().endswith(": ok")


def test_errors_name_key_path_and_fix(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(
        "data_dir: /tmp/x\n"
        "serverr: {}\n"
        "sources:\n  edge: {type: http, lisen: '1.2.3.4:1'}\n  weird: {type: carrier-pigeon}\n"
        "sinks:\n  lake: {type: lake, inputs: [edge, nowhere], max_rows: -5}\n"
    )
    _cfg, errors = validate_file(f)
    text = [str(e) for e in errors]
    assert any(t.startswith("serverr: unknown key") for t in text), text
    pr = cli("validate", str(f), check=False)
    assert pr.returncode == 1 and "serverr" in pr.stderr
    f.write_text(
        "sources:\n  edge: {type: http, lisen: '1.2.3.4:1'}\n  weird: {type: carrier-pigeon}\n"
        "sinks:\n  lake: {type: lake, inputs: [edge, nowhere], max_rows: -5}\n"
    )
    _cfg, errors = validate_file(f)
    text = [str(e) for e in errors]
    assert "sources.edge.lisen: unknown key — remove it or check its spelling" in text
    assert any(t.startswith("sources.weird.type: unknown type 'carrier-pigeon'") for t in text)
    assert any(t.startswith("sinks.lake.max_rows: ") and "greater than 0" in t for t in text)
    assert any(t.startswith("sinks.lake.inputs[1]: 'nowhere' is not a source or transform id") for t in text)


def test_env_interpolation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECPIPE_TEST_DIR", "/var/lib/secpipe")
    cfg, errors = check({"data_dir": "${SECPIPE_TEST_DIR}", "server": {"listen": "${LISTEN:-127.0.0.1:9000}"}})
    assert errors == [] and cfg is not None
    assert cfg.data_dir == "/var/lib/secpipe" and cfg.server.listen == "127.0.0.1:9000"
    _cfg, errors = check({"sources": {"s": {"type": "file", "paths": ["${NOPE_NOT_SET}"]}}})
    assert [str(e) for e in errors] == [
        "sources.s.paths[0]: environment variable NOPE_NOT_SET is not set — export NOPE_NOT_SET or write ${NOPE_NOT_SET:-default}"
    ]


def test_yaml_syntax_and_missing_file(tmp_path: Path) -> None:
    f = tmp_path / "broken.yaml"
    f.write_text("sources: {edge: [\n")
    _cfg, errors = validate_file(f)
    assert "not valid YAML at line" in str(errors[0])
    _cfg, errors = validate_file(tmp_path / "absent.yaml")
    assert "config file not found" in str(errors[0])


def test_component_models_imported_when_their_type_is_used() -> None:
    """COMPONENTS names every type, but imports an options module (its pydantic models) only
    when a config uses one of its types: a config of a redact stage imports no sigma options."""
    import subprocess
    import sys

    code = ("import sys; from secpipe.config.models import COMPONENTS, check; "
            "cfg, errs = check({'transforms': {'r': {'type': 'redact', 'inputs': []}}}); assert cfg and not errs, errs; "
            "assert 'sigma' in COMPONENTS and len(COMPONENTS) == 17; "
            "print(sorted(m for m in sys.modules if m.endswith('.options')))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['secpipe.transforms.protect.options']"
