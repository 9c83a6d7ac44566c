#!/usr/bin/env bash
# Mutation testing of the client's core logic, py/core/*.py and py/ws_hook.py, by the unit
# tests (docs/MUTATION.md has the figures and how to read them). Not a CI step: it takes
# most of an hour on two cores.
#   scripts/mutation.sh                      run (one worker: the machine is shared), resumable
#   scripts/mutation.sh results              the surviving mutants
#   scripts/mutation.sh show NAME            one mutant's diff
# mutmut names a mutant after its file's path, dropping only a leading src/, while the tests
# import py/'s modules as top-level ones (core.outbox, ws_hook), as PyScript does. So it runs
# in .mutation/, where py/ is seen as src/; its verdicts stay there between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
mutmut=${MUTMUT:-$root/.venv/bin/mutmut}
mkdir -p .mutation
cd .mutation
ln -sfn "$root/py" src
ln -sfn "$root/tests" tests
for file in pyproject.toml pytest.ini index.html; do
  ln -sfn "$root/$file" "$file"
done
if [ "$#" -eq 0 ]; then
  set -- run --max-children 1
fi
exec "$mutmut" "$@"
