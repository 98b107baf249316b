#!/bin/sh
# The container workload: the same programs a VM guest runs. udp-send streams to the
# client; udp-recv takes the client's probes and echoes each back to (its source IP,
# REFLECT_PORT); busybox httpd serves /www on port 80. The network (address, route, MAC) is
# plumbed from outside through the holder container whose network namespace this one
# shares: no ip setup here.
: "${WARPLAB_PEER:?WARPLAB_PEER (the client address to stream to) is not set}"
SEND_PORT=${WARPLAB_SEND_PORT:-5001}
ECHO_PORT=${WARPLAB_ECHO_PORT:-5000}
REFLECT_PORT=${WARPLAB_REFLECT_PORT:-5002}
INTERVAL_US=${WARPLAB_INTERVAL_US:-10000}
STREAM=${WARPLAB_STREAM:-1}
MAX=2678400 # 31 days, the largest --duration the probes take: the orchestrator stops us

# An older udp-recv has no echo: run without it rather than not at all, and say so.
reflect="--reflect-port $REFLECT_PORT"
if ! /bin/udp-recv --help | grep -q -- --reflect-port; then
  echo "app.sh: this udp-recv has no --reflect-port: running without the echo" >&2
  reflect=
fi

# shellcheck disable=SC2086 # $reflect is two words or none
/bin/udp-recv --port "$ECHO_PORT" $reflect --out /dev/null --duration $MAX &
recv=$!
/bin/udp-send --to "$WARPLAB_PEER" --port "$SEND_PORT" --interval-us "$INTERVAL_US" \
  --stream "$STREAM" --duration $MAX &
send=$!
# /www (1M: 1 MiB of random bytes, index.html) comes with the image, not made here: a
# migration restores the processes into a new container of the same image, where files
# written at run time would be missing (and httpd's working directory with them).
/bin/busybox httpd -f -p 80 -h /www &
http=$!
# PID 1 gets no default signal handling: pass a stop on, so the probes print their counters.
trap 'kill -TERM $send $recv $http 2>/dev/null' TERM INT
wait $send $recv $http
# wait returns early when a trapped signal arrives: wait again for the children to end.
wait
