"""The ``deploy_risk`` stage: score each deployment event and emit a risk finding.

Deployment events it recognises (vectorized masks; only matching rows are read):
- Kubernetes audit (``api_activity`` 6003): ``api.operation`` create/patch/update of a
  ``deployments``, ``statefulsets`` or ``daemonsets`` resource;
- CI/CD events whose product is GitHub, GitLab or Jenkins and whose ``metadata.event_code``,
  ``activity_name`` or ``api.operation`` mentions ``deploy`` (GitHub ``deployment`` /
  ``deployment_status``, GitLab deployment), and Jenkins console lines opening a stage whose
  name mentions deploy (``[Pipeline] { (Deploy to prod)``).

For each one it collects the targets: container images (every ``image`` value in the
original event, e.g. a pod template's containers), the repository (``repository.full_name``,
``project.path_with_namespace``, a repository resource, else ``app.name`` which the CI/CD
formats set to the repository) and the resource names. It then
queries the lake (DuckDB over committed Parquet, so findings still buffered are not seen):

- open (status New/In Progress/unknown) critical and high ``vulnerability_finding`` rows
  whose resources mention an image or the repository;
- ``detection_finding`` rows within ``lookback`` whose resources mention the same targets;
- a missing review: no ``review``/``reviews``/``approved``/``approvals``/``approved_by``/
  ``reviewers`` value anywhere in the event.

Score = min(100, criticals x w.critical_vuln + highs x w.high_vuln (vulns capped at 60)
+ detections x w.detection (capped at 30) + w.missing_review). The finding
(``detection_finding``, ``risk_score`` set, types ``Deployment risk`` and ``high-risk-deployment``
when score >= ``high_risk_score``) carries every reason in ``message`` and ``unmapped`` and is
routed by a later ``alert`` stage like any other finding. Its uid hashes the deployment
event uid, so a replay scores the same event once.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.respond._columns import column
from secpipe.respond.finding import FindingRow, findings_batch, stable_uid
from secpipe.respond.options import DeployRiskOptions
from secpipe.respond.router import seconds

log = logging.getLogger("secpipe.respond.deploy_risk")
K8S_KINDS = ["deployments", "statefulsets", "daemonsets"]
CI_PRODUCTS = ["GitHub", "GitLab", "Jenkins", "github", "gitlab", "jenkins"]
REVIEW_KEYS = {"review", "reviews", "approved", "approvals", "approved_by", "reviewers"}


def deployment_mask(batch: pa.RecordBatch) -> pa.Array | None:
    """True for rows that are deployment events (None when the batch cannot hold any)."""
    masks = []
    op, rtype = column(batch, "api.operation"), column(batch, "resources.type")
    if op is not None and rtype is not None:
        masks.append(pc.and_(pc.is_in(op, value_set=pa.array(["create", "patch", "update"])),
                             pc.is_in(rtype, value_set=pa.array(K8S_KINDS))))
    prod = column(batch, "metadata.product.name")
    if prod is not None:
        hints = [c for p in ("metadata.event_code", "activity_name", "api.operation") if (c := column(batch, p)) is not None]
        if hints:
            mention = hints[0].cast(pa.string())
            for h in hints[1:]:
                mention = pc.binary_join_element_wise(pc.fill_null(mention, ""), pc.fill_null(h.cast(pa.string()), ""), " ")
            masks.append(pc.and_(pc.is_in(prod, value_set=pa.array(CI_PRODUCTS)),
                                 pc.match_substring(pc.fill_null(mention, ""), "deploy", ignore_case=True)))
    msg = column(batch, "message")
    if prod is not None and msg is not None:  # Jenkins console: the line opening a deploy stage
        masks.append(pc.and_(pc.is_in(prod, value_set=pa.array(CI_PRODUCTS)),
                             pc.match_substring_regex(pc.fill_null(msg, ""), r"^\[Pipeline\] \{ \(.*deploy.*\)$",
                                                      ignore_case=True)))
    if not masks:
        return None
    out = masks[0]
    for m in masks[1:]:
        out = pc.or_(out, m)
    return pc.fill_null(out, False)


def _walk(obj: Any, keys: set[str], found: dict[str, list[Any]]) -> None:
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in keys and v not in (None, "", [], {}, False):
                found.setdefault(k, []).append(v)
            _walk(v, keys, found)
    elif isinstance(obj, list):
        for v in obj:
            _walk(v, keys, found)


def targets(row: dict[str, Any]) -> tuple[list[str], str, list[str], bool]:
    """(images, repository, resource names, reviewed) of one deployment event row."""
    um: Any = row.get("unmapped")
    if isinstance(um, str):
        try:
            um = orjson.loads(um)
        except orjson.JSONDecodeError:
            um = {}
    found: dict[str, list[Any]] = {}
    _walk(um or {}, {"image", "full_name", "path_with_namespace", *REVIEW_KEYS}, found)
    images = sorted({str(i) for i in found.get("image", []) if isinstance(i, str)})
    repo = ""
    for k in ("full_name", "path_with_namespace"):
        if found.get(k):
            repo = str(found[k][0])
            break
    if not repo and isinstance(row.get("app"), dict) and row["app"].get("name"):
        repo = str(row["app"]["name"])  # CI/CD formats map the repository to the deployed application
    names = []
    if isinstance(row.get("job"), dict) and row["job"].get("name"):
        names.append(str(row["job"]["name"]))
    for r in row.get("resources") or []:
        if r.get("type") in ("repository", "git_repository") and not repo:
            repo = str(r.get("name") or "")
        if r.get("name"):
            names.append(str(r["name"]))
    reviewed = any(found.get(k) for k in REVIEW_KEYS)
    return images, repo, names, reviewed


class DeployRiskStage:
    """Scores deployment events against the lake."""

    def __init__(self, name: str, options: DeployRiskOptions, data_dir: Path) -> None:
        self.name = name
        self.opts = options
        self.data_dir = Path(data_dir)
        self.lookback_ms = int(seconds(options.lookback, f"transforms.{name}.lookback") * 1000)

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        """Pass the batch on, plus one risk finding per deployment event scored >= min_score."""
        mask = deployment_mask(batch)
        if mask is None or not pc.any(mask).as_py():
            return [batch]
        cols = [c for c in ("metadata", "time", "resources", "unmapped", "api", "actor", "app", "job") if c in batch.schema.names]
        deployments = batch.select(cols).filter(mask).to_pylist()
        rows = self.score_all(deployments)
        return [batch, findings_batch(rows, int(time.time() * 1000))] if rows else [batch]

    def score_all(self, deployments: list[dict[str, Any]]) -> list[FindingRow]:
        """Score each deployment (one DuckDB connection for the batch)."""
        from secpipe.store.query import connect

        con, views = connect(self.data_dir)
        try:
            return [r for d in deployments if (r := self.score(con, views, d)) is not None]
        finally:
            con.close()

    def _count(self, con: duckdb.DuckDBPyConnection, sql: str, args: list[Any]) -> tuple[int, ...]:
        try:
            return tuple(int(x or 0) for x in con.execute(sql, args).fetchone() or ())
        except duckdb.Error as exc:  # a view without those columns holds no such findings: count 0, say so
            log.warning("deploy risk: lake query failed (%s); counting 0", str(exc).splitlines()[0])
            return (0, 0)

    def score(self, con: duckdb.DuckDBPyConnection, views: list[str], d: dict[str, Any]) -> FindingRow | None:
        """Score one deployment event row."""
        images, repo, names, reviewed = targets(d)
        w = self.opts.weights
        crit = high = dets = 0
        vuln_targets = [t for t in [*images, repo] if t]
        if "vulnerability_finding" in views and vuln_targets:
            cond = " OR ".join(["contains(lower(CAST(resources AS VARCHAR)), lower(?))"] * len(vuln_targets))
            crit, high = self._count(con, "SELECT count(*) FILTER (WHERE severity_id >= 5), count(*) FILTER (WHERE severity_id"
                                     f" = 4) FROM vulnerability_finding WHERE coalesce(status_id, 1) IN (0, 1, 2) AND ({cond})",
                                     vuln_targets)[:2]
        det_targets = [t for t in [*images, repo, *names] if t]
        t_ms = int(d.get("time") or time.time() * 1000)
        if "detection_finding" in views and det_targets:
            cond = " OR ".join(["contains(CAST(resources AS VARCHAR), ?)"] * len(det_targets))
            dets = self._count(con, f"SELECT count(*), 0 FROM detection_finding WHERE time >= ? AND time <= ? AND ({cond})"
                               " AND coalesce(finding_info.analytic.uid, '') <> 'deploy-risk'",  # not our own scores
                               [t_ms - self.lookback_ms, t_ms, *det_targets])[0]
        reasons = []
        if crit:
            reasons.append(f"{crit} open critical vulnerabilit{'y' if crit == 1 else 'ies'} in {', '.join(vuln_targets)}")
        if high:
            reasons.append(f"{high} open high vulnerabilit{'y' if high == 1 else 'ies'} in {', '.join(vuln_targets)}")
        if dets:
            reasons.append(f"{dets} detection(s) on {', '.join(det_targets)} in the last {self.opts.lookback}")
        if not reviewed:
            reasons.append("no review or approval recorded for this deployment")
        vuln_pts = min(60, crit * w.get("critical_vuln", 25) + high * w.get("high_vuln", 10))
        score = min(100, vuln_pts + min(30, dets * w.get("detection", 10)) + (0 if reviewed else w.get("missing_review", 20)))
        if score < self.opts.min_score:
            return None
        sev = 5 if score >= 80 else 4 if score >= self.opts.high_risk_score else 3 if score >= 30 else 2
        event_uid = str((d.get("metadata") or {}).get("uid") or "")
        what = names[0] if names else (repo or (images[0] if images else "deployment"))
        types = ["Deployment risk"] + (["high-risk-deployment"] if score >= self.opts.high_risk_score else [])
        resources = [{"type": "container_image", "name": i, "labels": [i]} for i in images]
        if repo:
            resources.append({"type": "repository", "name": repo})
        resources += [{"type": "deployment", "name": n} for n in names]
        msg = f"Deployment of {what}: risk {score}/100 — " + "; ".join(reasons or ["no risk factor found"])
        return FindingRow(stable_uid("deploy_risk", self.name, event_uid), t_ms, sev, f"Deployment risk {score}: {what}", msg,
                          "deploy-risk", f"{self.name}/deploy-risk", types, resources, [event_uid] if event_uid else [],
                          {"score": score, "reasons": reasons, "critical_vulns": crit, "high_vulns": high,
                           "detections": dets, "reviewed": reviewed, "images": images, "repository": repo},
                          risk_score=score)


def build_stage(name: str, options: dict[str, Any], data_dir: Path | None = None) -> DeployRiskStage:
    """Factory registered as transform type ``deploy_risk``."""
    return DeployRiskStage(name, DeployRiskOptions.model_validate(options), Path(data_dir or "./secpipe-data"))
