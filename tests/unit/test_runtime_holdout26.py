"""Real samples secpipe was not developed against, round 26: runtime and alerting formats (Falco,
OPA decision logs, Alertmanager, Prometheus; ``tests/cases/holdout``, see its SOURCE.md heading
"Round 26 (runtime)").

Expectations are written from the source documents and the producers' own references (the
Falco plugins' field tables, the producers' API definitions), not from secpipe's output.
"""

from __future__ import annotations

import json

from tests.unit.test_formats_holdout import _auto, _rows


def test_falco_gcpaudit_plugin_alerts_name_the_caller_its_address_and_call() -> None:
    """The ``gcpaudit`` plugin's alerts (falcosecurity/plugins README, ``source`` ``gcp_auditlog``
    and the older ``auditlogs``): the caller (``gcp.user``, its principal email), its address
    (``gcp.callerIP``) and user agent (``gcp.userAgent``) were left in ``evidences[0].data``
    only; they are the evidence's actor, source endpoint and HTTP request, as for the
    CloudTrail, Okta and k8saudit plugins' fields."""
    name, d = _auto("falco-plugins-gcpaudit-readme-alerts.jsonl")
    assert name == "falco" and not d.dead and d.events == 4
    rows = _rows(d)
    assert [r["finding_info"]["title"] for r in rows] == [
        "GCP WAF rule modified or deleted", "GCP Bucket configured to be public",
        "GCP WAF rule modified or deleted", "GCP IAM serviceAccount deleted"]
    assert [r["severity_id"] for r in rows] == [2, 5, 2, 2]  # Notice Low, Critical Critical
    assert [r["metadata"]["log_source"] for r in rows] == ["gcp_auditlog", "gcp_auditlog", "auditlogs", "gcp_auditlog"]
    waf, bucket, old, sa = (r["evidences"][0] for r in rows)
    assert rows[0]["time"] == 1688683434476  # 2023-07-06T22:43:54.476694000Z
    assert waf["actor"]["user"]["name"] == "ahmed.amin@test.com"
    assert waf["actor"]["user"]["email_addr"] == "ahmed.amin@test.com"
    assert waf["src_endpoint"]["ip"] == "41.45.115.69"
    assert waf["http_request"]["user_agent"].startswith("Mozilla/5.0 (X11; Linux x86_64)")
    assert bucket["src_endpoint"]["ip"] == sa["src_endpoint"]["ip"] == "156.204.230.94"
    assert rows[1]["finding_info"]["types"] == ["GCP", "buckets", "compliance"]
    # the older alert prints no gcp.callerIP (its keys "gcp.userAgent " end in a space): no endpoint
    assert old["actor"]["user"]["name"] == "ahmed.amin@test.com" and old["src_endpoint"] is None
    assert json.loads(old["data"])["al.principal.ip"] == "x.x.x.x"
    assert rows[3]["device"]["hostname"] == "sherlock-ThinkBook-15-G2-ITL"


def test_opa_envoy_decisions_name_the_checked_service_host_and_request() -> None:
    """opa-envoy-plugin 0.28.0's console decision logs in OSM's external-authorization demo: the
    Envoy CheckRequest's destination (the bookstore service, ``10.0.16.44:14001``) was left in
    ``api.request.data`` only, as were the request's host (the authority), Envoy's request id and
    protocol; they are the event's ``dst_endpoint`` and ``http_request`` (Envoy's
    ``AttributeContext``). The first call is denied (``result: false``), the second allowed."""
    name, d = _auto("osm-opa-envoy-console-decisions.jsonl")
    assert name == "opa" and not d.dead and d.events == 2
    denied, allowed = _rows(d)
    assert (denied["action"], denied["disposition"], allowed["action"]) == ("Denied", "Blocked", "Allowed")
    assert denied["authorizations"][0]["policy"]["name"] == "envoy/authz/allow"
    assert denied["time"] == 1620091278197  # 2021-05-04T01:21:18.1971808Z
    assert denied["metadata"]["product"]["version"] == "0.28.0-envoy"
    for r in (denied, allowed):
        assert (r["dst_endpoint"]["ip"], r["dst_endpoint"]["port"]) == ("10.0.16.44", 14001)
        assert r["src_endpoint"]["ip"] == "10.244.2.10"
        url = r["http_request"]["url"]
        assert (url["hostname"], url["port"]) == ("bookstore.bookstore", 14001)
        assert r["http_request"]["version"] == "1.1" and r["http_request"]["user_agent"] == "Go-http-client/1.1"
    assert denied["http_request"]["url"]["path"] == "/books-bought"
    assert allowed["http_request"]["url"]["path"] == "/buy-a-book/new"
    assert (denied["http_request"]["uid"], allowed["http_request"]["uid"]) == ("6079090369556950701",
                                                                              "14741973070759351541")


def test_falco_k8saudit_alerts_keep_the_request_uri_and_response_code() -> None:
    """Round 23's ``k8saudit-ovh`` alerts (falco-website blog): the request URI (``ka.uri``, the
    k8saudit plugin's "request URI as sent from client to server") and the API server's answer
    (``ka.response.code``) were left in ``evidences[0].data`` only; they are the evidence's
    HTTP request path and HTTP response code (the 403 is the denied event patch)."""
    name, d = _auto("falco-website-k8saudit-ovh-console.log")
    assert name == "falco" and not d.dead
    ev = [r["evidences"][0] for r in _rows(d)]
    assert [e["http_response"]["code"] for e in ev] == [200, 403, 200]
    assert ev[1]["http_request"]["url"]["path"] == "/api/v1/namespaces/default/events/my-pool-1.18051c0a88716868"
    assert ev[1]["http_request"]["url"]["query_string"] is None
    assert ev[2]["http_request"]["url"]["path"] == "/apis/kube.cloud.ovh.com/v1alpha1/nodepools/my-pool-1/status"
    assert (ev[1]["actor"]["user"]["name"], ev[1]["api"]["operation"]) == ("yacht", "patch")


def test_grafana_prometheus_compatible_alerts_answer_with_a_normal_instance() -> None:
    """A live Grafana's ``/api/prometheus/grafana/api/v1/alerts`` answer (grafana_api_sdk's
    integration test): Grafana lists an instance in its own state words, here ``Normal`` with
    ``activeAt`` Go's zero time (never active). It was stored as status Other, timed and first
    seen in year 1 (-62135596800000 ms); a Normal instance is Resolved (Close, as an
    Alertmanager resolved alert) and the zero time is no time (the receipt's is taken)."""
    name, d = _auto("grafana-api-sdk-prometheus-alerts.json")
    assert name == "alertmanager" and not d.dead and d.events == 1
    (row,) = _rows(d)
    assert (row["status_id"], row["status"], row["status_detail"]) == (4, "Resolved", "Normal")
    assert row["activity_id"] == 3
    assert row["time"] > 0 and row["start_time"] is None
    assert row["finding_info"]["created_time"] is None and row["finding_info"]["first_seen_time"] is None
    assert row["finding_info"]["analytic"]["name"] == "Test"
    assert {"name": "grafana_folder", "value": "Github Integrationtest"} in row["finding_info"]["tags"]
