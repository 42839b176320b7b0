#!/bin/bash
# after-sb discard-least-changes with split-brain-save: both nodes write while apart, beta
# fewer blocks; on reconnect the policy picks beta as the loser on both nodes, beta's kernel
# runs hablkadm save-divergent before anything is overwritten, and beta is resynced from alpha.
source "$(dirname "$0")/../scenario.sh"

hablk_boot 128
hablk_config "after-sb discard-least-changes
	    split-brain-save /shared/sb-auto"
hablk_pair_up 120

adm alpha disconnect "$RES"
adm beta disconnect "$RES"
adm beta primary "$RES"
vm_run alpha "dd if=/dev/urandom of=$DEV bs=1M count=3 seek=10 oflag=direct status=none"
vm_run beta "
	set -e
	head -c 1048576 /dev/urandom >/shared/beta-writes
	dd if=/shared/beta-writes of=$DEV bs=1M seek=60 oflag=direct status=none"
adm beta secondary "$RES"
pass "split-brain made: alpha wrote 3 MiB, beta 1 MiB"

adm alpha connect "$RES"
adm beta connect "$RES"
adm alpha wait-sync "$RES" --timeout 120
adm beta wait-sync "$RES" --timeout 60
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "beta resynced from alpha"
vm_console beta | grep -q "this node's 256 changed blocks are discarded" || fail "beta did not log the policy's verdict"
vm_console alpha | grep -q "the peer's changes are discarded" || fail "alpha did not log the policy's verdict"
pass "discard-least-changes resolved the split-brain: beta (fewer changes) lost"

idx=$(ls "$VM_SHARED"/sb-auto/r0-*.idx)
assert_eq "$(grep -vc '^#' "$idx")" 256 "beta's 256 changed blocks were saved before the resync"
python3 - "$idx" "${idx%.idx}.img" "$VM_SHARED/beta-writes" <<'PY'
import sys
idx, img, want = sys.argv[1:]
data = open(img, "rb").read()
offs = {int(b): int(o) for b, o in (l.split() for l in open(idx) if not l.startswith("#"))}
assert sorted(offs) == list(range(60 * 256, 61 * 256)), "not beta's 1 MiB at 60 MiB"
assert b"".join(data[offs[b]:offs[b] + 4096] for b in sorted(offs)) == open(want, "rb").read()
PY
pass "the automatically saved image restores beta's discarded writes"
