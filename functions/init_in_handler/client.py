"""A client with a costly set-up, as SDK, database and API clients have (shared by the
init_global and init_in_handler samples: the two directories hold the same file)."""

import http.client
import json
import time
from urllib.parse import urlsplit

import boto3  # in the Python runtime, as on Lambda


class ProfileClient:
    def __init__(self, base_url):
        started = time.perf_counter()
        url = urlsplit(base_url)
        # A fresh SDK session loads and parses the service model: tens of ms of CPU.
        self.sdk = boto3.session.Session().client(
            "secretsmanager",
            region_name="us-east-1",
            endpoint_url=base_url,
            aws_access_key_id="sample",
            aws_secret_access_key="sample",
        )
        self._conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        self.secret = self._get("/secrets/db")["secret"]  # one downstream round trip
        self.setup_ms = round((time.perf_counter() - started) * 1000, 1)

    def _get(self, path):
        for attempt in (1, 2):
            try:
                self._conn.request("GET", path, headers={"Authorization": "sample"})
                resp = self._conn.getresponse()
                body = resp.read()
                break
            except (ConnectionError, http.client.HTTPException):
                # the server may have closed the kept-alive connection while we were frozen
                self._conn.close()
                if attempt == 2:
                    raise
        if resp.status != 200:
            raise RuntimeError(f"GET {path}: {resp.status}")
        return json.loads(body)

    def user(self, uid):
        return self._get(f"/users/{uid}")

    def close(self):
        self._conn.close()
