import json
import re
import threading

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from werkzeug.serving import make_server

LABELS = {"policing", "courts", "procuratorate", "legal_publicity"}


def test_classify_one_text(client):
    response = client.post("/classify", json={"text": "派出所民警连夜抓获盗窃嫌疑人"})
    assert response.status_code == 200
    data = response.get_json()
    assert data["labels"][0] == "policing"
    assert set(data["scores"]) == LABELS and data["model"] == "tiny-1"


def test_classify_batch_keeps_order(client):
    texts = ["检察院对嫌疑人批准逮捕", "法院公开宣判一起盗窃案", "今年小麦喜获丰收"]
    data = client.post("/classify", json={"texts": texts}).get_json()
    assert [r["labels"][:1] for r in data["results"]] == [["procuratorate"], ["courts"], []]


def test_plain_text_body_is_one_text(client):
    response = client.post("/classify", data="法院公开宣判一起盗窃案".encode(), content_type="text/plain; charset=utf-8")
    assert response.status_code == 200 and "courts" in response.get_json()["labels"]


def test_threshold_override(client):
    text = {"text": "法院公开宣判一起盗窃案"}
    assert set(client.post("/classify", json={**text, "threshold": 0.0}).get_json()["labels"]) == LABELS
    assert client.post("/classify", json={**text, "threshold": {"courts": 1.0}}).get_json()["labels"] == []


def test_explain_names_terms_that_occur_in_the_text(client):
    text = "县人民检察院召开公开听证会，对一起轻伤害案作出不起诉决定。"
    data = client.post("/classify", json={"text": text, "explain": True}).get_json()
    assert "procuratorate" in data["explain"]
    evidence = data["explain"]["procuratorate"]
    assert evidence and all(item["term"] in text for item in evidence)
    assert all(item["weight"] > 0 for item in evidence)


def test_keywords_are_words_of_the_text(client):
    text = "边境派出所民警骑马巡逻草原，守护牧民平安。"
    data = client.post("/classify", json={"text": text, "keywords": 3}).get_json()
    assert 0 < len(data["keywords"]) <= 3 and all(k["term"] in text for k in data["keywords"])


@pytest.mark.parametrize("text", ["Police arrested two suspects on Monday.", "1234567890", "😀🎉👍", "ｈｅｌｌｏ", "。，、"])
def test_text_without_chinese_is_classified_normally(client, text):
    response = client.post("/classify", json={"text": text})
    assert response.status_code == 200
    assert set(response.get_json()["scores"]) == LABELS


BAD = [
    pytest.param(b"{not json", "application/json", 400, "invalid_json", None, id="invalid-json"),
    pytest.param(b"[1, 2]", "application/json", 400, "invalid_json", None, id="not-an-object"),
    pytest.param(b"", "application/json", 400, "empty_body", None, id="empty-body"),
    pytest.param(b'{"txt": "x"}', "application/json", 400, "invalid_field", "txt", id="unknown-option"),
    pytest.param(b'{"explain": true}', "application/json", 400, "invalid_field", "text", id="missing-text"),
    pytest.param(b'{"text": 5}', "application/json", 400, "invalid_field", "text", id="text-not-string"),
    pytest.param(b'{"text": "   \\n "}', "application/json", 400, "empty_text", "text", id="whitespace-text"),
    pytest.param(b'{"text": ""}', "application/json", 400, "empty_text", "text", id="empty-text"),
    pytest.param(b'{"texts": []}', "application/json", 400, "empty_batch", "texts", id="empty-batch"),
    pytest.param(b'{"texts": "abc"}', "application/json", 400, "invalid_field", "texts", id="texts-not-list"),
    pytest.param(json.dumps({"texts": ["a"] * 9}).encode(), "application/json", 413, "batch_too_large", "texts", id="batch-over-limit"),
    pytest.param(b'{"texts": ["ok", 3]}', "application/json", 400, "invalid_field", "texts.1", id="item-not-string"),
    pytest.param(b'{"texts": ["ok", " "]}', "application/json", 400, "empty_text", "texts.1", id="item-empty"),
    pytest.param(b'{"text": "a", "texts": ["b"]}', "application/json", 400, "invalid_field", "text", id="both-text-and-texts"),
    pytest.param(b'{"text": "a", "threshold": 1.5}', "application/json", 400, "invalid_field", "threshold", id="threshold-above-1"),
    pytest.param(b'{"text": "a", "threshold": -0.1}', "application/json", 400, "invalid_field", "threshold", id="threshold-negative"),
    pytest.param(b'{"text": "a", "threshold": {"courts": 2}}', "application/json", 400, "invalid_field", "threshold", id="threshold-map-bad"),
    pytest.param(b'{"text": "a", "threshold": {"police": 0.5}}', "application/json", 400, "invalid_field", "threshold", id="threshold-unknown-label"),
    pytest.param(b'{"text": "a", "threshold": "high"}', "application/json", 400, "invalid_field", "threshold", id="threshold-string"),
    pytest.param(b'{"text": "a", "keywords": 100}', "application/json", 400, "invalid_field", "keywords", id="keywords-too-many"),
    pytest.param(b'{"text": "a", "keywords": "5"}', "application/json", 400, "invalid_field", "keywords", id="keywords-string"),
    pytest.param('{"text": "法院"}'.encode("gbk"), "application/json", 400, "bad_encoding", None, id="non-utf8-json"),
    pytest.param(b"\xff\xfe\xfd", "text/plain", 400, "bad_encoding", None, id="non-utf8-text"),
    pytest.param(b'{"text": "\\ud800\\u6cd5\\u9662"}', "application/json", 400, "bad_encoding", "text", id="lone-surrogate"),
    pytest.param(b'{"texts": ["ok", "\\udfff"]}', "application/json", 400, "bad_encoding", "texts.1", id="item-lone-surrogate"),
    pytest.param(b"<text>x</text>", "application/xml", 415, "unsupported_media_type", None, id="xml"),
    pytest.param(json.dumps({"text": "法" * 5001}).encode(), "application/json", 413, "text_too_long", "text", id="text-over-limit"),
    pytest.param(b"a" * (65 * 1024), "text/plain", 413, "too_large", None, id="body-over-limit"),
]


@pytest.mark.parametrize("body,content_type,status,code,field", BAD)
def test_bad_input_gets_a_json_4xx_naming_the_problem(client, body, content_type, status, code, field):
    response = client.post("/classify", data=body, content_type=content_type)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["message"] and "Traceback" not in error["message"]
    if field:
        assert error["field"] == field
        assert field.split(".")[0] in error["message"]


def test_unknown_route_and_method_are_json(client):
    assert client.get("/nope").get_json()["error"]["code"] == "not_found"
    assert client.get("/classify").get_json()["error"]["code"] == "method_not_allowed"


def test_labels_come_from_the_taxonomy(client):
    labels = client.get("/labels").get_json()["labels"]
    assert [l["id"] for l in labels] == ["policing", "courts", "procuratorate", "legal_publicity"]
    assert labels[0]["name"] == "公安" and labels[0]["definition"]


def test_models_and_model_detail(client):
    data = client.get("/models").get_json()
    assert data == {"active": "tiny-1", "versions": ["tiny-1"], "skipped": {}}
    detail = client.get("/models/tiny-1").get_json()
    assert set(detail["thresholds"]) == LABELS and detail["files"]["model.npz"]["sha256"]
    assert client.get("/models/nope").status_code == 404
    assert client.get("/models/..%2Fetc").status_code == 404


def test_health_and_readiness(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz").get_json()
    assert ready["status"] == "ready" and ready["model"] == "tiny-1" and ready["pid"] > 0
    assert ready["splitter"]["boundary_model"] == "ok" and ready["splitter"]["trees"] >= 10


def test_readiness_fails_without_a_model(tmp_path):
    from service import create_app
    from training.config import Settings

    app = create_app({"TESTING": True, "TAGGER": Settings(models_dir=tmp_path / "empty")})
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503 and "no model" in response.get_json()["error"]["message"]
    assert client.post("/classify", json={"text": "法院"}).status_code == 503


def test_metrics_count_requests_and_labels(client):
    client.post("/classify", json={"text": "法院公开宣判一起盗窃案"})
    body = client.get("/metrics").get_data(as_text=True)
    assert 'tagger_requests_total{endpoint="/classify",method="POST",status="200"}' in body
    assert 'tagger_labels_assigned_total{label="courts"}' in body
    assert 'tagger_model_info{version="tiny-1"} 1.0' in body
    assert "tagger_request_seconds_bucket" in body


def test_openapi_lists_every_route_and_validates(client, app):
    from openapi_spec_validator import validate

    spec = client.get("/openapi.json").get_json()
    validate(spec)
    routes = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule) for rule in app.url_map.iter_rules()}
    documented = set(spec["paths"])
    assert {"/classify", "/labels", "/models", "/models/{version}", "/healthz", "/readyz"} <= documented
    assert documented <= routes
    assert "requestBody" in spec["paths"]["/classify"]["post"]


def test_api_page_is_redoc_from_local_files_with_grouped_routes_and_examples(client):
    response = client.get("/docs")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # Nothing from another origin: every src/href is a local path (or data:), and the CSP says 'self'.
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", page)
    assert refs and all(ref.startswith("/") and not ref.startswith("//") or ref.startswith("data:") for ref in refs), refs
    assert not re.search(r"https?://", page), re.findall(r"https?://\S+", page)
    assert "/static/vendor/redoc/redoc.standalone.js" in refs
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "https:" not in csp and "'unsafe-eval'" not in csp
    script = client.get("/static/vendor/redoc/redoc.standalone.js")
    assert script.status_code == 200 and b"Redoc" in script.data[:2_000_000]

    spec = client.get("/openapi.json").get_json()
    assert [t["name"] for t in spec["tags"]] == ["Tagging", "Pages", "Model lifecycle", "Operations"]
    order = {t["name"]: i for i, t in enumerate(spec["tags"])}
    operations = [(path, op) for path, ops in spec["paths"].items() for op in ops.values()]
    assert operations[0][0] == "/classify"
    ranks = [order[op["tags"][0]] for _, op in operations]
    assert ranks == sorted(ranks), "paths are grouped in tag order"
    for path, op in operations:
        assert len(op["tags"]) == 1, path
        assert op.get("summary"), path
        ok = [code for code in op["responses"] if code.startswith("2")]
        assert any("example" in content or "examples" in content
                   for code in ok for content in op["responses"][code].get("content", {}).values()), f"{path}: no response example"
        if "requestBody" in op:
            assert all("example" in c or "examples" in c for c in op["requestBody"]["content"].values()), f"{path}: no request example"
        for code, response in op["responses"].items():
            if code[0] in "45":
                body = response["content"]["application/json"]
                assert body["schema"] == {"$ref": "#/components/schemas/ErrorOut"}, (path, code)
                assert all(set(e["value"]) == {"error"} and {"code", "message"} <= set(e["value"]["error"])
                           for e in body["examples"].values()), (path, code)
    classify = spec["paths"]["/classify"]["post"]
    assert "青石县人民检察院" in json.dumps(classify["requestBody"], ensure_ascii=False)
    assert {"400", "401", "413", "415", "503"} <= set(classify["responses"])
    assert spec["components"]["securitySchemes"]


# Lone surrogates included (JSON can carry them as \\ud800 escapes); st.text never draws them.
any_text = st.lists(st.sampled_from(["\ud800", "\udc00", "\udfff"]) | st.characters(), max_size=40).map("".join)
json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=40) | any_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
payloads = st.one_of(
    st.dictionaries(st.sampled_from(["text", "texts", "threshold", "explain", "keywords", "x"]), json_values, max_size=4),
    json_values,
)


@given(payload=payloads)
@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_arbitrary_json_never_gets_a_5xx(client, payload):
    response = client.post("/classify", data=json.dumps(payload), content_type="application/json")
    assert response.status_code < 500, response.get_data(as_text=True)
    assert response.is_json


@given(text=any_text)
@hsettings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_text_is_classified_or_refused_with_a_4xx(client, text):
    response = client.post("/classify", data=json.dumps({"text": text}), content_type="application/json")
    received = json.loads(json.dumps(text))  # JSON joins an escaped high+low pair into one character
    if any("\ud800" <= ch <= "\udfff" for ch in received):
        assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_encoding"
    elif text.strip():
        assert response.status_code == 200 and set(response.get_json()["scores"]) == LABELS
    else:
        assert response.status_code == 400


@given(body=st.binary(max_size=200) | st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass")))
@hsettings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_arbitrary_bytes_never_get_a_5xx(client, body):
    for content_type in ("application/json", "text/plain; charset=utf-8"):
        response = client.post("/classify", data=body, content_type=content_type)
        assert response.status_code < 500, response.get_data(as_text=True)


@pytest.fixture()
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_python_client_against_a_live_server(live_server):
    from service.client import TaggerAPIError, TaggerClient

    client = TaggerClient(live_server, timeout=5)
    assert client.ready()
    one = client.classify("法院公开宣判一起盗窃案", explain=True)
    assert one.labels[0] == "courts" and one.model == "tiny-1" and "courts" in one.explain
    many = client.classify_many(["检察院对嫌疑人批准逮捕", "派出所民警抓获嫌疑人"])
    assert [m.labels[0] for m in many] == ["procuratorate", "policing"]
    with pytest.raises(TaggerAPIError) as info:
        client.classify("   ")
    assert info.value.status == 400 and info.value.code == "empty_text"
    assert [l["id"] for l in client.labels()][0] == "policing"


def test_client_times_out_and_retries_on_a_dead_port():
    import requests

    from service.client import TaggerClient

    client = TaggerClient("http://127.0.0.1:9", timeout=0.5, retries=1, backoff=0)
    with pytest.raises(requests.ConnectionError):
        client.classify("法院")
