# Sourced by .ci/run: start a real PostgreSQL 15 and export HNCE_TEST_PG_URL.
# Installs the server from Debian's packages when the machine lacks it.
if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ ! -d /usr/lib/postgresql ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | grep -q .; then
  pg_createcluster "$version" main >/dev/null
fi
cluster=$(pg_lsclusters -h | head -1 | awk '{print $1" "$2}')
pg_ctlcluster $cluster start 2>/dev/null || true
port=$(pg_lsclusters -h | head -1 | awk '{print $3}')
for _ in $(seq 1 30); do
  su postgres -c "psql -p $port -tAc 'select 1'" >/dev/null 2>&1 && break
  sleep 1
done
su postgres -c "psql -p $port -tAc \"select 1 from pg_roles where rolname='hnce'\"" | grep -q 1 ||
  su postgres -c "psql -p $port -c \"create role hnce login superuser password 'hnce'\"" >/dev/null
# A throwaway cluster for tests: no waiting for the disk on commit or checkpoint
# (reloadable settings, so a running cluster picks them up without a restart).
su postgres -c "psql -p $port -q -c 'ALTER SYSTEM SET fsync = off' \
  -c 'ALTER SYSTEM SET synchronous_commit = off' -c 'ALTER SYSTEM SET full_page_writes = off' \
  -c 'SELECT pg_reload_conf()'" >/dev/null
export HNCE_TEST_PG_URL="postgresql://hnce:hnce@127.0.0.1:$port/postgres"
export HNCE_REQUIRE_PG=1
echo "PostgreSQL $version on port $port for the tests"
