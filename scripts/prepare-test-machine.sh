#!/usr/bin/env bash
# Everything `make test` needs beyond the Python venv, installed or started only when missing, so a second run
# takes a second or two. Shared by `make test` and CI (.ci/run only calls `make test`).
#   - the platform's own Debian packages (scripts/system-packages.sh: nginx, Pango, HarfBuzz subsetter, CJK font);
#   - the test tools: promtool (prometheus), amtool and Alertmanager (prometheus-alertmanager), wrk, kubectl,
#     the postgres and nginx exporters, Chromium;
#   - the SSO test provider's npm packages (tests/idp/oidc, from its lock file);
#   - checkov in a venv of its own (.venv/checkov: it pins packaging<24, which pytest cannot share);
#   - PostgreSQL and RabbitMQ running (with RabbitMQ's Prometheus plugin, scraped by the observability e2e).
# Without root, it prints the exact commands to run and fails: nothing is skipped silently.
set -euo pipefail
cd "$(dirname "$0")/.."

root=0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then root=1; fi
todo=()  # commands a non-root user must run

scripts/system-packages.sh --strict || todo+=("sudo scripts/system-packages.sh")

need_apt=()
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)
command -v kubectl >/dev/null 2>&1 || need_apt+=(kubectl)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs npm)
command -v pg_ctlcluster >/dev/null 2>&1 || need_apt+=(postgresql)
command -v rabbitmq-server >/dev/null 2>&1 || [ -x /usr/sbin/rabbitmq-server ] || need_apt+=(rabbitmq-server)
for pkg in prometheus-postgres-exporter prometheus-nginx-exporter prometheus-alertmanager; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ $root -eq 1 ]; then
    echo "prepare-test-machine: installing ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
    # Debian's prometheus package starts a server on :9090; the tests need only promtool.
    if dpkg -s prometheus >/dev/null 2>&1; then
      (systemctl stop prometheus || service prometheus stop || pkill -x prometheus) >/dev/null 2>&1 || true
    fi
    # Likewise prometheus-alertmanager (:9093, :9094): the tests start their own with amtool's configs.
    if dpkg -s prometheus-alertmanager >/dev/null 2>&1; then
      (systemctl stop prometheus-alertmanager || service prometheus-alertmanager stop) >/dev/null 2>&1 || true
    fi
  else
    todo+=("sudo apt-get install --no-install-recommends ${need_apt[*]}")
  fi
fi

# The OIDC provider the SSO tests start (npm oidc-provider on the machine's Node.js), from its lock file.
lock=tests/idp/oidc/package-lock.json
stamp=tests/idp/oidc/node_modules/.lock-installed
if [ ! -f "$stamp" ] || ! cmp -s "$lock" "$stamp"; then
  if command -v npm >/dev/null 2>&1; then
    npm ci --prefix tests/idp/oidc --no-audit --no-fund --loglevel=error
    cp "$lock" "$stamp"
  else
    todo+=("npm ci --prefix tests/idp/oidc")
  fi
fi

# checkov, from pyproject's dependency group `checkov` as locked in requirements/checkov.txt, in its own venv.
if [ ! -x .venv/checkov/bin/checkov ]; then
  python3 -m venv .venv/checkov
  .venv/checkov/bin/pip install --quiet --upgrade pip 2> >(grep -v "is ignored: it is neither" >&2)
  .venv/checkov/bin/pip install --quiet --require-hashes -r requirements/checkov.txt \
    2> >(grep -v "is ignored: it is neither" >&2)
fi

# The servers the integration and e2e tests use (TEST_PG_URL / TEST_AMQP_URL point elsewhere when set).
if [ -z "${TEST_PG_URL:-}" ] && ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  if [ $root -eq 1 ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  else
    todo+=("sudo pg_ctlcluster \$(ls /etc/postgresql) main start   # PostgreSQL on 127.0.0.1:5432, trust for postgres")
  fi
fi
if [ -z "${TEST_AMQP_URL:-}" ]; then
  if [ $root -eq 1 ]; then
    if ! rabbitmqctl -q status >/dev/null 2>&1; then
      echo "prepare-test-machine: starting RabbitMQ"
      rabbitmq-server -detached
    fi
    rabbitmqctl -q await_startup --timeout 120 >/dev/null
    rabbitmqctl -q start_app >/dev/null 2>&1 || true  # a killed test may have left the app stopped
    rabbitmq-plugins -q is_enabled rabbitmq_prometheus >/dev/null 2>&1 \
      || rabbitmq-plugins -q enable rabbitmq_prometheus >/dev/null
  elif ! rabbitmqctl -q status >/dev/null 2>&1; then
    todo+=("sudo rabbitmq-server -detached && sudo rabbitmq-plugins enable rabbitmq_prometheus")
  fi
fi

if [ ${#todo[@]} -gt 0 ]; then
  echo "make test needs these first (run them, then make test again):" >&2
  printf '  %s\n' "${todo[@]}" >&2
  exit 1
fi
