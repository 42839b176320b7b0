#!/bin/bash
# Quorum with an arbiter (hablkd on alpha, beta and the arbiter gamma):
# * arbiter down: the pair keeps replicating and alpha keeps writing; status and events say
#   the arbiter is unreachable;
# * arbiter and peer down: alpha, without quorum, freezes (a write does not complete);
#   the arbiter back, it gives alpha its vote and the frozen write completes;
# * the primary's VM killed under writes: beta, with the arbiter's vote and UpToDate data,
#   promotes itself (the time is measured), holds every write alpha acknowledged, and alpha
#   comes back as a secondary and resyncs;
# * promote-on-open: opening the device for writing promotes alpha once beta is secondary.
source "$(dirname "$0")/../scenario.sh"
ACKW="$VM_SRC/tests/vm/ackw"

hablk_trio_synced 256 "auto-promote yes"
wait_st alpha managed True 30
wait_st beta managed True 30
assert_eq "$(st alpha quorum)" True "alpha has quorum"
assert_eq "$(st alpha suspended)" False "alpha is not suspended"
pass "hablkd manages the pair; the arbiter is reachable from both"

# the arbiter down: replicating, the pair is a majority; events say so
bg_start alpha events "timeout 300 $ADM -c $CFG -j events"
end=$((SECONDS + 30))	# hablkd's view is printed first
until grep -q '"event":"hablkd"' "$VM_SHARED/events.log" 2>/dev/null; do
	((SECONDS < end)) || fail "hablkadm events printed no hablkd view"
	sleep 0.1
done
vm_kill gamma
wait_log alpha "arbiter gamma is gone" 30
end=$((SECONDS + 30))
until grep -q '"event":"hablkd".*"arbiter":"unreachable"' "$VM_SHARED/events.log"; do
	((SECONDS < end)) || fail "hablkadm events did not report the arbiter unreachable"
	sleep 0.1
done
vm_run alpha "timeout 60 dd if=/dev/urandom of=$DEV bs=1M count=4 seek=10 oflag=direct status=none"
assert_eq "$(st alpha quorum)" True "alpha keeps quorum without the arbiter"
assert_eq "$(view alpha arbiter)" unreachable "alpha's status: the arbiter is unreachable"
pass "arbiter down: alpha keeps writing; status and events say the arbiter is unreachable"

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
hablk_rejoin beta
adm beta wait-sync "$RES" --timeout 120
adm alpha wait-sync "$RES" --timeout 60
wait_log gamma "vote taken back from node 0" 30
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "beta resynced: whole device identical"
pass "beta rejoined"

# the primary killed under writes: beta takes over on its own
ackw_start alpha 300
t0=$(date +%s%N)
vm_kill alpha
wait_st beta role primary 60
t1=$(date +%s%N)
failover_ms=$(((t1 - t0) / 1000000))
vm_note "automatic failover: beta primary $failover_ms ms after alpha was killed"
vm beta "$ACKW" check "$DEV" /shared/acked.log
pass "beta promoted itself in $failover_ms ms and holds every write alpha acknowledged"
vm_run beta "dd if=/dev/urandom of=$DEV bs=1M count=2 seek=200 oflag=direct status=none"

hablk_rejoin alpha
adm alpha wait-sync "$RES" --timeout 120
adm beta wait-sync "$RES" --timeout 60
assert_eq "$(st alpha role)" secondary "alpha came back as secondary"
assert_eq "$(dev_sum alpha)" "$(dev_sum beta)" "whole device identical after the resync"
pass "alpha rejoined as secondary"

# promote-on-open (auto-promote): refused while beta is primary, done once it is not
if out=$(vm_run alpha "dd if=/dev/zero of=$DEV bs=4k count=1 oflag=direct status=none" 2>&1); then
	fail "alpha opened the device for writing while beta is primary"
fi
[[ $out == *"Read-only file system"* ]] || fail "alpha's open for writing: '$out'"
adm beta secondary "$RES"
vm_run alpha "dd if=/dev/urandom of=$DEV bs=4k count=1 seek=777 oflag=direct status=none"
assert_eq "$(st alpha role)" primary "opening the device for writing promoted alpha"
pass "promote-on-open: refused while the peer is primary, done when it is safe"
hablk_check_logs alpha beta
pass "kernel logs clean"
