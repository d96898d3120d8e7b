"""A small Python client for other services: `TaggerClient(base_url).classify(text)`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry


class TaggerAPIError(Exception):
    """The service answered with an error (4xx/5xx): status, code word and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Classification:
    """Tags of one text."""

    labels: list[str]
    scores: dict[str, float]
    model: str = ""
    explain: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    keywords: list[dict[str, Any]] = field(default_factory=list)


class TaggerClient:
    """HTTP client with timeouts and retries (connection errors and 502/503/504, with backoff).

    Classification is idempotent, so POST /classify is retried too.
    """

    def __init__(self, base_url: str, timeout: float = 10.0, retries: int = 3, token: str | None = None, backoff: float = 0.2) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        retry = Retry(total=retries, connect=retries, read=retries, status=retries, backoff_factor=backoff,
                      status_forcelist=(502, 503, 504), allowed_methods=frozenset({"GET", "POST"}), raise_on_status=False)
        self.session.mount("http://", HTTPAdapter(max_retries=retry))
        self.session.mount("https://", HTTPAdapter(max_retries=retry))
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.session.request(method, self.base_url + path, timeout=self.timeout, **kwargs)
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code >= 400:
            error = data.get("error", {}) if isinstance(data, dict) else {}
            raise TaggerAPIError(response.status_code, error.get("code", "error"), error.get("message", response.text[:200]))
        return data

    def classify(self, text: str, threshold: float | Mapping[str, float] | None = None, explain: bool = False, keywords: int = 0) -> Classification:
        """Tags of one article."""
        data = self._request("POST", "/classify", json=self._payload({"text": text}, threshold, explain, keywords))
        return self._result(data, data.get("model", ""))

    def classify_many(self, texts: Sequence[str], threshold: float | Mapping[str, float] | None = None, explain: bool = False, keywords: int = 0) -> list[Classification]:
        """Tags of a batch of articles, in input order (one request)."""
        data = self._request("POST", "/classify", json=self._payload({"texts": list(texts)}, threshold, explain, keywords))
        return [self._result(item, data.get("model", "")) for item in data["results"]]

    def labels(self) -> list[dict[str, Any]]:
        """The taxonomy."""
        return self._request("GET", "/labels")["labels"]

    def models(self) -> dict[str, Any]:
        """Active version and stored versions."""
        return self._request("GET", "/models")

    def ready(self) -> bool:
        """True when the service has a model that answers."""
        try:
            self._request("GET", "/readyz")
            return True
        except (TaggerAPIError, requests.RequestException):
            return False

    @staticmethod
    def _payload(body: dict[str, Any], threshold, explain: bool, keywords: int) -> dict[str, Any]:
        if threshold is not None:
            body["threshold"] = threshold
        if explain:
            body["explain"] = True
        if keywords:
            body["keywords"] = keywords
        return body

    @staticmethod
    def _result(item: Mapping[str, Any], model: str) -> Classification:
        return Classification(labels=list(item["labels"]), scores=dict(item["scores"]), model=model,
                              explain=dict(item.get("explain") or {}), keywords=list(item.get("keywords") or []))
