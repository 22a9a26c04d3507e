"""GitLab's other JSON logs, as GitLab's "Log system" page lists them (session 32).

Lines: Elastic's GitLab integration pipeline tests (elastic/integrations ``packages/gitlab/data_stream/
<stream>/_dev/test/pipeline/``: ``integrations`` test-integrations.log, ``git`` test-git.log, ``shell``
test-shell.log, ``pages`` test-pages.log, ``workhorse`` test-workhorse.log), which are GitLab's documented
examples and real daemons' lines; the ActionCable line of ``production_json.log`` is the "Log system"
page's example (gitlab-org/gitlab ``doc/administration/logs/_index.md``). Before: ``--format auto`` took
none of these files (every line dead-lettered, "no format matched"), and an ActionCable line (``method``
and ``path`` null) was dead-lettered by the gitlab format too.
"""

from __future__ import annotations

from pathlib import Path

from secpipe.schema.conformance import check_rows
from tests.unit.holdout_support import ADDRESS_ONLY, auto_decoded, ingest_file

INTEGRATIONS = (
    '{"severity": "ERROR","time": "2018-09-06T14:56:20.439Z","service_class": "Integrations::Jira","project_id": 8,'
    '"project_path": "h5bp/html5-boilerplate","message": "Error sending message","client_url": "http://jira.gitlap.com:8080",'
    '"error": "execution expired"}\n'
    '{"severity": "INFO","time": "2018-09-06T17:15:16.365Z","service_class": "Integrations::Jira","project_id": 3,'
    '"project_path": "namespace2/project2","message": "Successfully posted","client_url": "http://jira.example.com"}\n'
)
GIT = ('{"severity": "ERROR","time": "2019-07-19T22:16:12.528Z","correlation_id": "FeGxww5Hj64","message": "Command failed '
       "[1]: /usr/bin/git merge --no-ff -mMerge branch 'feature_conflict' into 'feature' source/feature_conflict\\n\\nerror: "
       "failed to push some refs to '/Users/vsizov/gitlab-development-kit/repositories/gitlabhq/gitlab_git.git'\"}\n")  # fmt: skip
SHELL = (
    '{"duration_ms": 74.104,"level": "info","method": "POST","msg": "Finished HTTP request","time": "2020-04-17T20:28:46Z",'
    '"url": "http://127.0.0.1:8080/api/v4/internal/allowed"}\n'
    '{"command": "git-upload-pack","git_protocol": "","gl_project_path": "root/example","gl_repository": "project-1",'
    '"level": "info","msg": "executing git command","time": "2020-04-17T20:28:46Z","user_id": "user-1","username": "root"}\n'
)
PAGES = (
    '{"level": "info","msg": "GitLab Pages Daemon","revision": "52b2899","time": "2020-04-22T17:53:12Z","version": "1.17.0"}\n'
    '{"content_type":"text/html; charset=utf-8","correlation_id":"01KKGZ8TK5XTX98RFMESGT7A7A","duration_ms":0,'
    '"host":"127.0.0.1:8090","level":"info","method":"GET","msg":"access","pages_https":false,"proto":"HTTP/1.1",'
    '"read_bytes":82,"referrer":"","remote_addr":"127.0.0.1:49486","remote_ip":"127.0.0.1","status":404,"system":"http",'
    '"time":"2026-03-12T12:10:17Z","ttfb_ms":0,"uri":"/","user_agent":"curl/8.15.0-DEV","written_bytes":3725}\n'
)
WORKHORSE = (
    '{"correlation_id":"01HY0V78D6BPJZEHFT0JMDGZR7","encoding":"","file":"/opt/gitlab/embedded/service/gitlab-rails/public/'
    'assets/webpack/super_sidebar.f1faf451.chunk.js","level":"info","method":"GET","msg":"Send static file",'
    '"time":"2024-05-16T13:59:44Z","uri":"/assets/webpack/super_sidebar.f1faf451.chunk.js"}\n'
    "redis: 2024/05/16 15:21:18 pubsub.go:168: redis: discarding bad PubSub connection: EOF\n"
    '{"error":"keywatcher: pubsub receive: EOF","level":"error","msg":"","time":"2024-05-16T15:21:18Z"}\n'
)
ACTION_CABLE = (
    '{"method":null,"path":null,"format":null,"controller":"IssuesChannel","action":"subscribe","status":200,'
    '"time":"2020-05-14T19:46:22.008Z","params":[{"key":"project_path","value":"gitlab/gitlab-foss"},{"key":"iid","value":"1"}],'
    '"remote_ip":"127.0.0.1","user_id":1,"username":"admin","correlation_id":"jSOIEynHCUa","duration_s":0.32566}\n'
)


def _ingest(tmp_path: Path, name: str, text: str) -> tuple[list[str], list[dict]]:
    path = tmp_path / name
    path.write_text(text)
    return ingest_file(path, tmp_path / f"data-{name}")


def test_rails_and_go_service_logs_are_gitlab_base_events(tmp_path: Path) -> None:
    for name, text, n in (("integrations_json.log", INTEGRATIONS, 2), ("git_json.log", GIT, 1), ("gitlab-shell.log", SHELL, 2)):
        dead, rows = _ingest(tmp_path, name, text)
        assert dead == [] and len(rows) == n, name
        assert {(r["metadata"]["product"]["name"], r["class_name"]) for r in rows} == {("GitLab", "Base Event")}, name
    _dead, rows = _ingest(tmp_path, "integrations", INTEGRATIONS)
    err = next(r for r in rows if r["message"] == "Error sending message")
    assert (err["severity_id"], err["time"]) == (4, 1536245780439)  # ERROR; the line's time
    _dead, rows = _ingest(tmp_path, "shell", SHELL)
    git = next(r for r in rows if r["message"] == "executing git command")
    assert git["actor"]["user"] == {"name": "root", "uid": "user-1"}  # the user a Go service names


def test_pages_access_line_is_http_activity(tmp_path: Path) -> None:
    dec = auto_decoded(PAGES.encode(), tmp_path, "gitlab")  # (the lake's union of classes drops a class's own columns)
    rows = [r for b in dec.batches for r in b.to_pylist()]
    assert not dec.dead and [r["class_name"] for r in rows].count("HTTP Activity") == 1
    access = next(r for r in rows if r["class_name"] == "HTTP Activity")
    assert (access["activity_name"], access["status"], access["http_response"]["code"]) == ("Get", "Failure", 404)
    assert (access["http_request"]["url"]["path"], access["http_request"]["version"], access["http_response"]["length"]) == ("/", "1.1", 3725)
    assert (access["src_endpoint"]["ip"], access["dst_endpoint"]["hostname"], access["dst_endpoint"]["port"]) == ("127.0.0.1", "127.0.0.1", 8090)
    problems = {k for k in check_rows("http_activity", [access]) if ADDRESS_ONLY not in k}
    assert not problems, problems
    daemon = next(r for r in rows if r["class_name"] == "Base Event")
    assert daemon["message"] == "GitLab Pages Daemon"


def test_workhorse_json_lines_kept_its_library_stderr_line_dead_lettered(tmp_path: Path) -> None:
    dead, rows = _ingest(tmp_path, "workhorse.log", WORKHORSE)
    assert len(rows) == 2 and dead == ["not a JSON object"]
    assert {r["severity_id"] for r in rows} == {1, 4}  # info, error
    assert next(r for r in rows if r["severity_id"] == 4).get("message") is None  # an empty msg is no message


def test_production_json_actioncable_line(tmp_path: Path) -> None:
    dead, rows = _ingest(tmp_path, "production_json.log", ACTION_CABLE)
    assert dead == [] and len(rows) == 1
    row = rows[0]
    assert (row["class_name"], row["api"]["operation"]) == ("API Activity", "IssuesChannel#subscribe")
    assert (row["actor"]["user"]["name"], row["src_endpoint"]["ip"]) == ("admin", "127.0.0.1")
