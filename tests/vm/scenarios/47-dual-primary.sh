#!/bin/bash
# Two primaries (allow-two-primaries yes, hablkd's lock manager, an arbiter):
# * both nodes primary; status shows the locks on each;
# * fio random 4 KiB writes on both nodes at once over the same 16 MiB (different data):
#   no error, still connected, no split-brain, the whole devices identical;
# * the lock counters moved (grants on both, waits), and hablkadm locks lists the holdings;
# * beta's hablkd killed: its write to an extent it lacks waits until hablkd is back;
# * beta made secondary, an open for writing promotes it again (a migration's destination);
# * down and up again with 16 MiB extents, hablkd running on: both nodes write interleaved
#   4 MiB stripes (writes arrive on extents being given up); no write hangs, devices identical.
source "$(dirname "$0")/../scenario.sh"

hablk_dual_synced 256 "auto-promote yes"
assert_eq "$(st alpha role)" primary "alpha is primary"
assert_eq "$(st beta role)" primary "beta is primary too"
assert_eq "$(st alpha peer.role)" primary "alpha sees beta primary"
adm alpha status -j; adm alpha status; assert_eq "$(st alpha two_primaries)" True "status says two primaries"

# both write the same 16 MiB at once, each its own pattern
fio_on() { # fio_on NODE PATTERN
	bg_start "$1" "fio-$1" "fio --name=w --filename=$DEV --direct=1 --ioengine=libaio \
		--rw=randwrite --bs=4k --iodepth=8 --offset=16M --size=16M --runtime=20 --time_based \
		--randrepeat=0 --buffer_pattern=$2 --output-format=json --output=/shared/fio-$1.json"
}
fio_on alpha 0xaa
fio_on beta 0x55
bg_wait fio-alpha 300 || fail "fio on alpha failed: $(cat "$VM_SHARED/fio-alpha.log")"
bg_wait fio-beta 300 || fail "fio on beta failed: $(cat "$VM_SHARED/fio-beta.log")"
for n in alpha beta; do
	python3 - "$VM_SHARED/fio-$n.json" "$n" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))["jobs"][0]
assert j["error"] == 0, j["error"]
print("# %s: %d writes, %.0f IOPS" % (sys.argv[2], j["write"]["total_ios"], j["write"]["iops"]))
PY
done
pass "fio wrote the same region on both nodes at once, without an error"
assert_eq "$(st alpha peer.connection)" connected "still connected"
assert_eq "$(st beta peer.connection)" connected "beta still connected"
if vm_console alpha | grep -q 'split-brain' || vm_console beta | grep -q 'split-brain'; then
	fail "a split-brain was logged"
fi
a=$(dev_sum alpha) b=$(dev_sum beta)
assert_eq "$b" "$a" "whole devices identical after overlapping writers"

adm alpha status
adm beta status
adm alpha locks "$RES"
adm beta locks "$RES"
# the master's map of beta's extents is what beta's kernel holds (hablkd writes it each tick)
end=$((SECONDS + 20))
until python3 - "$(adm alpha -j locks "$RES")" "$(adm beta -j locks "$RES")" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert a["peer"]["name"] == "beta", a
held = lambda runs: {e for f, n in runs for e in range(f, f + n)}
assert held(a["peer"]["held"]) == held(b["held"]), (a["peer"]["held"], b["held"])
assert not held(a["held"]) & held(b["held"]), "an extent held by both"
PY
do
	((SECONDS < end)) || fail "alpha's map of beta's locks differs from beta's own"
	sleep 0.5
done
pass "hablkadm locks: the master's map of beta's extents matches beta's kernel; none held twice"
python3 - "$(adm alpha status -j)" "$(adm beta status -j)" <<'PY'
import json, sys
for s in sys.argv[1:]:
    r = json.loads(s)["resources"][0]
    l = r["locks"]
    assert l["grants"] > 0 and l["waits"] > 0, l
    print("# %s locks: %s" % (r["name"], l))
PY
pass "lock counters moved on both nodes"

# beta's hablkd gone: beta gets no new lock, so its write to an extent it lacks waits; hablkd
# back, it relearns what beta's kernel holds, the write gets its lock and completes
x=$(python3 -c 'import json, sys
held = {e for f, n in json.loads(sys.argv[1])["held"] for e in range(f, f + n)}
print(min(set(range(64, 128)) - held))' "$(adm beta -j locks "$RES")")
vm_run beta "pkill -KILL -x hablkd"
bg_start beta lockwait "dd if=/dev/urandom of=$DEV bs=4k count=1 seek=$((x * 256)) oflag=direct status=none"
sleep 3	# a write that wrongly got a lock would be done by now
[[ ! -e $VM_SHARED/lockwait.rc ]] || fail "beta wrote extent $x without its hablkd"
hablkd_start beta
bg_wait lockwait 60 || fail "beta's write to extent $x failed after hablkd came back"
pass "without hablkd beta's write to extent $x waited; hablkd back, it completed"

adm beta secondary "$RES"
assert_eq "$(st alpha peer.role)" secondary "beta secondary"
vm_run beta "dd if=/dev/urandom of=$DEV bs=4k count=1 seek=100 oflag=direct status=none"
assert_eq "$(st beta role)" primary "an open for writing promoted beta beside primary alpha"
pass "promote-on-open with two primaries"

# down and up with another extent, hablkd running on; stripes: two nodes in one extent
for n in alpha beta; do adm $n secondary "$RES"; done
for n in alpha beta; do adm $n down "$RES"; done
hablk_trio_config "allow-two-primaries yes
	    lock-extent 16M"
for n in alpha beta; do adm $n up "$RES"; done
adm alpha wait-connect "$RES" --timeout 60
adm alpha wait-sync "$RES" --timeout 60
wait_st alpha managed True 30
wait_st beta managed True 30
adm alpha primary "$RES"
adm beta primary "$RES"
stripes="--numjobs=8 --offset_increment=8M --size=4M --iodepth=2 --runtime=10 --time_based"
for n in alpha beta; do
	off=0
	[[ $n == beta ]] && off=4M
	bg_start $n "stripes-$n" "fio --name=s --filename=$DEV --direct=1 --ioengine=libaio \
		--rw=randwrite --bs=4k $stripes --offset=$off --group_reporting --output-format=terse"
done
bg_wait stripes-alpha 120 || fail "fio on alpha failed: $(cat "$VM_SHARED/stripes-alpha.log")"
bg_wait stripes-beta 120 || fail "fio on beta failed: $(cat "$VM_SHARED/stripes-beta.log")"
ext=$(python3 -c 'import json, sys
print(json.loads(sys.argv[1])["resources"][0]["locks"]["extent_kib"])' "$(adm alpha status -j "$RES")")
assert_eq "$ext" 16384 "the kernel has 16 MiB extents"
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "stripes in shared extents: devices identical"
pass "down and up with 16 MiB extents under hablkd: interleaved stripes completed on both"
