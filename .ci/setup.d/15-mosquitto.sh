#!/usr/bin/env bash
# Mosquitto (MQTT, 127.0.0.1:1883) for the outbox's MQTT publisher: started when its port is silent.
set -euo pipefail
open() { (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; }
if open; then echo "mosquitto: answering on 1883"; exit 0; fi
mosquitto -d -c /etc/mosquitto/mosquitto.conf
for _ in $(seq 1 30); do open && { echo "mosquitto: started on 1883"; exit 0; }; sleep 1; done
echo "mosquitto: did not answer on 127.0.0.1:1883 within 30s" >&2; exit 1
