#!/usr/bin/env bash
# The upload service as it runs on several machines, tried on one, without Docker:
# a PostgreSQL server, an S3-compatible object store (moto's server), two web fronts
# (ports 8001 and 8002) and two scoring workers, all sharing the database and the store.
#
#   docs/deploy/try_local.sh            # start it all; Ctrl-C stops it all
#   docs/deploy/try_local.sh --smoke    # start it, upload a sample to the first front, read
#                                       # the result from the second, stop it all
#
# Needs Debian's postgresql package (initdb, pg_ctl) and the project installed in .venv
# (`moto[server]` comes with its dev extras: pip install -e ".[dev]"). Everything lives in
# $TRY_DIR (default /tmp/formcheck-try), removed at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$(pwd)/.venv/bin
DIR=${TRY_DIR:-/tmp/formcheck-try}
PG_PORT=${PG_PORT:-55432}
S3_PORT=${S3_PORT:-59000}
SMOKE=${1:-}
pg_bin() { command -v "$1" 2>/dev/null || ls /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | tail -1; }
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

rm -rf "$DIR" && mkdir -p "$DIR/pg"
[ "$(id -u)" -eq 0 ] && chown postgres "$DIR/pg"
pids=()
stop_all() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait "${pids[@]}" 2>/dev/null || true
    as_pg "$(pg_bin pg_ctl)" -D "$DIR/pg/db" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$DIR"
}
trap stop_all EXIT

echo "PostgreSQL on 127.0.0.1:$PG_PORT"
as_pg "$(pg_bin initdb)" -D "$DIR/pg/db" -U formcheck --auth=trust -E UTF8 >/dev/null
as_pg "$(pg_bin pg_ctl)" -D "$DIR/pg/db" -w -l "$DIR/pg/server.log" \
    -o "-p $PG_PORT -k $DIR/pg -c listen_addresses=127.0.0.1" start >/dev/null
echo "S3-compatible store (moto) on 127.0.0.1:$S3_PORT"
"$BIN/moto_server" -H 127.0.0.1 -p "$S3_PORT" >"$DIR/s3.log" 2>&1 &
pids+=($!)

# What every front and worker shares: the database and the store. Credentials come from
# the environment, never the command line.
export FORMCHECK_DB_URL="postgresql+psycopg://formcheck@127.0.0.1:$PG_PORT/postgres"
export FORMCHECK_STORE="s3://formcheck/clips"
export AWS_ENDPOINT_URL="http://127.0.0.1:$S3_PORT" AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=try AWS_SECRET_ACCESS_KEY=try

"$BIN/formcheck" db upgrade --data "$DIR/front1"
TOKEN=$("$BIN/formcheck" serve --data "$DIR/front1" --create-token coach --coach | tail -1)
for k in 1 2; do
    "$BIN/formcheck" serve --data "$DIR/front$k" --workers 0 --port "800$k" \
        >"$DIR/front$k.log" 2>&1 &
    pids+=($!)
    "$BIN/formcheck" worker --data "$DIR/worker$k" --name "worker$k" >"$DIR/worker$k.log" 2>&1 &
    pids+=($!)
done
for k in 1 2; do
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:800$k/readyz" >/dev/null && break
        sleep 0.3
    done
    echo "front $k: http://127.0.0.1:800$k ($(curl -s "http://127.0.0.1:800$k/readyz"))"
done
echo "coach token: $TOKEN"
echo "metrics: curl -H 'Authorization: Bearer $TOKEN' http://127.0.0.1:8001/metrics"

if [ "$SMOKE" != "--smoke" ]; then
    echo "logs in $DIR; Ctrl-C stops it all"
    wait
    exit 0
fi
auth=(-H "Authorization: Bearer $TOKEN")
id=$(curl -sf "${auth[@]}" -F "file=@sample_videos/good_form_right.mp4" \
    http://127.0.0.1:8001/api/uploads | "$BIN/python" -c 'import json,sys; print(json.load(sys.stdin)["id"])')
echo "uploaded $id to front 1"
for _ in $(seq 300); do
    state=$(curl -sf "${auth[@]}" "http://127.0.0.1:8002/api/uploads/$id" \
        | "$BIN/python" -c 'import json,sys; d=json.load(sys.stdin); print(d["state"], d["rep_count"], d.get("error") or "")')
    case "$state" in done*|error*) break ;; esac
    sleep 1
done
echo "front 2 says: $state"
curl -sf "${auth[@]}" -o "$DIR/annotated.mp4" "http://127.0.0.1:8002/api/uploads/$id/video"
echo "annotated video from the store through front 2: $(stat -c %s "$DIR/annotated.mp4") bytes"
curl -sf "${auth[@]}" http://127.0.0.1:8001/metrics | grep -E '^formcheck_(jobs|worker_jobs_total)'
case "$state" in done*) exit 0 ;; *) exit 1 ;; esac
