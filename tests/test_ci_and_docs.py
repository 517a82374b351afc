"""What the README promises about the scripts, and what CI runs on."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_readme_says_serve_demo_passes_its_options_to_serve() -> None:
    readme = (ROOT / "README.md").read_text()

    assert "`./scripts/serve-demo` passes its options to `licentia serve`" in readme
    assert "./scripts/serve-demo --bind" in readme
    assert '"$@"' in (ROOT / "scripts/serve-demo").read_text()


def test_ci_takes_the_postgresql_database_from_database_url() -> None:
    script = (ROOT / ".ci/run").read_text()
    # The lines that choose the database, run with a given DATABASE_URL, print the choice.
    choosing = script.split('echo "== test suite on SQLite"')[0].split("set -euo pipefail")[1]
    probe = choosing.replace('cd "$(dirname "$0")/.."', "") + 'echo "$postgres_url"'

    chosen = subprocess.run(  # noqa: S603
        ["bash", "-c", probe],  # noqa: S607
        env={"DATABASE_URL": "postgres://ci@db.internal:5432/licentia_ci", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )

    assert chosen.stdout.strip() == "postgres://ci@db.internal:5432/licentia_ci"
    assert "env -u DATABASE_URL ./scripts/test" in script
    assert 'DATABASE_URL="$postgres_url" ./scripts/test' in script
