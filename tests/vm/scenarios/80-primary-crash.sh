#!/bin/bash
# The primary's VM killed while it writes: beta is promoted and holds every write alpha
# acknowledged (each logged after it returned); alpha comes back, resyncs only the extents
# it was writing in (its write-intent map) plus what beta wrote since, and the devices end
# identical.
source "$(dirname "$0")/../scenario.sh"
ACKW="$VM_SRC/tests/vm/ackw"

hablk_pair_synced 256
# 4 KiB writes at random in 24 MiB (blocks 4096..10239: MiB 16..40), each logged when acked
ackw_start alpha 400
vm_kill alpha
pass "alpha killed after $(wc -l <"$VM_SHARED/acked.log") acknowledged writes"

wait_st beta peer.connection connecting 20
adm beta primary "$RES"
vm beta "$ACKW" check "$DEV" /shared/acked.log
pass "beta promoted and holds every write alpha acknowledged"
vm_run beta "dd if=/dev/urandom of=$DEV bs=1M count=2 seek=200 oflag=direct status=none"

vm_restart alpha
hablk_load alpha
tx() { vm beta cat /sys/class/net/eth0/statistics/tx_bytes; }
before=$(tx)
adm alpha up "$RES"
adm alpha wait-sync "$RES" --timeout 120
adm beta wait-sync "$RES" --timeout 60
moved=$(($(tx) - before))
vm_note "resync after the crash moved $((moved >> 20)) MiB (device: 256 MiB; alpha wrote in 24 MiB, beta 2 MiB since)"
((moved < 40 << 20)) || fail "resync moved $moved bytes: more than the written extents"
assert_eq "$(st alpha role)" secondary "alpha came back as secondary"
assert_eq "$(dev_sum alpha)" "$(dev_sum beta)" "whole device identical after the resync"
vm alpha "$ACKW" check "$DEV" /shared/acked.log
pass "alpha resynced only recently written extents and holds every acknowledged write"
