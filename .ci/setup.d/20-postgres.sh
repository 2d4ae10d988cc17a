#!/usr/bin/env bash
# PostgreSQL settings the tests need, applied once with ALTER SYSTEM and a restart only when one differs:
# logical decoding for CDC (wal_level, slots, senders), PREPARE TRANSACTION for two-phase commit, and
# enough connections for several queens and relays racing in one test run.
set -euo pipefail
psql_() { psql -h 127.0.0.1 -U postgres -d postgres -Atqc "$1"; }
declare -A want=([wal_level]=logical [max_replication_slots]=40 [max_wal_senders]=40 [max_prepared_transactions]=100 [max_connections]=400)
restart=0
for key in "${!want[@]}"; do
  have=$(psql_ "show $key")
  if [ "$have" != "${want[$key]}" ]; then
    echo "postgres: $key is $have, setting ${want[$key]}"
    psql_ "alter system set $key = '${want[$key]}'"
    restart=1
  fi
done
if [ "$restart" = 1 ]; then
  echo "postgres: restarting to apply settings"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main restart
  for _ in $(seq 1 60); do psql_ "select 1" >/dev/null 2>&1 && break; sleep 1; done
fi
for key in "${!want[@]}"; do
  have=$(psql_ "show $key")
  [ "$have" = "${want[$key]}" ] || { echo "postgres: $key is $have, expected ${want[$key]}" >&2; exit 1; }
done
echo "postgres: wal_level=logical, slots/senders 40, prepared transactions 100, max_connections 400"
