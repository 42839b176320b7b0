#!/bin/bash
# A secondary's volatile disk cache. beta acks writes it holds only in its cache
# (fault_peer_cache: held in memory until a flush; on alpha it stops the periodic flush, so
# nothing makes them stable by chance):
#  1. beta crashes: alpha takes the extents beta acked but had not flushed out of sync, beta
#     reports its unclean stop, and the resync gives it back what its cache lost;
#  2. the link is cut, beta stays up: its teardown writes what it held, the next connection
#     finds nothing lost and drops the extents (rule 6);
#  3. a commanded disconnect flushes the peer first: nothing out of sync;
#  4. alpha's periodic flush alone brings held writes to beta's disk;
#  5. a demotion has the peer flush first, and the link stays up after the switchover.
source "$(dirname "$0")/../scenario.sh"

hablk_pair_synced 64

# cache NODE 0|1: the fault cache on NODE
cache() { vm_run "$1" "echo $2 >/sys/module/hablk/parameters/fault_peer_cache"; }
# count NODE TEXT: how many kernel log lines hold TEXT
count() { vm "$1" dmesg | grep -cF -- "$2" || true; }
# write8 MIB: 8 MiB of random data at MIB on alpha's device, without a flush
write8() { vm_run alpha "dd if=/dev/urandom of=$DEV bs=1M count=8 seek=$1 oflag=direct status=none"; }
# region NODE DEV MIB: md5 of the 8 MiB at MIB of DEV on NODE
region() {
	vm_run "$1" "dd if=$2 bs=1M count=8 skip=$3 iflag=direct status=none | md5sum | cut -d' ' -f1"
}
# held MIB: beta's disk lacks what alpha wrote at MIB (beta acked it from its cache)
held() { [[ $(region beta /dev/vdb "$1") != "$(region alpha "$DEV" "$1")" ]]; }
IN_SYNC="connected to beta: in-sync (rule 6)"

# --- 1. beta crashes with acked writes in its cache ---------------------------------------
cache alpha 1
cache beta 1
write8 16
held 16 || fail "beta's disk has the writes: the fault cache did not hold them"
pass "beta acked 8 MiB that are only in its volatile cache"
vm_kill beta
wait_st alpha peer.connection connecting 20
assert_eq "$(st alpha peer.out_of_sync_kib)" 8192 \
	"alpha takes the 2 extents beta acked but had not flushed out of sync"
vm_restart beta
hablk_load beta
adm beta up "$RES"
(($(count beta "unclean stop with peer writes") == 1)) || fail "beta does not report its unclean stop"
adm alpha wait-connect "$RES" --timeout 60
adm alpha wait-sync "$RES" --timeout 120
adm beta wait-sync "$RES" --timeout 60
(($(count alpha "the peer may have lost writes") == 1)) || fail "alpha did not hear of beta's loss"
(($(count alpha "connected to beta: source (rule 4)") == 1)) || fail "alpha was not the source (rule 4)"
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "beta got back what its cache lost: devices identical"
assert_eq "$(st alpha peer.out_of_sync_kib)" 0 "nothing out of sync after the resync"

# --- 2. the link cut, beta stays up --------------------------------------------------------
cache beta 1
write8 32
held 32 || fail "beta's disk has the writes: the fault cache did not hold them"
in_sync=$(count alpha "$IN_SYNC")
vm alpha ip link set eth0 down
wait_st alpha peer.connection connecting 20
assert_eq "$(st alpha peer.out_of_sync_kib)" 8192 "alpha marks the extents beta may hold in its cache"
wait_st beta peer.connection connecting 30
held 32 && fail "beta's teardown did not write what it held"
pass "beta's teardown wrote what its cache held"
vm alpha ip link set eth0 up
adm alpha wait-connect "$RES" --timeout 60
(($(count alpha "$IN_SYNC") == in_sync + 1)) || fail "the reconnect was not in sync (rule 6)"
assert_eq "$(st alpha peer.out_of_sync_kib)" 0 "beta stopped cleanly: the extents are dropped"
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "devices identical"

# --- 3. a commanded disconnect flushes the peer first -----------------------------------
write8 40
held 40 || fail "beta's disk has the writes: the fault cache did not hold them"
adm alpha disconnect "$RES"
assert_eq "$(st alpha peer.out_of_sync_kib)" 0 "the disconnect had beta flush: nothing out of sync"
held 40 && fail "beta's disk lacks writes after the disconnect's flush"
adm alpha connect "$RES"
adm alpha wait-connect "$RES" --timeout 60
pass "reconnected"

# --- 4. the periodic flush ------------------------------------------------------------------
cache alpha 0
write8 48
end=$((SECONDS + 30))
while held 48; do
	((SECONDS < end)) || fail "no flush reached beta in 30 s"
	sleep 0.5
done
pass "alpha's periodic flush brought the held writes to beta's disk"

# --- 5. a switchover: alpha has beta flush before it is demoted ---------------------------
write8 0
held 0 || fail "beta's disk has the writes: the fault cache did not hold them"
adm alpha secondary "$RES"
held 0 && fail "beta's disk lacks writes after alpha's demotion"
pass "alpha's demotion had beta flush what it held"
cache beta 0
adm beta primary "$RES"
vm_run beta "dd if=/dev/urandom of=$DEV bs=1M count=4 seek=8 oflag=direct status=none"
# for a sweep period and more: a secondary sends its peer no flush (beta would refuse it)
end=$((SECONDS + 7))
while ((SECONDS < end)); do
	[[ $(st alpha peer.connection) == connected ]] || fail "the link dropped after the switchover"
	sleep 0.5
done
pass "still connected a sweep period after the switchover"
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "devices identical"
hablk_check_logs alpha beta
pass "kernel logs clean"
