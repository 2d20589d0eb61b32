"""Print `export` lines that point the pipeline at a running sandbox (scripts/ui.sh, the README):
the URL given, else the sandbox on $SANDBOX_PORT (8900)."""

import os
import shlex
import sys

from marketplace_sandbox.env import sandbox_env

default = f"http://127.0.0.1:{os.environ.get('SANDBOX_PORT') or 8900}"
for name, value in sandbox_env(sys.argv[1] if len(sys.argv) > 1 else default).items():
    print(f"export {name}={shlex.quote(value)}")
