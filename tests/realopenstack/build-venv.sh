#!/usr/bin/env bash
# Build, or reuse, the venv that runs the upstream OpenStack services for tests/realopenstack.
# The venv lives outside the work tree (default /var/tmp/vio-realos-venv-<hash of constraints + python>),
# so a second run, and every worktree, reuses it. Prints the venv's path as the last line of stdout.
#   VIO_REALOS_VENV=DIR       use DIR instead
#   VIO_REALOS_PYTHON=python3 the interpreter to build it with
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
constraints=$here/../../constraints/realopenstack.txt
python=${VIO_REALOS_PYTHON:-python3}
key=$( { cat "$constraints"; "$python" -c 'import sys; print(sys.version)'; } | sha256sum | cut -c1-12)
venv=${VIO_REALOS_VENV:-/var/tmp/vio-realos-venv-$key}
packages="keystone nova openstack-placement glance cinder neutron octavia openstack-heat gunicorn PyMySQL fixtures"

mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9   # two test runs building at once would trample each other
if [ ! -e "$venv/.complete" ]; then
    rm -rf "$venv"
    start=$(date +%s)
    "$python" -m venv "$venv"
    # pip's own noise (unreachable local indexes in some pip.conf) goes to a log; failures print it.
    if ! "$venv/bin/pip" install --disable-pip-version-check -q -c "$constraints" $packages >"$venv.log" 2>&1; then
        grep -v "^WARNING: Location" "$venv.log" | tail -40 >&2
        rm -rf "$venv"
        echo "build-venv: pip install failed (log above)" >&2
        exit 1
    fi
    touch "$venv/.complete"
    echo "build-venv: built $venv in $(( $(date +%s) - start )) s" >&2
fi
echo "$venv"
