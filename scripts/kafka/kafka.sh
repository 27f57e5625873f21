#!/usr/bin/env bash
# A real, single-node Apache Kafka broker (KRaft, combined broker+controller)
# for the project's tests, run straight from the Maven Central jars.
#
#   bash scripts/kafka/kafka.sh fetch    # download the broker jars only (into scripts/kafka/.libs)
#   bash scripts/kafka/kafka.sh start    # idempotent: fetch, format, start, wait until healthy
#   bash scripts/kafka/kafka.sh stop     # idempotent: SIGTERM, wait <=30 s, then SIGKILL
#   bash scripts/kafka/kafka.sh status   # exit 0 and print "running" when healthy, else exit 1
#
# Listeners (all bound to 127.0.0.1; the TLS ones advertised as localhost, the name in their certificate):
#   PLAINTEXT       :$KAFKA_PORT            (9092)  - clients and inter-broker
#   SASL_PLAINTEXT  :$KAFKA_SASL_PORT       (9094)  - SASL/PLAIN and SCRAM-SHA-256, user smoke / smoke-secret
#   CONTROLLER      :$KAFKA_CONTROLLER_PORT (9093)  - KRaft controller quorum
#   SSL             :$KAFKA_SSL_PORT        (9095)  - TLS, no client certificate
#   SASL_SSL        :$KAFKA_SASL_SSL_PORT   (9096)  - TLS + SASL/PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512, user smoke
#   MTLS (SSL)      :$KAFKA_MTLS_PORT       (9097)  - mutual TLS: a client certificate signed by the CA is required
#
# TLS material (scripts/kafka/certs.sh, made at start when missing or about to expire): $KAFKA_DATA_DIR/tls
# holds ca.pem, client.pem, client.key.pem (encrypted; passphrase in client.key.pass) for clients.
#
# Environment: KAFKA_PORT, KAFKA_SASL_PORT, KAFKA_CONTROLLER_PORT, KAFKA_SSL_PORT, KAFKA_SASL_SSL_PORT,
# KAFKA_MTLS_PORT, KAFKA_DATA_DIR (default scripts/kafka/.data), KAFKA_WIPE=1 (wipe the data folder before start),
# KAFKA_START_TIMEOUT (seconds, default 90), KAFKA_HEAP_OPTS (default -Xmx1g -Xms256m),
# KAFKA_HEALTHCHECK=tcp (skip the kafkajs probe even when node_modules has kafkajs),
# JAVA_HOME (else `java` on PATH).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

KAFKA_HOST=127.0.0.1
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_SASL_PORT="${KAFKA_SASL_PORT:-9094}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_SSL_PORT="${KAFKA_SSL_PORT:-9095}"
KAFKA_SASL_SSL_PORT="${KAFKA_SASL_SSL_PORT:-9096}"
KAFKA_MTLS_PORT="${KAFKA_MTLS_PORT:-9097}"
KAFKA_DATA_DIR="${KAFKA_DATA_DIR:-$SCRIPT_DIR/.data}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx1g -Xms256m}"
SASL_USER=smoke
SASL_PASSWORD=smoke-secret

LIBS_DIR="$SCRIPT_DIR/.libs"
POM="$SCRIPT_DIR/pom.xml"
LOG4J_CONF="$SCRIPT_DIR/log4j2.xml"
HEALTHCHECK="$SCRIPT_DIR/healthcheck.cjs"
CERTS="$SCRIPT_DIR/certs.sh"
# the host name in the broker's certificate, advertised by the TLS listeners
TLS_HOST=localhost

mkdir -p "$KAFKA_DATA_DIR"
KAFKA_DATA_DIR="$(cd "$KAFKA_DATA_DIR" && pwd)"
CONF="$KAFKA_DATA_DIR/server.properties"
LOG_DIRS="$KAFKA_DATA_DIR/kraft-logs"
APP_LOG_DIR="$KAFKA_DATA_DIR/logs"
PID_FILE="$KAFKA_DATA_DIR/broker.pid"
STDOUT_LOG="$APP_LOG_DIR/stdout.log"
TLS_DIR="$KAFKA_DATA_DIR/tls"
# present once the storage has the SCRAM-SHA-512 user (storage formatted by an older kafka.sh lacks it)
SCRAM512_MARK="$KAFKA_DATA_DIR/scram-sha-512.done"

if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then JAVA="$JAVA_HOME/bin/java"; else JAVA=java; fi

log() { printf '[kafka.sh] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- jars
pom_stamp() { sha256sum "$POM" | cut -d' ' -f1; }

libs_ok() {
  [[ -f "$LIBS_DIR/.pom.sha256" ]] && [[ "$(cat "$LIBS_DIR/.pom.sha256")" == "$(pom_stamp)" ]] \
    && compgen -G "$LIBS_DIR/kafka_2.13-*.jar" >/dev/null
}

cmd_fetch() {
  if libs_ok; then
    log "jars already present in $LIBS_DIR"
    return 0
  fi
  command -v mvn >/dev/null || die "mvn (Maven) not found on PATH: it is needed to fetch the Kafka jars"
  local tmp="$LIBS_DIR.tmp.$$"
  rm -rf "$tmp"
  log "fetching Kafka broker jars from Maven Central (pom: $POM) ..."
  local t0=$SECONDS
  if ! mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies -DoutputDirectory="$tmp" >&2; then
    rm -rf "$tmp"
    die "mvn dependency:copy-dependencies failed"
  fi
  pom_stamp >"$tmp/.pom.sha256"
  rm -rf "$LIBS_DIR"
  mv "$tmp" "$LIBS_DIR"
  log "fetched $(ls "$LIBS_DIR"/*.jar | wc -l) jars in $((SECONDS - t0)) s"
}

# ---------------------------------------------------------------- processes
# The pid from the pid file if it is a live broker of ours, plus any other live
# kafka.Kafka JVM started with this very config file (pid file lost/wiped).
broker_pids() {
  local pids=() p cmd
  if [[ -f "$PID_FILE" ]]; then
    p="$(cat "$PID_FILE" 2>/dev/null || true)"
    if [[ "$p" =~ ^[0-9]+$ ]] && [[ -r "/proc/$p/cmdline" ]]; then
      cmd="$( { tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null || true)"
      [[ "$cmd" == *kafka.Kafka* ]] && pids+=("$p")
    fi
  fi
  local f
  for f in $(grep -lsF -- "$CONF" /proc/[0-9]*/cmdline 2>/dev/null || true); do
    p="${f#/proc/}"; p="${p%/cmdline}"
    cmd="$( { tr '\0' ' ' <"$f"; } 2>/dev/null || true)"
    if [[ "$cmd" == *" kafka.Kafka $CONF"* ]]; then
      [[ " ${pids[*]:-} " == *" $p "* ]] || pids+=("$p")
    fi
  done
  echo "${pids[*]:-}"
}

port_open() { (exec 3<>"/dev/tcp/$KAFKA_HOST/$1") 2>/dev/null; }

have_node_kafkajs() {
  [[ "${KAFKA_HEALTHCHECK:-}" != "tcp" ]] || return 1
  command -v node >/dev/null && node -e "require.resolve('kafkajs',{paths:['$REPO_ROOT']})" 2>/dev/null
}

# Healthy = answers Kafka's protocol (kafkajs describeCluster) on the PLAINTEXT port.
# Without node_modules: TCP probe of both client ports plus the broker log saying it started.
healthy() {
  if have_node_kafkajs; then
    node "$HEALTHCHECK" "$KAFKA_HOST:$KAFKA_PORT" 3000 >/dev/null 2>&1
  else
    local p
    for p in "$KAFKA_PORT" "$KAFKA_SASL_PORT" "$KAFKA_SSL_PORT" "$KAFKA_SASL_SSL_PORT" "$KAFKA_MTLS_PORT"; do
      port_open "$p" || return 1
    done
    # while waiting for a broker we just launched, also require its "started" log line
    # (server.log is moved aside before each launch, so the line is from this run)
    if [[ "${1:-}" == "--startup" ]]; then
      grep -qE 'Kafka Server started|Transition(ed)? from [A-Z_]+ to RUNNING' "$APP_LOG_DIR/server.log" 2>/dev/null
    fi
  fi
}

# ---------------------------------------------------------------- TLS material
# Every file there, and no certificate that expires within a day: else a new CA, keys and certificates.
tls_ok() {
  local f
  for f in ca.pem broker.pem broker.p12 store.pass client.pem client.key.pem client.key.pass; do
    [[ -s "$TLS_DIR/$f" ]] || return 1
  done
  for f in ca.pem broker.pem client.pem; do
    openssl x509 -checkend 86400 -noout -in "$TLS_DIR/$f" >/dev/null 2>&1 || return 1
  done
}

ensure_tls() {
  tls_ok && return 0
  log "making TLS material (throwaway CA, broker and client certificates) in $TLS_DIR"
  bash "$CERTS" "$TLS_DIR" "$TLS_HOST" || die "could not make the TLS material (scripts/kafka/certs.sh)"
}

# ---------------------------------------------------------------- config
write_config() {
  mkdir -p "$LOG_DIRS" "$APP_LOG_DIR"
  cat >"$CONF" <<EOF
# Generated by scripts/kafka/kafka.sh on each start - edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
controller.listener.names=CONTROLLER

listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,SASL_PLAINTEXT://$KAFKA_HOST:$KAFKA_SASL_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT,SSL://$KAFKA_HOST:$KAFKA_SSL_PORT,SASL_SSL://$KAFKA_HOST:$KAFKA_SASL_SSL_PORT,MTLS://$KAFKA_HOST:$KAFKA_MTLS_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,SASL_PLAINTEXT://$KAFKA_HOST:$KAFKA_SASL_PORT,SSL://$TLS_HOST:$KAFKA_SSL_PORT,SASL_SSL://$TLS_HOST:$KAFKA_SASL_SSL_PORT,MTLS://$TLS_HOST:$KAFKA_MTLS_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,MTLS:SSL
inter.broker.listener.name=PLAINTEXT

# SASL: PLAIN (static user) and SCRAM-SHA-256 on SASL_PLAINTEXT; on SASL_SSL also SCRAM-SHA-512, as managed
# services offer it (the SCRAM users are added at format time, or at start for older storage)
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_plaintext.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$SASL_USER="$SASL_PASSWORD";
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$SASL_USER="$SASL_PASSWORD";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;

# TLS on SSL, SASL_SSL and MTLS (certs.sh); MTLS requires a client certificate signed by the CA
ssl.keystore.type=PKCS12
ssl.keystore.location=$TLS_DIR/broker.p12
ssl.keystore.password=$(cat "$TLS_DIR/store.pass")
ssl.key.password=$(cat "$TLS_DIR/store.pass")
ssl.truststore.type=PEM
ssl.truststore.location=$TLS_DIR/ca.pem
listener.name.mtls.ssl.client.auth=required

log.dirs=$LOG_DIRS
num.partitions=4
default.replication.factor=1
auto.create.topics.enable=true
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
min.insync.replicas=1

# keep a test broker small
log.retention.hours=24
log.segment.bytes=67108864
log.retention.check.interval.ms=300000
num.network.threads=3
num.io.threads=4
EOF
  chmod 600 "$CONF" # it holds the keystore password
}

java_opts() {
  # shellcheck disable=SC2206
  local heap=($KAFKA_HEAP_OPTS)
  printf '%s\n' "${heap[@]}" \
    -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    "-Dlog4j2.configurationFile=$LOG4J_CONF" "-Dkafka.logs.dir=$APP_LOG_DIR"
}

format_storage() {
  if [[ -f "$LOG_DIRS/meta.properties" ]]; then
    return 0
  fi
  local cid
  # a random 16-byte Kafka Uuid in its base64url form (what `kafka-storage random-uuid` prints)
  cid="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
  log "formatting KRaft storage in $LOG_DIRS (cluster id $cid)"
  local opts=()
  mapfile -t opts < <(java_opts)
  "$JAVA" "${opts[@]}" -cp "$LIBS_DIR/*" kafka.tools.StorageTool format \
    -t "$cid" -c "$CONF" \
    --add-scram "SCRAM-SHA-256=[name=$SASL_USER,password=$SASL_PASSWORD]" \
    --add-scram "SCRAM-SHA-512=[name=$SASL_USER,password=$SASL_PASSWORD]" \
    >>"$APP_LOG_DIR/format.log" 2>&1 || { tail -n 30 "$APP_LOG_DIR/format.log" >&2; die "kafka storage format failed"; }
  touch "$SCRAM512_MARK"
}

# Storage formatted by an older kafka.sh has no SCRAM-SHA-512 user: add it through the running broker, once.
add_scram512_user() {
  [[ -f "$SCRAM512_MARK" ]] && return 0
  log "adding the SCRAM-SHA-512 user $SASL_USER (storage formatted without it)"
  # a small JVM of its own, logging to format.log only (not into the running broker's server.log)
  "$JAVA" -Xmx256m -XX:TieredStopAtLevel=1 -cp "$LIBS_DIR/*" kafka.admin.ConfigCommand --bootstrap-server "$KAFKA_HOST:$KAFKA_PORT" \
    --alter --entity-type users --entity-name "$SASL_USER" --add-config "SCRAM-SHA-512=[password=$SASL_PASSWORD]" \
    >>"$APP_LOG_DIR/format.log" 2>&1 || { tail -n 30 "$APP_LOG_DIR/format.log" >&2; die "could not add the SCRAM-SHA-512 user"; }
  touch "$SCRAM512_MARK"
}

# ---------------------------------------------------------------- commands
cmd_status() {
  if healthy; then
    local pids; pids="$(broker_pids)"
    echo "running (bootstrap $KAFKA_HOST:$KAFKA_PORT, sasl $KAFKA_HOST:$KAFKA_SASL_PORT, ssl $TLS_HOST:$KAFKA_SSL_PORT, sasl_ssl $TLS_HOST:$KAFKA_SASL_SSL_PORT, mtls $TLS_HOST:$KAFKA_MTLS_PORT${pids:+, pid $pids})"
    return 0
  fi
  local pids; pids="$(broker_pids)"
  if [[ -n "$pids" ]]; then
    echo "not healthy (broker process $pids is up but does not answer on $KAFKA_HOST:$KAFKA_PORT)"
  else
    echo "stopped"
  fi
  return 1
}

cmd_stop() {
  local pids; pids="$(broker_pids)"
  if [[ -z "$pids" ]]; then
    rm -f "$PID_FILE"
    log "no broker running"
    return 0
  fi
  log "stopping broker (pid $pids) ..."
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
  local deadline=$((SECONDS + 30)) p alive
  while :; do
    alive=""
    for p in $pids; do kill -0 "$p" 2>/dev/null && alive+=" $p"; done
    [[ -z "$alive" ]] && break
    if ((SECONDS >= deadline)); then
      log "broker did not exit within 30 s; sending SIGKILL to$alive"
      # shellcheck disable=SC2086
      kill -KILL $alive 2>/dev/null || true
      sleep 1
      break
    fi
    sleep 0.3
  done
  rm -f "$PID_FILE"
  log "broker stopped"
}

cmd_start() {
  if [[ "${KAFKA_WIPE:-0}" == "1" ]]; then
    cmd_stop
    log "KAFKA_WIPE=1: wiping $KAFKA_DATA_DIR"
    rm -rf "${KAFKA_DATA_DIR:?}"/*
  elif healthy; then
    log "broker already running and healthy on $KAFKA_HOST:$KAFKA_PORT"
    # a broker started by an older kafka.sh lacks the TLS listeners: say so, leave it alone
    port_open "$KAFKA_MTLS_PORT" || log "WARNING: nothing listens on the TLS ports ($KAFKA_SSL_PORT, $KAFKA_SASL_SSL_PORT, $KAFKA_MTLS_PORT): this broker was started by an older kafka.sh; '$0 restart' brings them up"
    return 0
  fi

  local t0=$SECONDS
  local pids; pids="$(broker_pids)"
  if [[ -z "$pids" ]]; then
    if port_open "$KAFKA_PORT"; then
      die "port $KAFKA_HOST:$KAFKA_PORT is taken by a process that does not answer as a Kafka broker"
    fi
    libs_ok || cmd_fetch
    command -v "$JAVA" >/dev/null || die "java not found (set JAVA_HOME or put java on PATH)"
    ensure_tls
    write_config
    format_storage
    local opts=()
    mapfile -t opts < <(java_opts)
    log "starting broker: PLAINTEXT $KAFKA_HOST:$KAFKA_PORT, SASL_PLAINTEXT $KAFKA_HOST:$KAFKA_SASL_PORT, SSL $TLS_HOST:$KAFKA_SSL_PORT, SASL_SSL $TLS_HOST:$KAFKA_SASL_SSL_PORT, MTLS $TLS_HOST:$KAFKA_MTLS_PORT, controller $KAFKA_HOST:$KAFKA_CONTROLLER_PORT, data $KAFKA_DATA_DIR"
    : >"$STDOUT_LOG"
    [[ -f "$APP_LOG_DIR/server.log" ]] && mv -f "$APP_LOG_DIR/server.log" "$APP_LOG_DIR/server.log.prev"
    (
      cd "$KAFKA_DATA_DIR"
      nohup "$JAVA" "${opts[@]}" -cp "$LIBS_DIR/*" kafka.Kafka "$CONF" >>"$STDOUT_LOG" 2>&1 </dev/null 9>&- &
      echo $! >"$PID_FILE"
    )
    pids="$(cat "$PID_FILE")"
  else
    log "broker process $pids already up; waiting for it to become healthy"
  fi

  local deadline=$((SECONDS + KAFKA_START_TIMEOUT)) p alive
  while :; do
    alive=""
    for p in $pids; do kill -0 "$p" 2>/dev/null && alive+=" $p"; done
    if [[ -z "$alive" ]]; then
      log "broker process exited during startup. Last lines of its logs:"
      tail -n 40 "$APP_LOG_DIR/server.log" >&2 2>/dev/null || true
      tail -n 20 "$STDOUT_LOG" >&2 2>/dev/null || true
      rm -f "$PID_FILE"
      die "Kafka broker failed to start"
    fi
    if healthy --startup; then
      add_scram512_user
      log "broker healthy on $KAFKA_HOST:$KAFKA_PORT after $((SECONDS - t0)) s (pid${alive})"
      return 0
    fi
    if ((SECONDS >= deadline)); then
      log "broker not healthy after ${KAFKA_START_TIMEOUT} s. Last lines of $APP_LOG_DIR/server.log:"
      tail -n 40 "$APP_LOG_DIR/server.log" >&2 2>/dev/null || true
      tail -n 20 "$STDOUT_LOG" >&2 2>/dev/null || true
      die "timed out waiting for the Kafka broker (it is left running: pid${alive}; run '$0 stop' to end it)"
    fi
    sleep 0.5
  done
}

# start/stop/restart take a lock so that two concurrent starts cannot launch two JVMs
with_lock() {
  if command -v flock >/dev/null; then
    exec 9>"$KAFKA_DATA_DIR/.lock"
    flock -w 120 9 || die "could not take $KAFKA_DATA_DIR/.lock within 120 s"
  fi
  "$@"
}

case "${1:-}" in
  start) with_lock cmd_start ;;
  stop) with_lock cmd_stop ;;
  status) cmd_status ;;
  fetch) cmd_fetch ;;
  restart) with_lock cmd_stop; cmd_start ;;
  *) echo "usage: $0 {start|stop|status|fetch|restart}" >&2; exit 2 ;;
esac
