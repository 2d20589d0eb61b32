"""Print `export` lines that point the pipeline at a running sandbox (used by scripts/ui.sh)."""

import shlex
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from demo import sandbox_env

for name, value in sandbox_env(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8900").items():
    print(f"export {name}={shlex.quote(value)}")
