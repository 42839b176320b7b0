#!/bin/bash
# Partitions with an arbiter (hablkd on alpha, beta and gamma):
# * only the replication link cut: the arbiter gives its vote to the primary, which goes on
#   writing; beta, alive on the control path, has no quorum, is marked outdated and is not
#   promoted; the status says why; healed, beta resyncs and nothing diverged;
# * the primary cut from both others while writing: it freezes, beta promotes itself and
#   holds every write alpha acknowledged;
# * both data nodes restarted, the stale alpha first: the arbiter knows it is outdated, so it
#   gets no vote, its disk is marked outdated and it may not become primary; beta back,
#   alpha resyncs from it.
source "$(dirname "$0")/../scenario.sh"
ACKW="$VM_SRC/tests/vm/ackw"

hablk_trio_synced 256 "auto-promote yes"

# --- the replication link cut, nothing else ---
vm alpha ip link set eth0 down
wait_log gamma "vote granted to node 0; node 1 is outdated" 30
wait_st alpha suspended False 30
vm_run alpha "timeout 60 dd if=/dev/urandom of=$DEV bs=1M count=8 seek=30 oflag=direct status=none"
assert_eq "$(view alpha peer)" "alive, replication link cut" "alpha's status: the peer is alive, the link cut"
assert_eq "$(view alpha arbiter_vote)" True "alpha's status: it has the arbiter's vote"
assert_eq "$(view beta quorum)" False "beta's status: no quorum"
assert_eq "$(st beta role)" secondary "beta was not promoted"
wait_st beta disk outdated 30
if out=$(adm beta primary "$RES" 2>&1); then fail "beta became primary without quorum"; fi
[[ $out == *"no quorum"* ]] || fail "beta's primary refusal: '$out'"
pass "link cut: the arbiter kept alpha writing; beta refused primary: $out"
vm alpha ip link set eth0 up
adm beta wait-sync "$RES" --timeout 120
adm alpha wait-sync "$RES" --timeout 60
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "healed: beta resynced, whole device identical"
wait_log gamma "node 1 is up to date again" 30
assert_eq "$(st beta disk)" uptodate "the resync ended beta's outdated state"
pass "link healed: no divergence"

# --- the primary cut from everyone while it writes ---
ackw_start alpha 300
vm_run alpha "ip link set eth0 down; ip link set eth1 down; ip link set eth2 down"
wait_st beta role primary 60
cut=$(wc -l <"$VM_SHARED/acked.log")
wait_st alpha suspended True 10
vm beta "$ACKW" check "$DEV" /shared/acked.log
pass "alpha cut off: beta promoted itself and holds all $cut writes alpha acknowledged"
sleep 2	# alpha, frozen, acknowledges nothing more
assert_eq "$(wc -l <"$VM_SHARED/acked.log")" "$cut" "alpha acknowledged no write after beta took over"
vm_run beta "dd if=/dev/urandom of=$DEV bs=1M count=2 seek=100 oflag=direct status=none"

# --- both data nodes down; the stale one comes back first ---
vm_kill alpha
vm_kill beta
hablk_rejoin alpha
wait_log alpha "arbiter gamma is reachable" 30
wait_st alpha managed True 30
assert_eq "$(st alpha quorum)" False "stale alpha alone has no quorum"
wait_st alpha disk outdated 30
if out=$(adm alpha primary "$RES" 2>&1); then fail "stale alpha became primary"; fi
[[ $out == *"no quorum"* ]] || fail "alpha's primary refusal: '$out'"
grep -q "vote granted to node 0" <(sed -n '/vote granted to node 1/,$p' "$VM_SHARED/hablkd-gamma.log") &&
	fail "the arbiter gave the stale alpha its vote"
pass "stale alpha, first back, may not become primary: $out"

hablk_rejoin beta
adm alpha wait-sync "$RES" --timeout 120
adm beta wait-sync "$RES" --timeout 60
adm beta primary "$RES"
assert_eq "$(dev_sum alpha)" "$(dev_sum beta)" "alpha resynced from beta: whole device identical"
vm alpha "$ACKW" check "$DEV" /shared/acked.log
pass "beta back: alpha resynced from it and holds every acknowledged write"
hablk_check_logs alpha beta
pass "kernel logs clean"
