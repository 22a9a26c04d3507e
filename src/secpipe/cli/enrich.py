"""``secpipe enrich test`` and ``secpipe intel status``.

``enrich test --config FILE EVENT.json`` decodes one event file (format auto-detected or
``--format``), runs it through the config's enrichment transforms (``threat_intel``,
``geoip``, ``lookup``) in pipeline order, and prints, per transform, every OCSF field it
added or changed, plus the findings it raised. Nothing is written to the lake.

``intel status --config FILE`` lists every feed and allowlist of every ``threat_intel``
transform: indicator counts by kind, expired and skipped entries, last refresh / last
success / last change, and the last error. By default it shows the status a running
pipeline last wrote under ``<data_dir>/intel/<transform>/status.json``; with ``--live`` (or
when no status was written yet) it loads the feeds now. Exit code 1 when any feed has an error.
"""

from __future__ import annotations

import json
from graphlib import TopologicalSorter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from secpipe.cli._common import DataOrConfigOpt, data_for
from secpipe.errors import SecpipeError

if TYPE_CHECKING:  # the config models, formats and stages load when a command runs, not at `--help`
    from secpipe.config.models import PipelineConfig

ENRICH_TYPES = ("threat_intel", "geoip", "lookup")

enrich_app = typer.Typer(help="Enrichment: try the configured enrichments on an event.", no_args_is_help=True)
intel_app = typer.Typer(help="Threat-intelligence feeds.", no_args_is_help=True)


def _enrichments(cfg: PipelineConfig, types: tuple[str, ...] = ENRICH_TYPES) -> list[tuple[str, dict[str, Any]]]:
    graph = {n: {i for i in raw.get("inputs", []) if i in cfg.transforms} for n, raw in cfg.transforms.items()}
    order = list(TopologicalSorter(graph).static_order())
    return [(n, dict(cfg.transforms[n])) for n in order if cfg.transforms[n].get("type") in types]


def _flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(obj, dict):
        out: dict[str, Any] = {}
        for k, v in obj.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else k))
        return out
    return {} if obj is None else {prefix: obj}


def _build(name: str, raw: dict[str, Any], data_dir: Path | None) -> Any:
    from secpipe.transforms.base import STAGES
    if raw.get("type") == "threat_intel":
        raw = {**raw, "background_refresh": False}
    return STAGES[raw["type"]](name, raw, data_dir=data_dir)


@enrich_app.command("test")
def enrich_test(
    event: Path = typer.Argument(..., help="A file with one event (any supported format)."),
    config: Path = typer.Option(..., "--config", "-c", help="Pipeline config (YAML)."),
    fmt: str = typer.Option("auto", "--format", "-f", help="Input format name, or auto."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Show what each enrichment adds to one event."""
    from secpipe.config.models import load_config
    from secpipe.formats import detect, get
    from secpipe.schema.ocsf import class_of
    cfg = load_config(config)
    data = event.read_bytes()
    decoder = get(fmt) if fmt != "auto" else detect(data[:65536])
    if decoder is None:
        typer.echo(f"error: {event}: format not recognised — give it with --format (see `secpipe formats`)", err=True)
        raise typer.Exit(2)
    decoded = decoder.decode(data, str(event))
    if not decoded.batches:
        reasons = "; ".join(d.reason for d in decoded.dead) or "no events"
        typer.echo(f"error: {event}: nothing decoded as {decoder.name}: {reasons}", err=True)
        raise typer.Exit(2)
    stages = [(n, raw["type"], _build(n, raw, None)) for n, raw in _enrichments(cfg)]
    if not stages:
        typer.echo(f"error: {config}: no threat_intel, geoip or lookup transform configured", err=True)
        raise typer.Exit(2)
    report: list[dict[str, Any]] = []
    batch = decoded.batches[0].slice(0, 1)
    before = _flatten(batch.to_pylist()[0])
    for name, typ, stage in stages:
        outs = stage.process(batch)
        batch = outs[0]
        after = _flatten(batch.to_pylist()[0])
        changed = {k: v for k, v in after.items() if before.get(k) != v}
        findings = [_flatten(r) for b in outs[1:] for r in b.to_pylist()]
        report.append({"transform": name, "type": typ, "changed": changed,
                       "findings": [{k: f[k] for k in ("finding_info.title", "severity", "confidence_score") if k in f}
                                    for f in findings]})
        before = after
        if hasattr(stage, "close"):
            stage.close()
    if as_json:
        typer.echo(json.dumps({"event_class": class_of(batch), "format": decoder.name, "transforms": report}, default=str))
        return
    typer.echo(f"event: {event} ({decoder.name} -> {class_of(batch)})")
    for r in report:
        typer.echo(f"\n[{r['transform']}] ({r['type']}): {len(r['changed'])} field(s) added or changed")
        for k, v in sorted(r["changed"].items()):
            typer.echo(f"  {k} = {json.dumps(v, default=str)}")
        for f in r["findings"]:
            typer.echo(f"  finding: {f.get('finding_info.title')} severity={f.get('severity')} "
                       f"confidence={f.get('confidence_score')}")


@intel_app.command("status")
def intel_status(
    config: Path = typer.Option(..., "--config", "-c", help="Pipeline config (YAML)."),
    live: bool = typer.Option(False, "--live", help="Load the feeds now instead of reading the last written status."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    data: Path | None = DataOrConfigOpt,
) -> None:
    """List loaded feeds: indicator counts, last refresh, errors."""
    from secpipe.config.models import load_config
    cfg = load_config(config)
    data_dir = data_for(data, cfg)  # where `secpipe up --data` keeps the feeds' status
    transforms = _enrichments(cfg, ("threat_intel",))
    if not transforms:
        typer.echo(f"error: {config}: no threat_intel transform configured", err=True)
        raise typer.Exit(2)
    out: dict[str, Any] = {}
    for name, raw in transforms:
        status_file = data_dir / "intel" / name / "status.json"
        if not live and status_file.is_file():
            doc = json.loads(status_file.read_text(encoding="utf-8"))
            out[name] = {"source": f"written by the pipeline at {doc.get('written')}", "feeds": doc.get("feeds", [])}
            continue
        try:
            stage = _build(name, raw, data_dir)
        except SecpipeError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        out[name] = {"source": "loaded now", "feeds": stage.store.status()}
        stage.close()
    failed = any(f.get("error") for t in out.values() for f in t["feeds"])
    if as_json:
        typer.echo(json.dumps(out))
    else:
        for name, t in out.items():
            typer.echo(f"{name} ({t['source']})")
            typer.echo(f"  {'feed':<22} {'role':<9} {'indicators':>10} {'expired':>7} {'skipped':>7}  {'last success':<20} error")
            for f in t["feeds"]:
                kinds = ",".join(f"{k}={v}" for k, v in sorted(f.get("by_kind", {}).items()))
                typer.echo(f"  {f['name']:<22} {f['role']:<9} {f['indicators']:>10} {f['expired']:>7} {f['skipped']:>7}  "
                           f"{f.get('last_success') or '-':<20} {f.get('error') or ''}{' (cached copy)' if f.get('from_cache') else ''}")
                if kinds:
                    typer.echo(f"  {'':<22} {kinds}")
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``enrich`` and ``intel`` command groups."""
    app.add_typer(enrich_app, name="enrich")
    app.add_typer(intel_app, name="intel")
