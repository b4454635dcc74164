#!/bin/bash
# Usage: cargo build && bash scripts/lab-scale.sh (needs curl, python3, sshpass)
# Starts a 1,000-device lab, waits until its control endpoint lists every device,
# then reports the wall time, resident memory and a show version over SSH.
B=${B:-target/debug/netswim}   # or target/release/netswim
start=$(date +%s.%N)
$B lab run --devices 1000 --mix ios-stack:200,ios:300,iosxe:300,iosxr:200 \
  --address-base 127.49.0.1 --ssh-port 2222 --username admin --password admin \
  --control 127.49.255.250:7070 --image-size 1MiB > /dev/null 2>&1 &
pid=$!
until [ "$(curl -s http://127.49.255.250:7070/devices 2>/dev/null | python3 -c 'import sys,json; print(len(json.load(sys.stdin)))' 2>/dev/null)" = 1000 ]; do sleep 0.05; done
end=$(date +%s.%N)
echo "start to 1000 devices listed: $(python3 -c "print(round($end-$start,2))") s"
grep VmRSS /proc/$pid/status
for host in 127.49.0.1 127.49.1.245 127.49.3.231; do
  sshpass -p admin ssh -p 2222 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR admin@$host "show version" | grep -m1 -i "version"
done
grep VmRSS /proc/$pid/status
kill $pid
