#!/bin/bash
# (a) with protocol A: writes complete once local and sent; the same sync, fio verify on the
# peer after a switch-over, and identical devices.
PROTOCOL=A exec bash "$(dirname "$0")/10-pair-sync-verify.sh"
