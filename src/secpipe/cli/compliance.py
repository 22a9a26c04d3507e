"""``secpipe compliance``: list the controls, scan the lake, and report per framework.

- ``compliance list [--framework NAME] [--json]`` -- the shipped controls and their mappings.
- ``compliance scan [--data DIR] [--json]`` -- evaluate every pack over the lake and store the
  violations as Compliance Findings (idempotent: a finding's uid is control x event).
- ``compliance report --framework NAME [--data DIR] [--format json|html] [--output FILE]`` --
  per control pass / fail / no data, violation count and evidence event uids; the HTML form
  is a self-contained page with a chart of violations over time.

Frameworks: cis-aws, pci-dss, hipaa, nist-800-53, soc2, k8s, cicd.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson
import typer

from secpipe.cli._common import DataOpt, JsonOpt, existing_data

app = typer.Typer(help="Compliance packs (CIS AWS, Kubernetes, CI/CD) mapped to PCI DSS, HIPAA, NIST 800-53, SOC 2.",
                  no_args_is_help=True)

FrameworkOpt = typer.Option(..., "--framework", "-f", help="cis-aws, pci-dss, hipaa, nist-800-53, soc2, k8s or cicd.")


def _fail(msg: str) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(2)


@app.command("list")
def list_controls(
    framework: str = typer.Option("", "--framework", "-f", help="Only the controls mapped to this framework."),
    as_json: bool = JsonOpt,
) -> None:
    """List the shipped controls with their framework requirement ids."""
    from secpipe.detect.compliance.catalog import ComplianceError, controls_for, load_controls

    try:
        controls = load_controls()
        if framework:
            controls = controls_for(framework, controls)
    except ComplianceError as exc:
        _fail(str(exc))
    rows: list[dict[str, Any]] = [{"control": c.id, "title": c.title, "pack": c.pack, "rules": [r.id for r in c.rules], "level": c.level,
             "frameworks": {k: list(v) for k, v in c.frameworks.items()}} for c in controls]  # fmt: skip
    if as_json:
        sys.stdout.write(orjson.dumps(rows).decode() + "\n")
        return
    for r in rows:
        reqs = "; ".join(f"{k} {', '.join(v)}" for k, v in r["frameworks"].items())
        typer.echo(f"{r['control']:<40} {r['title']}\n{'':<40} {reqs}")


@app.command("scan")
def scan(data: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Evaluate every pack over the lake and store the violations (Compliance Findings)."""
    from secpipe.detect.compliance.catalog import ComplianceError, load_controls
    from secpipe.detect.compliance.evaluate import evaluate_lake
    from secpipe.store.lake import Lake

    try:
        controls = load_controls()
        res = evaluate_lake(existing_data(data), controls)
    except ComplianceError as exc:
        _fail(str(exc))
    stored = 0
    if res.findings is not None:
        lake = Lake(Path(data) / "lake")
        lake.append(res.findings)
        stored = lake.flush().stored.get("compliance_finding", 0)
    out: dict[str, Any] = {"controls": len(controls), "events_scanned": res.events, "violations": res.violations_by_control(), "stored": stored}
    if as_json:
        sys.stdout.write(orjson.dumps(out).decode() + "\n")
        return
    typer.echo(f"scanned {res.events} events with {len(controls)} controls; {stored} new compliance finding(s) stored")
    for control, n in out["violations"].items():
        typer.echo(f"  {control:<40} {n}")


@app.command("report")
def report(
    framework: str = FrameworkOpt,
    data: Path = DataOpt,
    fmt: str = typer.Option("json", "--format", help="json or html."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
) -> None:
    """Per control: pass / fail / no data, violation count, evidence event uids."""
    from secpipe.detect.compliance.catalog import ComplianceError, load_controls
    from secpipe.detect.compliance.catalog import framework as get_framework
    from secpipe.detect.compliance.evaluate import evaluate_lake
    from secpipe.detect.compliance.html import render_html
    from secpipe.detect.compliance.report import build_report, violations_of

    if fmt not in ("json", "html"):
        _fail("--format must be json or html")
    try:
        get_framework(framework)
        controls = load_controls()
        res = evaluate_lake(existing_data(data), controls)
        rep = build_report(data, framework, controls, violations_of(res.findings))
    except ComplianceError as exc:
        _fail(str(exc))
    text = render_html(rep) if fmt == "html" else orjson.dumps(rep, option=orjson.OPT_INDENT_2).decode() + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        s = rep["summary"]
        typer.echo(f"{output}: {s['controls']} controls — {s['pass']} pass, {s['fail']} fail, {s['no data']} no data", err=True)


def register(root: typer.Typer) -> None:
    """Add the ``compliance`` command group."""
    root.add_typer(app, name="compliance")
