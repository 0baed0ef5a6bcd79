#!/usr/bin/env bash
# Installs and starts what the test suite needs beyond PyPI, only when it is missing:
# promtool and amtool (Debian's prometheus and prometheus-alertmanager packages) and a
# PostgreSQL answering on 127.0.0.1:5432, and Debian's chromium for the browser tests
# (driven by the playwright package with executable_path; never `playwright install`).
set -euo pipefail

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

command -v promtool >/dev/null 2>&1 || apt_install prometheus
command -v amtool >/dev/null 2>&1 || apt_install prometheus-alertmanager
[ -x /usr/bin/chromium ] || apt_install chromium

if ! command -v pg_isready >/dev/null 2>&1; then
    apt_install postgresql
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    echo "ensure-test-tools: starting PostgreSQL on 127.0.0.1:5432" >&2
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
    for _ in $(seq 1 30); do
        pg_isready -q -h 127.0.0.1 -p 5432 && break
        sleep 1
    done
    pg_isready -h 127.0.0.1 -p 5432
fi
echo "ensure-test-tools: promtool $(promtool --version 2>&1 | head -n 1 | awk '{print $3}'), amtool, chromium and PostgreSQL ready" >&2
