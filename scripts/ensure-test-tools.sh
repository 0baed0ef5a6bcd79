#!/usr/bin/env bash
# Installs and starts what the test suite needs beyond PyPI, only when it is missing:
# - the stack's own programs (prometheus, promtool, alertmanager, amtool, otelcol, jaeger)
#   built from their Go modules at the pinned versions (scripts/build-tools.sh);
# - a PostgreSQL server answering on 127.0.0.1:5432 to the `postgres` role without a
#   password (Debian's server package, installed when only the client is there);
# - Debian's chromium for the browser tests (driven by the playwright package with
#   executable_path; never `playwright install`).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
apt_install() {
    if [ "$apt_updated" -eq 0 ]; then
        echo "ensure-test-tools: apt-get update" >&2
        as_root apt-get update -qq
        apt_updated=1
    fi
    echo "ensure-test-tools: installing $*" >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

bash "$root/scripts/build-tools.sh"

[ -x /usr/bin/chromium ] || apt_install chromium

# --- PostgreSQL -------------------------------------------------------------------------
# The tests connect as postgres@127.0.0.1:5432 without a password. On a test machine the
# cluster serving that port is made to trust loopback connections (a marked line at the
# top of its pg_hba.conf); a deployed stack never uses this: compose's PostgreSQL has
# passwords from `stackgen secrets`.
PG_PORT=${STACKGEN_PG_PORT:-5432}
TRUST_MARK="# stackgen tests: trust on loopback"

pg_answers() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null; }
pg_trusts() { psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -w -tAc 'select 1' postgres >/dev/null 2>&1; }

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    apt_install postgresql
fi
if ! pg_answers || ! pg_trusts; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    cluster=$(pg_lsclusters -h 2>/dev/null | awk -v v="$version" -v p="$PG_PORT" '$1 == v && $3 == p {print $2; exit}')
    if [ -z "$cluster" ]; then
        # Debian's package creates `main`; a machine whose `main` is elsewhere gets its own.
        cluster=main
        [ -d "/etc/postgresql/$version/main" ] && cluster=stackgen
        echo "ensure-test-tools: creating PostgreSQL $version cluster $cluster on port $PG_PORT" >&2
        as_root pg_createcluster "$version" "$cluster" --port "$PG_PORT" >/dev/null
    fi
    hba="/etc/postgresql/$version/$cluster/pg_hba.conf"
    if ! as_root grep -qF "$TRUST_MARK" "$hba"; then
        echo "ensure-test-tools: $hba: trusting connections from 127.0.0.1 (test machine)" >&2
        as_root sed -i "1i host all all 127.0.0.1/32 trust $TRUST_MARK" "$hba"
    fi
    if pg_answers; then
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" reload
    else
        echo "ensure-test-tools: starting PostgreSQL $version/$cluster on 127.0.0.1:$PG_PORT" >&2
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start
    fi
    for _ in $(seq 1 30); do
        pg_answers && pg_trusts && break
        sleep 1
    done
    if ! pg_trusts; then
        echo "ensure-test-tools: FAILED: PostgreSQL on 127.0.0.1:$PG_PORT does not accept the postgres role (see /var/log/postgresql/)" >&2
        exit 1
    fi
fi
echo "ensure-test-tools: $("$root/.tools/bin/promtool" --version 2>&1 | head -n 1), chromium and PostgreSQL ready" >&2
