"""OPA decision-log shapes from OPA's source and docs, beyond the visible sample.

Sources (expected values written from these texts and the OCSF 1.8.0 schema):
- open-policy-agent/opa ``plugins/logs`` ``EventV1``: labels, decision_id, trace_id, span_id,
  revision, bundles, path (omitempty: ad-hoc queries carry ``query`` instead), input, result,
  mapped_result, nd_builtin_cache, erased, masked, error, requested_by, timestamp, metrics,
  req_id, request_context.
- docs/management-decision-logs.md: the plugin POSTs a gzip-compressed JSON array;
  ``erased``/``masked`` list JSON pointers removed/masked by the mask policy.
- opa-envoy-plugin input (``attributes.request.http``, ``attributes.source.address.socketAddress``)
  and result (``{"allowed": bool, ...}``); kube-mgmt admission control input/result
  (AdmissionReview ``request.operation``/``userInfo``, ``response.allowed``).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from secpipe import formats
from tests.helpers import ingest
from tests.unit.spec_support import detected, rows


def test_adhoc_query_without_path_and_with_undefined_result() -> None:
    ev = {"labels": {"id": "5b7e", "version": "0.61.0"}, "decision_id": "d-1", "query": "data.x.allow = true",
          "requested_by": "127.0.0.1:51234", "timestamp": "2024-03-01T10:00:00.123456789+01:00", "req_id": 7}
    doc = json.dumps(ev).encode()
    assert detected(doc) == "opa"
    (r,) = rows(formats.get("opa").decode(doc, "spec"))
    assert r["class_uid"] == 6003 and r["api"]["operation"] == "data.x.allow = true"
    assert r["time"] == 1709283600123  # 10:00 +01:00 = 09:00Z
    assert r["action_id"] == 0 and r["src_endpoint"] == {"ip": "127.0.0.1", "port": 51234}
    assert json.loads(r["unmapped"]) == {"labels": {"id": "5b7e", "version": "0.61.0"}, "req_id": 7}


def test_erased_masked_nd_cache_and_trace_ids() -> None:
    ev = {"labels": {"id": "a"}, "decision_id": "d-2", "trace_id": "0af7651916cd43dd8448eb211c80319c",
          "span_id": "b7ad6b7169203331", "path": "authz/allow", "erased": ["/input/password"], "masked": ["/input/ssn"],
          "nd_builtin_cache": {"time.now_ns": {"[]": 1709283600000000000}}, "result": False,
          "intermediate_results": {"authz/roles": ["dev"]}, "timestamp": "2024-03-01T10:00:00Z",
          "metrics": {"timer_server_handler_ns": 1200}}
    (r,) = rows(formats.get("opa").decode(json.dumps([ev]).encode(), "spec"))
    assert r["action"] == "Denied" and r["authorizations"][0]["decision"] == "denied"
    assert r["trace"]["uid"] == "0af7651916cd43dd8448eb211c80319c" and r["trace"]["span"]["uid"] == "b7ad6b7169203331"
    left = json.loads(r["unmapped"])
    for key in ("erased", "masked", "nd_builtin_cache", "intermediate_results", "metrics", "labels"):
        assert left[key] == ev[key]
    assert r["api"]["request"]["data"] is None  # input erased


def test_error_gives_failure_with_message_and_code() -> None:
    ev = {"decision_id": "d-3", "path": "authz/allow", "timestamp": "2024-03-01T10:00:00Z",
          "error": {"code": "eval_conflict_error", "message": "functions must not produce multiple outputs"}}
    (r,) = rows(formats.get("opa").decode(json.dumps(ev).encode(), "spec"))
    assert r["status"] == "Failure" and r["status_id"] == 2
    assert r["status_detail"] == "functions must not produce multiple outputs"
    assert r["status_code"] == "eval_conflict_error"
    assert json.loads(r["unmapped"])["error"] == ev["error"]


def test_envoy_check_uses_the_downstream_client() -> None:
    inp = {"attributes": {"request": {"http": {"method": "DELETE", "path": "/api/users/7",
                                               "headers": {"user-agent": "curl/8.5.0"}}},
                          "source": {"address": {"socketAddress": {"address": "10.1.2.3", "portValue": 40000}}}}}
    ev = {"decision_id": "d-4", "path": "envoy/authz/allow", "input": inp, "result": {"allowed": False, "http_status": 403},
          "requested_by": "", "timestamp": "2024-03-01T10:00:00Z"}
    (r,) = rows(formats.get("opa").decode(json.dumps(ev).encode(), "spec"))
    assert r["activity_id"] == 4 and r["http_request"]["http_method"] == "DELETE"
    assert r["http_request"]["url"]["path"] == "/api/users/7" and r["http_request"]["user_agent"] == "curl/8.5.0"
    assert r["src_endpoint"] == {"ip": "10.1.2.3", "port": 40000}
    assert r["action"] == "Denied" and r["disposition"] == "Blocked"


def test_kubernetes_admission_review_decision() -> None:
    inp = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
           "request": {"operation": "CREATE", "userInfo": {"username": "alice"}, "namespace": "prod"}}
    res = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
           "response": {"allowed": False, "status": {"message": "privileged pods are not allowed"}}}
    ev = {"decision_id": "d-5", "path": "system/main", "input": inp, "result": res, "timestamp": "2024-03-01T10:00:00Z"}
    (r,) = rows(formats.get("opa").decode(json.dumps(ev).encode(), "spec"))
    assert r["activity_id"] == 1 and r["actor"]["user"]["name"] == "alice"
    assert r["action_id"] == 2


def test_console_logger_lines_and_gzip_upload(tmp_path: Path) -> None:
    line = {"decision_id": "d-6", "path": "a/b", "result": True, "timestamp": "2024-03-01T10:00:00Z",
            "labels": {"id": "x"}, "level": "info", "msg": "Decision Log", "time": "2024-03-01T10:00:01Z"}
    nd = (json.dumps(line) + "\n" + json.dumps({**line, "decision_id": "d-7"}) + "\n").encode()
    assert detected(nd) == "opa"
    got = rows(formats.get("opa").decode(nd, "spec"))
    assert [r["api"]["request"]["uid"] for r in got] == ["d-6", "d-7"]
    assert json.loads(got[0]["unmapped"])["msg"] == "Decision Log"
    # the decision-log plugin's body: a gzip JSON array, ingested from a file by --format auto
    body = tmp_path / "upload.json.gz"
    body.write_bytes(gzip.compress(json.dumps([line, {**line, "decision_id": "d-8", "result": False}]).encode()))
    summary = ingest(tmp_path / "d", body)
    assert summary["stored"] == {"api_activity": 2} and summary["dead_letter"] == 0


# open-policy-agent/opa docs/docs/management-decision-logs.md ("Masking Sensitive Data"), verbatim:
# the docs elide the middle of the decision with a "8<" cut line.
_DOCS_ERASED = b"""{
  "decision_id": "b4638167-7fcb-4bc7-9e80-31f5f87cb738",
  "erased": [
    "/input/password",
    "/input/ssn"
  ],
  "input": {
    "name": "bob",
    "resource": "user"
  },
------------------------- 8< -------------------------
  "path": "system/main",
  "requested_by": "127.0.0.1:36412",
  "result": true,
  "timestamp": "2019-06-03T20:07:16.939402185Z"
}
"""


def test_docs_example_with_cut_line_is_one_decision() -> None:
    from secpipe.formats.opa import Opa

    dec = Opa().decode(_DOCS_ERASED, "docs")
    assert dec.dead == [] and dec.events == 1
    (row,) = [r for b in dec.batches for r in b.to_pylist()]
    assert row["metadata"]["uid"] and row["api"]["operation"] == "system/main"
    broken = _DOCS_ERASED.replace(b'"result": true', b'"result": tru')
    assert Opa().decode(broken, "docs").dead  # only the cut line is forgiven
