#!/bin/bash
# Split-brain made on purpose: with the link down both nodes are primary and write. On
# reconnect both detect it, refuse to replicate and say so (status, events, kernel log).
# Manual recovery: beta (the loser) saves its changed blocks, connects with
# --discard-my-data, and is resynced from alpha; the saved image restores beta's writes.
source "$(dirname "$0")/../scenario.sh"

hablk_pair_synced 128
adm alpha disconnect "$RES"
adm beta disconnect "$RES"
adm beta primary "$RES"
vm_run alpha "dd if=/dev/urandom of=$DEV bs=1M count=2 seek=10 oflag=direct status=none"
vm_run beta "
	set -e
	head -c 1048576 /dev/urandom >/shared/beta-writes
	dd if=/shared/beta-writes of=$DEV bs=1M seek=40 oflag=direct status=none"
adm beta secondary "$RES"
pass "both nodes wrote while apart"

adm alpha connect "$RES"
adm beta connect "$RES"
for n in alpha beta; do
	wait_st $n peer.connection standalone 30
	[[ $(st $n peer.last_error) == *split-brain* ]] || fail "$n: last error '$(st $n peer.last_error)'"
	vm_console $n | grep -q 'split-brain detected' || fail "$n: no split-brain in the kernel log"
done
if adm alpha wait-sync "$RES" --timeout 5 2>/dev/null; then fail "wait-sync succeeded after a split-brain"; fi
pass "split-brain detected on both nodes; both standalone"
[[ $(dev_sum alpha) != "$(dev_sum beta)" ]] || fail "devices identical after a split-brain?"

adm beta connect "$RES" --discard-my-data --save /shared/sb
adm alpha connect "$RES"
adm alpha wait-sync "$RES" --timeout 120
adm beta wait-sync "$RES" --timeout 60
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "beta resynced from alpha"
pass "manual recovery: beta's changes discarded"

# the save holds exactly beta's 256 blocks; putting them back gives beta's data
idx=$(ls "$VM_SHARED"/sb/r0-*.idx)
assert_eq "$(grep -vc '^#' "$idx")" 256 "256 saved blocks in the index"
python3 - "$idx" "${idx%.idx}.img" "$VM_SHARED/beta-writes" <<'PY'
import sys
idx, img, want = sys.argv[1:]
data = open(img, "rb").read()
blocks = {}
for line in open(idx):
    if line.startswith("#"):
        continue
    b, off = map(int, line.split())
    blocks[b] = data[off:off + 4096]
got = b"".join(blocks[b] for b in sorted(blocks))
assert sorted(blocks) == list(range(40 * 256, 41 * 256)), "saved blocks are not beta's 1 MiB at 40 MiB"
assert got == open(want, "rb").read(), "saved data differs from what beta wrote"
PY
pass "the saved image restores beta's discarded writes"
