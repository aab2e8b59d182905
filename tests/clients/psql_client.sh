#!/usr/bin/env bash
# psql: SCRAM over TLS (PGSSLMODE=require; the proxy refuses plaintext in the fixture).
# ASK with -c (simple protocol), ASK \gdesc (Parse + Describe, then psql's own format_type()
# query, which passes through), a passthrough SELECT, a session with a bad statement and a
# good one on the same connection. (psql's own lexer keeps reading an unterminated quote,
# so the bad statements here are ones only the proxy refuses.)
# Environment: PSQL (path of psql), the libpq PG* variables, DBGURU_QUESTION.
# Expected data: see clientlib.py (same fixture).
set -uo pipefail
PSQL="${PSQL:-psql}"
DEFAULT_Q="how many orders are there, and what's the revenue?"
Q="${DBGURU_QUESTION:-$DEFAULT_Q}"
LIT="'$(printf '%s' "$Q" | sed "s/'/''/g")'"   # the question as a SQL literal
FAIL=0

step() { echo "--- $*"; }
expect() { # expect WHAT WANT GOT
    if [ "$2" == "$3" ]; then
        echo "    $1: ok"
    else
        echo "    $1: MISMATCH"
        echo "      want: $(printf '%q' "$2")"
        echo "      got:  $(printf '%q' "$3")"
        FAIL=1
    fi
}
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
# stdout only (NOTICEs and errors go to $TMP/stderr, shown at the end)
run_psql() { "$PSQL" -X -q -A -t -F '|' "$@" 2>>"$TMP/stderr"; }

"$PSQL" --version

step "plaintext is refused (the fixture sets [server.tls] required = true)"
if out="$(PGSSLMODE=disable "$PSQL" -X -q -A -t -c 'SELECT 1' 2>&1)"; then
    echo "    sslmode=disable connected: $out"; FAIL=1
else
    echo "    refused: $out"
fi

step "psql -c \"ASK '...'\""
got="$(run_psql -v ON_ERROR_STOP=1 -c "ASK $LIT" | sort)"
expect "ASK rows" $'lite|2|3.75\npg|3|35.75' "$got"

step "ASK '...' \\gdesc (column names and types)"
got="$(printf '%s \\gdesc\n' "ASK $LIT" | run_psql -v ON_ERROR_STOP=1 -f -)"
expect "ASK types" $'source_db|text\norders|bigint\nrevenue|numeric' "$got"

step "passthrough SELECT"
got="$(run_psql -v ON_ERROR_STOP=1 -c "SELECT id, customer, amount FROM orders WHERE id = 2")"
expect "passthrough row" '2|bob|20.25' "$got"

step "\\copy (SELECT ...) TO a file: COPY ... TO STDOUT relayed from PostgreSQL"
run_psql -v ON_ERROR_STOP=1 -c "\\copy (SELECT id, customer, amount FROM orders ORDER BY id) TO '$TMP/orders.csv' WITH (FORMAT csv, HEADER)"
expect "\\copy file" $'id,customer,amount\n1,ann,10.50\n2,bob,20.25\n3,ann,5.00' "$(cat "$TMP/orders.csv" 2>/dev/null)"

step "COPY to a server file is refused (42501/0A000), the session goes on"
got="$(printf '%s\n' "COPY orders TO '/tmp/dbguru-should-not-exist.csv';" '\echo SQLSTATE=:LAST_ERROR_SQLSTATE' "SELECT 'after';" | run_psql -f -)"
code="$(echo "$got" | sed -n 's/^SQLSTATE=//p')"
case "$code" in
    42501|0A000) echo "    refused with $code: ok" ;;
    *) echo "    COPY to a server file: SQLSTATE '$code', want 42501 or 0A000"; FAIL=1 ;;
esac
expect "answer after the refused COPY" "after" "$(echo "$got" | grep -x after)"
if [ -e /tmp/dbguru-should-not-exist.csv ]; then echo "    a file was written"; FAIL=1; fi

step "one session: TLS in use, a bad statement, then good ones"
{
    echo '\conninfo'
    echo '\set VERBOSITY verbose'
    echo "SELECT 'before';"
    echo 'SET dbguru.max_rows = -1;'
    echo '\echo SQLSTATE=:LAST_ERROR_SQLSTATE'
    echo 'SELECT id, customer, amount FROM orders WHERE id = 2;'
    echo "ASK 'which orders?' ON nosuchdb;"
    echo '\echo SQLSTATE=:LAST_ERROR_SQLSTATE'
    echo "ASK $LIT;"
} > "$TMP/session.sql"
got="$("$PSQL" -X -q -A -t -F '|' -f "$TMP/session.sql" 2>&1)"
echo "$got" | sed 's/^/      | /'
case "$got" in
    *"SSL connection ("*) echo "    TLS: ok" ;;
    *) echo "    TLS: \\conninfo does not report an SSL connection"; FAIL=1 ;;
esac
want_tail=$'before\nSQLSTATE=22023\n2|bob|20.25\nSQLSTATE=42704'
got_tail="$(echo "$got" | grep -E '^(before|SQLSTATE=|2\|bob)')"
expect "errors and recovery" "$want_tail" "$got_tail"
expect "ASK after errors" $'lite|2|3.75\npg|3|35.75' "$(echo "$got" | grep -E '^(lite|pg)\|' | sort)"
if ! echo "$got" | grep -q 'ERROR:  22023:'; then echo "    no 'ERROR:  22023:' line for SET dbguru.max_rows = -1"; FAIL=1; fi

if [ -s "$TMP/stderr" ]; then echo "--- psql stderr:"; sed 's/^/      | /' "$TMP/stderr"; fi
if [ "$FAIL" != 0 ]; then echo "FAILED"; exit 1; fi
echo OK
