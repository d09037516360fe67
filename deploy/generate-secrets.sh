#!/bin/sh
# Creates the secret files docker-compose.yml reads from deploy/secrets/, without ever
# overwriting one that exists: random passwords for MongoDB (root and one user per
# service), Redis and Grafana; Redis's ACL file derived from the Redis password; and an
# empty tenant list to replace with your tenant connections (tenants.example.json).
#
# deploy/secrets/ is readable by its owner only; the files in it are world-readable so
# that the non-root users of the containers can read their bind-mounted copies.
# Nothing in deploy/secrets/ is ever committed (.gitignore).
set -eu

cd "$(dirname "$0")"
umask 022
mkdir -p secrets
chmod 700 secrets

random_password() {
    # 32 random bytes as hex: URL-, shell- and ACL-safe.
    od -An -N32 -tx1 /dev/urandom | tr -d ' \n'
}

for name in mongo_root_password mongo_api_password mongo_recorder_password \
    mongo_snapshotter_password mongo_retention_password mongo_differ_password \
    mongo_recoverer_password redis_password grafana_admin_password; do
    if [ ! -s "secrets/$name" ]; then
        random_password > "secrets/$name"
        echo "created secrets/$name"
    fi
done

# Redis users: `rewind` for every service, and `default` (unauthenticated) limited to
# PING for the container healthcheck. Rewritten on every run so it follows the password.
{
    echo "user default on nopass resetchannels -@all +ping"
    echo "user rewind on >$(cat secrets/redis_password) ~* &* +@all -@admin -flushall -flushdb"
} > secrets/redis_acl
echo "wrote secrets/redis_acl"

if [ ! -e secrets/tenants.json ]; then
    echo "[]" > secrets/tenants.json
    echo "created secrets/tenants.json (no tenant yet: see tenants.example.json)"
fi
