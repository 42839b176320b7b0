#!/bin/bash
# Quorum with an arbiter (hablkd on alpha, beta and the arbiter gamma):
# * arbiter down: the pair keeps replicating and alpha keeps writing;
# * arbiter and peer down: alpha, without quorum, freezes (a write does not complete);
#   the arbiter back, it gives alpha its vote and the frozen write completes;
# * the primary's VM killed under writes: beta, with the arbiter's vote and UpToDate data,
#   promotes itself (the time is measured), holds every write alpha acknowledged, and alpha
#   comes back as a secondary and resyncs.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../hablk.sh"
vm_setup
ACKW="$VM_SRC/tests/vm/ackw"

hablk_trio_boot 256
hablk_trio_config "auto-promote yes"
hablk_up alpha beta
adm alpha wait-connect "$RES" --timeout 60
adm alpha primary "$RES" --force
adm alpha wait-sync "$RES" --timeout 300
adm beta wait-sync "$RES" --timeout 60
hablkd_start alpha beta gamma
wait_st alpha managed True 30
wait_st beta managed True 30
wait_log alpha "arbiter gamma is reachable" 30
wait_log beta "arbiter gamma is reachable" 30
assert_eq "$(st alpha quorum)" True "alpha has quorum"
assert_eq "$(st alpha suspended)" False "alpha is not suspended"
pass "hablkd manages the pair; the arbiter is reachable from both"

# the arbiter down: replicating, the pair is a majority
vm_kill gamma
wait_log alpha "arbiter gamma is gone" 30
vm_run alpha "timeout 60 dd if=/dev/urandom of=$DEV bs=1M count=4 seek=10 oflag=direct status=none"
assert_eq "$(st alpha quorum)" True "alpha keeps quorum without the arbiter"
pass "arbiter down: alpha keeps writing"

# and the peer down too: alpha alone is no majority and freezes
vm_kill beta
wait_st alpha suspended True 30
wait_st alpha quorum False 30
bg_start alpha frozen "dd if=/dev/urandom of=$DEV bs=4k count=1 seek=5000 oflag=direct status=none"
wait_log alpha "r0: no quorum" 30
sleep 2	# a write that wrongly completed would have done so by now
[[ ! -e $VM_SHARED/frozen.rc ]] || fail "a write completed on alpha without quorum"
vm_console alpha | grep -q "I/O frozen" || fail "alpha did not log the freeze"
pass "arbiter and peer down: alpha froze; its write waits"

# the arbiter back: it gives alpha its vote (beta is gone), the write completes
vm_restart gamma
_trio_net gamma
hablkd_start gamma
bg_wait frozen 60 || fail "the frozen write failed after quorum returned"
assert_eq "$(st alpha suspended)" False "alpha resumed"
wait_log gamma "vote granted to node 0" 10
pass "arbiter back: alpha has its vote and the frozen write completed"

# beta back: it resyncs from alpha; replicating again, alpha needs no vote
vm_restart beta
_trio_net beta
hablk_load beta
adm beta up "$RES"
hablkd_start beta
adm beta wait-sync "$RES" --timeout 120
adm alpha wait-sync "$RES" --timeout 60
wait_log gamma "vote taken back from node 0" 30
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "beta resynced: whole device identical"
pass "beta rejoined"

# the primary killed under writes: beta takes over on its own
bg_start alpha ackw "$ACKW write $DEV 4096 6144 100000 /shared/acked.log"
end=$((SECONDS + 120))
until (($(cat "$VM_SHARED/acked.log" 2>/dev/null | wc -l) >= 300)); do
	((SECONDS < end)) || fail "alpha acknowledged fewer than 300 writes in 120 s"
	sleep 0.2
done
t0=$(date +%s%N)
vm_kill alpha
wait_st beta role primary 60
t1=$(date +%s%N)
failover_ms=$(((t1 - t0) / 1000000))
vm_note "automatic failover: beta primary $failover_ms ms after alpha was killed"
vm beta "$ACKW" check "$DEV" /shared/acked.log
pass "beta promoted itself in $failover_ms ms and holds every write alpha acknowledged"
vm_run beta "dd if=/dev/urandom of=$DEV bs=1M count=2 seek=200 oflag=direct status=none"

vm_restart alpha
_trio_net alpha
hablk_load alpha
adm alpha up "$RES"
hablkd_start alpha
adm alpha wait-sync "$RES" --timeout 120
adm beta wait-sync "$RES" --timeout 60
assert_eq "$(st alpha role)" secondary "alpha came back as secondary"
assert_eq "$(dev_sum alpha)" "$(dev_sum beta)" "whole device identical after the resync"
pass "alpha rejoined as secondary"
hablk_check_logs alpha beta
pass "kernel logs clean"
