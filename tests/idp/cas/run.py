"""Start the test CAS server (django-cas-server) without manage.py.

    python tests/idp/cas/run.py CONFIG.json

CONFIG.json:
    {"host": "127.0.0.1", "port": 0,                 # 0: any free port
     "data_dir": "/tmp/...",                          # SQLite database and sessions live here
     "users_file": "/tmp/.../users.json",             # {"username": {"password": ..., "attributes": {...}}}
     "service_patterns": [                            # first match wins, in this order
        {"name": "platform", "pattern": "^http://127\\\\.0\\\\.0\\\\.1:\\\\d+/sso/.*",
         "attributes": ["*"], "single_log_out": true},
        {"name": "other", "pattern": "^http://other\\\\.example/.*", "attributes": []}]}

It migrates a fresh SQLite database, registers the service patterns, serves with waitress and prints one line:
{"listening": true, "port": <port>, "base_url": "http://<host>:<port>/cas"}.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main(config_path: str) -> None:
    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    data_dir = Path(config["data_dir"])
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["CAS_IDP_DATA_DIR"] = str(data_dir)
    os.environ["CAS_IDP_USERS_FILE"] = str(config["users_file"])
    os.environ["DJANGO_SETTINGS_MODULE"] = "cas_idp.settings"
    # cas_idp is beside this file, and a script's own directory is the first entry of sys.path.

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)

    from cas_server.models import ReplaceAttributName, ServicePattern

    ServicePattern.objects.all().delete()
    for position, spec in enumerate(config.get("service_patterns", []), start=1):
        pattern = ServicePattern.objects.create(
            pos=position * 10,
            name=spec.get("name") or f"pattern-{position}",
            pattern=spec["pattern"],
            single_log_out=bool(spec.get("single_log_out", False)),
            single_log_out_callback=spec.get("single_log_out_callback", ""),
            user_field=spec.get("user_field", ""),
        )
        for name in spec.get("attributes", []):
            # "*" releases every attribute; "name" or "name:replacement" releases one (renamed).
            original, _, replace = name.partition(":")
            ReplaceAttributName.objects.create(service_pattern=pattern, name=original, replace=replace)

    from django.core.wsgi import get_wsgi_application
    from waitress.server import create_server

    host = config.get("host", "127.0.0.1")
    server = create_server(get_wsgi_application(), host=host, port=int(config.get("port", 0)), threads=8)
    port = int(server.effective_port)
    print(json.dumps({"listening": True, "port": port, "base_url": f"http://{host}:{port}/cas"}), flush=True)
    server.run()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
