# Sourced by scripts/odoo-test and scripts/odoo-demo: start the machine's PostgreSQL cluster when
# it is not running (Odoo connects through the Unix socket as the current user).
# ensure_postgres NAME: returns non-zero with a message on stderr when it cannot.
ensure_postgres() {
    pg_isready -q 2>/dev/null && return 0
    local version
    version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
    [ -n "$version" ] || { echo "$1: PostgreSQL is not running and no cluster in /etc/postgresql" >&2; return 2; }
    echo "$1: starting PostgreSQL $version" >&2
    pg_ctlcluster --skip-systemctl-redirect "$version" main start \
        || { echo "$1: could not start PostgreSQL" >&2; return 2; }
    for _ in $(seq 60); do pg_isready -q && return 0; sleep 0.5; done
    echo "$1: PostgreSQL did not become ready" >&2
    return 2
}
