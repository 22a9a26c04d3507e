"""``secpipe rules check|test`` and ``secpipe hunt``: Sigma rule tooling and retro-hunts."""

from __future__ import annotations

from pathlib import Path

import orjson
import typer

from secpipe.cli._common import CliError, DataOpt, JsonOpt

rules_app = typer.Typer(help="Sigma rules: check support, run rule unit tests.", no_args_is_help=True)


@rules_app.command("check")
def check(
    paths: list[str] = typer.Argument(..., help="Rule files or directories."),
    as_json: bool = JsonOpt,
    pipeline: list[str] = typer.Option([], "--pipeline", "-p", help="pySigma pipeline / fieldmappings YAML."),
) -> None:
    """Compile the rules; report each unsupported rule with the exact reason."""
    from secpipe.detect.sigma.correlation import resolve
    from secpipe.detect.sigma.rules import load_rules

    rs = load_rules(paths, pipelines=pipeline or None)
    _, bad_corr = resolve(rs)
    unsupported = [{"rule": u.rule, "reason": u.reason} for u in rs.unsupported]
    unsupported += [{"rule": t, "reason": r} for t, r in bad_corr]
    out = {"total": rs.total, "supported": rs.total - len(unsupported), "unsupported": unsupported}
    if as_json:
        typer.echo(orjson.dumps(out).decode())
    else:
        typer.echo(f"{out['supported']}/{out['total']} rules supported")
        for u in unsupported:
            typer.echo(f"  UNSUPPORTED {u['rule']}: {u['reason']}")
    raise typer.Exit(0 if not unsupported else 1)


@rules_app.command("test")
def test(paths: list[str] = typer.Argument(..., help="Rule test YAML files or directories."), as_json: bool = JsonOpt) -> None:
    """Run rule unit tests (rule, sample events, expected matches)."""
    from secpipe.detect.sigma.ruletest import run_tests

    results = run_tests(paths)
    failed = [r for r in results if not r.passed]
    if as_json:
        typer.echo(orjson.dumps({"cases": len(results), "passed": len(results) - len(failed),
                                 "failed": [{"file": r.file, "name": r.name, "errors": r.errors} for r in failed]}).decode())
    else:
        for r in results:
            typer.echo(f"{'PASS' if r.passed else 'FAIL'} {r.file}: {r.name}")
            for e in r.errors:
                typer.echo(f"     {e}")
        typer.echo(f"{len(results) - len(failed)}/{len(results)} rule tests passed")
    if not results:
        typer.echo("error: no rule tests found (YAML files with a top-level `tests:` list)", err=True)
        raise typer.Exit(2)
    raise typer.Exit(1 if failed else 0)


def hunt(
    rules: list[str] = typer.Option(..., "--rules", "-r", help="Rule files or directories (repeatable)."),
    data: Path = DataOpt,
    since: str | None = typer.Option(None, "--since", help="Only events newer than this (30m, 24h, 7d)."),
    as_json: bool = JsonOpt,
    pipeline: list[str] = typer.Option([], "--pipeline", "-p", help="pySigma pipeline / fieldmappings YAML."),
) -> None:
    """Run rules over the lake (retro-hunt); write the findings and print hits per rule."""
    from secpipe.detect.sigma.hunt import hunt as run_hunt
    from secpipe.detect.sigma.rules import load_rules

    rs = load_rules(rules, pipelines=pipeline or None)
    if not rs.rules and not rs.correlations:
        why = "; ".join(f"{u.rule}: {u.reason.splitlines()[0]}" for u in rs.unsupported[:3]) or "no .yml/.yaml rule found"
        msg = f"no rule to run ({why}) — see `secpipe rules check {' '.join(rules)}`"
        raise CliError(msg)
    if rs.unsupported:
        typer.echo(f"warning: {len(rs.unsupported)} unsupported rule(s) skipped — see `secpipe rules check`", err=True)
    res = run_hunt(rs, data, since)
    if as_json:
        doc: dict[str, object] = {"rules": res.rules, "events_scanned": res.events_scanned, "findings": res.findings,
                                  "correlations": res.correlations, "hits": res.hits}
        if res.blind:  # rules not run on events stored without raw_data -> the fields they missed
            doc["blind"] = res.blind
        typer.echo(orjson.dumps(doc).decode())
        return
    typer.echo(f"{res.rules} rules over {res.events_scanned} events: {res.findings} findings, {res.correlations} correlations")
    for rid, fields in res.blind.items():
        typer.echo(f"warning: {rs.by_id[rid].title} ({rid}) not run on events stored without raw_data: no column "
                   f"for {', '.join(fields)} — keep raw_data in the lake or map the fields with --pipeline", err=True)
    for rid, n in sorted(res.hits.items(), key=lambda kv: -kv[1]):
        if n:
            typer.echo(f"  {n:8d}  {rs.by_id[rid].title}  ({rid})")


def register(app: typer.Typer) -> None:
    app.add_typer(rules_app, name="rules")
    app.command("hunt")(hunt)
