#!/bin/bash
# (a) A fresh pair: create-md, up, primary --force, full sync; fio writes blocks with verify
# headers on alpha while the sync runs; roles switch; fio verifies every block on beta; both
# devices are identical; events report the role changes; idle, no more pages are held than the
# pool keeps, and none once disconnected. PROTOCOL=A runs it with protocol A.
source "$(dirname "$0")/../scenario.sh"

hablk_boot 256
hablk_up alpha beta
adm alpha wait-connect "$RES" --timeout 60
assert_eq "$(st alpha disk)" inconsistent "fresh metadata is inconsistent"
assert_eq "$(st alpha peer.connection)" connected "alpha sees beta"
if adm beta primary "$RES" 2>/dev/null; then fail "primary without --force on inconsistent data"; fi
pass "primary refused on inconsistent data without --force"

FIO="fio --name=v --filename=$DEV --direct=1 --ioengine=libaio --bs=4k --size=64M \
	--rw=randwrite --iodepth=16 --verify=crc32c --randrepeat=1 --output-format=terse"
adm alpha primary "$RES" --force
assert_eq "$(st alpha peer.replication)" sync-source "alpha is the sync source"
vm_run alpha "$FIO --do_verify=0 >/shared/fio-write.log"
[[ $(st beta disk) == inconsistent ]] || vm_note "the sync ended before fio did"
pass "fio wrote 64 MiB with verify headers on alpha during the initial sync"
adm alpha wait-sync "$RES" --timeout 300
adm beta wait-sync "$RES" --timeout 60
assert_eq "$(st alpha role)" primary "alpha is primary"
assert_eq "$(st beta disk)" uptodate "beta is uptodate after the sync"
assert_eq "$(st beta peer.role)" primary "beta sees alpha as primary"
assert_eq "$(st alpha protocol)" "${PROTOCOL:-C}" "protocol"
pass "initial full sync done"

# A secondary refuses to be opened for writing.
if vm beta dd if=/dev/zero of=$DEV bs=4k count=1 oflag=direct status=none 2>/dev/null; then
	fail "secondary accepted a write open"
fi
pass "secondary refuses opens for writing"

bg_start beta events "timeout 60 $ADM -j events"
end=$((SECONDS + 30))   # events prints an "exists" line once it listens
until grep -q '"event":"exists"' "$VM_SHARED/events.log" 2>/dev/null; do
	((SECONDS < end)) || fail "hablkadm events did not start"
	sleep 0.1
done
adm alpha secondary "$RES"
adm beta primary "$RES"
assert_eq "$(st beta role)" primary "beta is primary"
assert_eq "$(st alpha peer.role)" primary "alpha sees beta as primary"
vm_run beta "$FIO --verify_only >/shared/fio-verify.log"
pass "fio verified every block on beta"
vm beta pkill -f "$ADM -j events"
bg_wait events 30 || true
python3 - "$VM_SHARED/events.log" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
seen = [(e["event"], e["role"], e["peers"][0]["role"]) for e in ev]
assert ("peer", "secondary", "secondary") in seen, seen   # alpha demoted
assert ("role", "primary", "secondary") in seen, seen     # beta promoted
PY
pass "events reported alpha's demotion and beta's promotion"

assert_eq "$(dev_sum alpha)" "$(dev_sum beta)" "whole device identical on both nodes"
vm_check_log alpha
vm_check_log beta
pass "kernel logs clean"

# Data-path pages: idle, a node keeps at most its pool (1,024 free pages); none once the
# connection is gone (the pool is emptied at teardown).
for n in alpha beta; do
	pages=$(object_count "$n" pages)
	((pages <= 1024)) || fail "$n holds $pages data-path pages while idle (pool: at most 1024)"
done
adm alpha disconnect "$RES"
assert_eq "$(object_count alpha pages)" 0 "no data-path page held once disconnected"
pass "idle nodes keep at most the page pool, and none once disconnected"
