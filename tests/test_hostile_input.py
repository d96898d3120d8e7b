"""Hostile and odd requests against a real gunicorn server: each gets a 4xx JSON answer naming the
problem, no traceback, and the server still answers /healthz within a second right after.

Every row here once answered HTTP 500 (or hung a worker); see issue 12, section 2.
"""

from __future__ import annotations

import json
import socket
import time

import pytest
import requests

from conftest import LiveServer

TOKEN = "hostile-test-token"
READ = "hostile-read-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DEEP = "[" * 100_000 + "]" * 100_000
BIG_INT = "9" * 5000
UPLOAD_LIMIT = 512 * 1024
BODY_LIMIT = 256 * 1024  # above DEEP (200 kB), so the nesting itself is tested


@pytest.fixture(scope="module")
def server(models_dir, tmp_path_factory):
    live = LiveServer(
        models_dir, tmp_path_factory.mktemp("hostile"), TAGGER_ADMIN_TOKEN=TOKEN,
        TAGGER_MAX_BODY_BYTES=str(BODY_LIMIT), TAGGER_MAX_UPLOAD_BYTES=str(UPLOAD_LIMIT), TAGGER_REQUEST_SECONDS="10",
    ).wait_ready()
    yield live.url
    live.stop()


def raw(url: str, payload: bytes, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes to the server; (status, headers, body) of its answer."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(payload)
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def post_json_text(url: str, path: str, body: str, auth: bool = True, **kw) -> requests.Response:
    headers = {"Content-Type": "application/json", **(AUTH if auth else {})}
    return requests.post(url + path, data=body.encode("utf-8", "surrogatepass"), headers=headers, timeout=30, **kw)


def form(url: str, path: str, fields: dict, query: str = "") -> requests.Response:
    files = {"file": ("rows.csv", b"text,labels\n\xe6\xb3\x95\xe9\x99\xa2,courts\n", "text/csv")}
    return requests.post(url + path + query, data=fields, files=files, headers=AUTH, timeout=30)


# (id, request builder(url) -> (status, content-type, body text), expected status, field named or None)
CASES = [
    # JSON nested 100,000 deep: RecursionError in the decoder.
    ("deep-classify", lambda u: post_json_text(u, "/classify", DEEP), 400, None),
    ("deep-classify-text", lambda u: post_json_text(u, "/classify", '{"text": ' + DEEP + "}"), 400, None),
    ("deep-segment", lambda u: post_json_text(u, "/segment", '{"text": ' + DEEP + "}"), 400, None),
    ("deep-feedback", lambda u: post_json_text(u, "/feedback", '{"text": "法院", "labels": ' + DEEP + "}"), 400, None),
    ("deep-train", lambda u: post_json_text(u, "/train", '{"rows": ' + DEEP + "}"), 400, None),
    ("deep-train-params", lambda u: post_json_text(u, "/train", '{"rows": [{"text": "法院"}], "params": {"C": ' + DEEP + "}}"), 400, None),
    ("deep-train-params-form", lambda u: form(u, "/train", {"params": '{"C": ' + DEEP[:20000] + "}"}), 400, "params"),
    # Integers past Python's 4,300-digit conversion limit.
    ("bigint-keywords", lambda u: post_json_text(u, "/classify", '{"text": "法院", "keywords": ' + BIG_INT + "}"), 400, "keywords"),
    ("bigint-segment-text", lambda u: post_json_text(u, "/segment", '{"text": ' + BIG_INT + "}"), 400, "text"),
    ("bigint-feedback-labels", lambda u: post_json_text(u, "/feedback", '{"text": "法院", "labels": [' + BIG_INT + "]}"), 400, "labels.0"),
    ("bigint-threshold", lambda u: post_json_text(u, "/classify", '{"text": "法院", "threshold": ' + BIG_INT + "}"), 400, "threshold"),
    # Hyper-parameters that overflow or are not numbers, through JSON, form field and query string.
    ("params-cv-1e400-json", lambda u: post_json_text(u, "/train", '{"rows": [{"text": "法院"}], "params": {"cv": 1e400}}'), 400, "params"),
    ("params-min-df-1e400-json", lambda u: post_json_text(u, "/train", '{"rows": [{"text": "法院"}], "params": {"word_min_df": 1e400}}'), 400, "params"),
    ("params-C-1e400-json", lambda u: post_json_text(u, "/train", '{"rows": [{"text": "法院"}], "params": {"C": 1e400}}'), 400, "params"),
    ("params-cv-1e400-form", lambda u: form(u, "/train", {"params": '{"cv": 1e400}'}), 400, "params"),
    ("params-C-1e400-query", lambda u: form(u, "/train", {}, '?params={"C":1e400}'), 400, "params"),
    ("params-C-nan-json", lambda u: post_json_text(u, "/train", '{"rows": [{"text": "法院"}], "params": {"C": NaN}}'), 400, None),
    ("params-C-nan-string", lambda u: post_json_text(u, "/train", '{"rows": [{"text": "法院"}], "params": {"C": "nan"}}'), 400, "params"),
    ("params-C-nan-form", lambda u: form(u, "/train", {"params": '{"C": NaN}'}), 400, "params"),
    # Rows that are not what a training CSV can hold.
    ("rows-label-int", lambda u: post_json_text(u, "/train", '{"rows": [{"text": "法院", "labels": [1]}]}'), 400, "rows.0.labels"),
    ("rows-label-null", lambda u: post_json_text(u, "/train", '{"rows": [{"text": "法院", "labels": [null]}]}'), 400, "rows.0.labels"),
    ("rows-lone-surrogate", lambda u: post_json_text(u, "/train", '{"rows": [{"text": "\\ud800", "labels": []}]}'), 400, "rows.0.text"),
    ("feedback-lone-surrogate", lambda u: post_json_text(u, "/feedback", '{"text": "\\ud800法院", "labels": ["courts"]}'), 400, "text"),
    # A version name that is a file of the models directory.
    ("model-active-json", lambda u: requests.get(u + "/models/active.json", timeout=10), 404, None),
    ("activate-active-json", lambda u: requests.post(u + "/models/active.json/activate", headers=AUTH, timeout=10), 404, None),
    # str.isdigit() accepts it, int() does not.
    ("review-superscript", lambda u: requests.get(u + "/review", params={"n": "²"}, headers=AUTH, timeout=10), 400, "n"),
    # Limits: the upload limit is named for /train; 405 lists what is allowed.
    ("train-over-upload-limit", lambda u: requests.post(u + "/train", files={"file": ("a.csv", b"x" * (UPLOAD_LIMIT + 10))}, headers=AUTH, timeout=30), 413, None),
    ("classify-over-body-limit", lambda u: post_json_text(u, "/classify", '{"text": "' + "法" * BODY_LIMIT + '"}'), 413, None),
    ("get-classify", lambda u: requests.get(u + "/classify", timeout=10), 405, None),
]


def _assert_json_4xx(status: int, content_type: str, text: str, expected: int, field: str | None) -> dict:
    assert status == expected, text[:300]
    assert content_type.startswith("application/json"), content_type
    error = json.loads(text)["error"]
    assert error["code"] and error["message"]
    assert "Traceback" not in text and "/work/" not in text and "site-packages" not in text
    if field:
        assert error.get("field") == field, error
        assert field.split(".")[0] in error["message"]
    return error


def _assert_alive(url: str) -> None:
    started = time.monotonic()
    assert requests.get(url + "/healthz", timeout=1).status_code == 200
    assert time.monotonic() - started < 1


@pytest.mark.parametrize("case,send,status,field", CASES, ids=[c[0] for c in CASES])
def test_hostile_request_gets_a_json_4xx(server, case, send, status, field):
    response = send(server)
    error = _assert_json_4xx(response.status_code, response.headers.get("Content-Type", ""), response.text, status, field)
    if case == "train-over-upload-limit":
        assert "TAGGER_MAX_UPLOAD_BYTES" in error["message"]
    if case == "get-classify":
        assert "POST" in response.headers["Allow"]
    _assert_alive(server)


RAW_CASES = [
    ("long-url", b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    ("bad-header", b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n", 400),
    ("bad-request-line", b"NOT AN HTTP REQUEST\r\n\r\n", 400),
    ("bad-chunk-size", b"POST /classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
    (
        "chunked-over-body-limit",
        b"POST /classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + b"".join(b"%x\r\n%s\r\n" % (4096, b"a" * 4096) for _ in range(BODY_LIMIT // 4096 + 4)) + b"0\r\n\r\n",
        413,
    ),
]


@pytest.mark.parametrize("case,payload,status", RAW_CASES, ids=[c[0] for c in RAW_CASES])
def test_server_level_errors_are_json_too(server, case, payload, status):
    got, headers, body = raw(server, payload)
    _assert_json_4xx(got, headers.get("content-type", ""), body.decode("utf-8", "replace"), status, None)
    _assert_alive(server)


def test_catastrophic_backtracking_input_is_answered(server):
    """The reproducer of issue 12: once minutes of regex backtracking per request."""
    for path in ("/segment", "/classify"):
        body = {"text": "（" + "字" * 48 + "x", "split": True} if path == "/classify" else {"text": "（" + "字" * 48 + "x"}
        response = requests.post(server + path, json=body, timeout=30)
        assert response.status_code == 200, response.text
    _assert_alive(server)


def test_unauthenticated_errors_show_no_server_paths(server):
    for response in (
        requests.get(server + "/models/nope", timeout=10),
        requests.post(server + "/models/nope/activate", timeout=10),
        requests.get(server + "/jobs/nope", timeout=10),
    ):
        assert 400 <= response.status_code < 500
        assert "/tmp" not in response.text and "/work" not in response.text, response.text


@pytest.fixture(scope="module")
def read_server(models_dir, tmp_path_factory):
    live = LiveServer(models_dir, tmp_path_factory.mktemp("read"), workers=1, TAGGER_READ_TOKEN=READ).wait_ready()
    yield live.url
    live.stop()


def test_read_token_is_checked_before_the_body(read_server):
    # A body that would be a 400 if parsed: without the token it must be a 401 first.
    response = post_json_text(read_server, "/classify", DEEP, auth=False)
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
    ok = requests.post(read_server + "/classify", json={"text": "法院公开宣判"}, headers={"Authorization": f"Bearer {READ}"}, timeout=10)
    assert ok.status_code == 200


def test_slow_clients_do_not_block_the_server(server):
    """Four sockets that send headers and part of a body, then stall: others are still served."""
    host, port = server.removeprefix("http://").split(":")
    stalled = []
    try:
        for _ in range(4):
            sock = socket.create_connection((host, int(port)), timeout=5)
            sock.sendall(b"POST /classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"text\": \"")
            stalled.append(sock)
        time.sleep(0.5)
        for _ in range(3):
            _assert_alive(server)
            started = time.monotonic()
            response = requests.post(server + "/classify", json={"text": "派出所民警抓获盗窃嫌疑人"}, timeout=1)
            assert response.status_code == 200 and time.monotonic() - started < 1
    finally:
        for sock in stalled:
            sock.close()
