"""runtime.memory: glibc allocator settings at process start."""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import sys
import textwrap

import pytest

from secpipe.runtime import memory


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt settings are glibc's")
def test_tune_applies_on_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    for k in [k for k in os.environ if k.startswith("MALLOC_")]:
        monkeypatch.delenv(k)
    assert memory.tune() is True


def test_operator_malloc_settings_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "2")
    assert memory.tune() is False


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt settings are glibc's")
def test_large_buffers_are_reused_not_faulted_in_again() -> None:
    """After tune, a freed 100 MB buffer is reused by the next one (a scanner report's
    document and copies are that size): five in a row fault their pages in about once, where
    glibc's defaults map and fault each afresh."""
    code = textwrap.dedent("""
        import resource, sys
        from secpipe.runtime import memory
        if sys.argv[1] == "tuned":
            assert memory.tune()
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(5):
            b = bytearray(100 << 20)
            del b
        print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    faults = {mode: int(subprocess.run([sys.executable, "-c", code, mode], env=env, check=True,
                                       capture_output=True, text=True).stdout) for mode in ("default", "tuned")}  # fmt: skip
    pages = 5 * (100 << 20) // resource.getpagesize()
    assert faults["default"] >= pages * 0.9
    assert faults["tuned"] < pages * 0.4


#: the child starts with THP allowed whatever its parent runs with (the flag is inherited: the test
#: process itself loses THP once any test builds a protect pipeline in it)
_THP_ON = "import ctypes; ctypes.CDLL(None).prctl(41, 0, 0, 0, 0)\n"


def _thp_enabled(env_thp: str | None) -> str:
    code = _THP_ON + "from secpipe.runtime import memory; import sys; sys.stderr.write(str(memory.no_huge_pages())); " \
           "print([l for l in open('/proc/self/status') if l.startswith('THP_enabled')][0].split()[1])"
    env = {k: v for k, v in os.environ.items() if k != "SECPIPE_THP"}
    if env_thp is not None:
        env["SECPIPE_THP"] = env_thp
    return subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True).stdout.strip()


@pytest.mark.skipif(not os.path.exists("/proc/self/status") or "THP_enabled" not in open("/proc/self/status").read(),
                    reason="the kernel reports no THP_enabled (Linux >= 5.0)")  # fmt: skip
def test_huge_pages_off_unless_kept() -> None:
    """no_huge_pages turns THP off for the process (the kernel's own report of it), and
    SECPIPE_THP=1 keeps them (0 or empty does not)."""
    assert _thp_enabled(None) == "0"
    assert _thp_enabled("0") == "0"
    assert _thp_enabled("1") == "1"


@pytest.mark.skipif(not os.path.exists("/proc/self/status") or "THP_enabled" not in open("/proc/self/status").read(),
                    reason="the kernel reports no THP_enabled (Linux >= 5.0)")  # fmt: skip
@pytest.mark.parametrize(("stage", "want"), [("redact", "0"), ("tokenize", "0"), ("mask", "0"), (None, "1")])
def test_protect_pipelines_run_without_huge_pages(stage: str | None, want: str) -> None:
    """Building a pipeline with a protect stage turns THP off for the process; one without
    keeps the kernel's setting."""
    transforms = {} if stage is None else {"p": {"type": stage, "inputs": [], **(
        {"fields": {"actor.user.name": "hmac"}} if stage == "tokenize" else
        {"fields": ["actor.user.name"]} if stage == "mask" else {})}}
    code = _THP_ON + textwrap.dedent(f"""
        from secpipe.config.models import check
        from secpipe.runtime.topology import build_stages
        cfg, errs = check({{"transforms": {transforms!r}}})
        assert cfg is not None, errs
        build_stages(cfg)
        print([l for l in open("/proc/self/status") if l.startswith("THP_enabled")][0].split()[1])
    """)
    env = {k: v for k, v in os.environ.items() if k != "SECPIPE_THP"}
    env.setdefault("SECPIPE_TOKENIZE_KEY", "0" * 64)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == want
