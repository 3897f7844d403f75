#!/usr/bin/env bash
# Static security checks of bicep/ with checkov, from its own virtual environment (its pinned
# dependencies clash with the app's). Fails when checkov cannot parse a file (checkov itself
# silently skips such files and exits 0) or when a check fails that is not in the reviewed skip
# list of .checkov.yaml.
#
#   bash scripts/infra/checkov.sh            # creates .venv-checkov on first use
#   CHECKOV_REPORT=out.json bash scripts/infra/checkov.sh   # also keep the JSON report
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${CHECKOV_VENV:-$root/.venv-checkov}"
version="${CHECKOV_VERSION:-3.3.30}"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/checkov" ]; then
  echo "checkov.sh: creating $venv with checkov $version" >&2
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "checkov==$version"
fi

report="${CHECKOV_REPORT:-}"
cleanup=""
if [ -z "$report" ]; then
  report="$(mktemp)"
  cleanup="$report"
fi
trap 'rm -f "$report.stderr" $cleanup' EXIT

cd "$root"
# checkov exits 1 when a check fails; the verdict below reads the report instead.
"$venv/bin/checkov" --config-file .checkov.yaml --framework bicep -d bicep \
  --skip-download -o json >"$report" 2>"$report.stderr" || true

"$venv/bin/python" - "$report" <<'PY'
import json
import sys

path = sys.argv[1]
try:
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
except (OSError, ValueError) as error:
    with open(path + ".stderr", encoding="utf-8") as handle:
        sys.stderr.write(handle.read()[-4000:])
    sys.exit(f"checkov.sh: no JSON report ({error})")
reports = data if isinstance(data, list) else [data]
problems = []
for report in reports:
    summary = report.get("summary", {})
    print(f"checkov {report.get('check_type', '?')}: {summary}")
    if summary.get("parsing_errors"):
        errors = report.get("results", {}).get("parsing_errors", [])
        problems.append(f"files checkov could not parse: {errors}")
    if summary.get("resource_count", 0) == 0:
        problems.append("checkov found no resources under bicep/")
    for check in report.get("results", {}).get("failed_checks", []):
        problems.append(
            f"{check['check_id']} {check['check_name']} -- {check['file_path']} {check['resource']}"
        )
for problem in problems:
    print("FAILED:", problem)
sys.exit(1 if problems else 0)
PY
