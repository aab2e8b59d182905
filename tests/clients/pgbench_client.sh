#!/usr/bin/env bash
# pgbench: `-n -f file` (no vacuum, no startup queries), SCRAM over TLS, 2 clients x 20
# transactions of a passthrough SELECT with a \set variable, in each query mode:
#   -M simple    (the value interpolated into a Query message)
#   -M extended  (unnamed Parse/Bind/Describe/Execute/Sync with a text parameter)
#   -M prepared  (a named statement parsed once per connection, then Bind/Execute)
# Environment: PGBENCH (path of pgbench), the libpq PG* variables.
set -uo pipefail
PGBENCH="${PGBENCH:-pgbench}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
cat > "$TMP/select.sql" <<'SQL'
\set id random(1, 3)
SELECT id, customer, amount FROM orders WHERE id = :id;
SQL
"$PGBENCH" --version
FAIL=0
for mode in simple extended prepared; do
    echo "--- pgbench -n -f select.sql -c 2 -t 20 -M $mode"
    out="$("$PGBENCH" -n -f "$TMP/select.sql" -c 2 -t 20 -M "$mode" 2>&1)"
    status=$?
    echo "$out" | sed 's/^/      | /'
    if [ "$status" != 0 ]; then
        echo "    -M $mode: exit status $status"; FAIL=1
    elif ! echo "$out" | grep -q 'number of transactions actually processed: 40/40'; then
        echo "    -M $mode: not all 40 transactions were processed"; FAIL=1
    elif echo "$out" | grep -qE 'number of failed transactions: [1-9]'; then
        echo "    -M $mode: failed transactions"; FAIL=1
    else
        echo "    -M $mode: ok"
    fi
done
if [ "$FAIL" != 0 ]; then echo "FAILED"; exit 1; fi
echo OK
