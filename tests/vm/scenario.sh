# shellcheck shell=bash source-path=SCRIPTDIR
# The opening of every scenario (tests/vm/scenarios/*.sh), as its first command:
#   source "$(dirname "$0")/../scenario.sh"
# Strict mode, the harness (lib.sh) and the hablk helpers (hablk.sh), the work dir and EXIT
# trap (vm_setup), and the common ending: once the scenario succeeded, hablk_end brings every
# resource down and checks that the module leaked nothing (see hablk.sh).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=hablk.sh
source "$(dirname "${BASH_SOURCE[0]}")/hablk.sh"
vm_setup
vm_at_end hablk_end
