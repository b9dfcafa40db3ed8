"""The baseline for bench/http.py: bare Flask, one route, a small JSON body, no auth, no database.

Run under the project's gunicorn config: `gunicorn -c deploy/gunicorn/gunicorn.conf.py bench.hello_app:app`
(from the repository root).
"""

from __future__ import annotations

from flask import Flask, Response, jsonify

app = Flask("hello")


@app.get("/bench/hello")
def hello() -> Response:
    return jsonify(status="ok", message="hello")
