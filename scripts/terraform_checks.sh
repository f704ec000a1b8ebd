#!/usr/bin/env bash
# Offline checks for the Terraform modules under terraform/:
#   1. terraform fmt -check (needs the terraform CLI, no providers)
#   2. checkov with the built-in checks plus the custom ones in terraform/policies
# With --install-only it installs checkov and stops (make install runs it that way).
# checkov lives in its own venv (.venv-checkov): its pinned dependencies would
# conflict with the project's. Idempotent: the venv is created and checkov is
# installed only when missing or at another version.
# `terraform validate` / `plan` need provider downloads and are NOT run here;
# see terraform/README.md.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

CHECKOV_VERSION="3.3.30"
VENV=".venv-checkov"
TF_DIR="terraform"

log() { printf '== %s\n' "$*"; }

checkov_installed() {
  [ -x "$VENV/bin/checkov" ] &&
    "$VENV/bin/python" - "$CHECKOV_VERSION" <<'PY' 2>/dev/null
import importlib.metadata, sys
sys.exit(0 if importlib.metadata.version("checkov") == sys.argv[1] else 1)
PY
}

if ! command -v terraform >/dev/null 2>&1; then
  echo "terraform CLI not found on PATH (needed for 'terraform fmt -check')" >&2
  exit 1
fi

if ! checkov_installed; then
  log "installing checkov==$CHECKOV_VERSION into $VENV"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  pip_log="$(mktemp)"
  if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION" >"$pip_log" 2>&1; then
    cat "$pip_log" >&2
    rm -f "$pip_log"
    echo "pip install checkov==$CHECKOV_VERSION failed" >&2
    exit 1
  fi
  rm -f "$pip_log"
fi

if [ "${1:-}" = "--install-only" ]; then
  exit 0  # make install: fetch checkov beside the other installs
fi

log "terraform fmt -check -recursive $TF_DIR/"
terraform fmt -check -recursive -diff "$TF_DIR/"

log "checkov $CHECKOV_VERSION (custom policies: $TF_DIR/policies)"
# Stay offline: no platform API key, no guideline download, no update check.
unset BC_API_KEY PRISMA_API_URL || true
export CKV_SKIP_PACKAGE_UPDATE_CHECK=true
export LOG_LEVEL=WARNING

report_dir="$(mktemp -d)"
trap 'rm -rf "$report_dir"' EXIT

# checkov exits 1 on any failed check. Its JSON report is then summarised:
# every failed and skipped check is printed (skips with their reason), and the
# run also fails on parsing errors, on a scan that checked nothing, and when
# one of the custom checks did not run and pass.
status=0
timeout 600 "$VENV/bin/checkov" \
  --directory "$TF_DIR/" \
  --framework terraform \
  --external-checks-dir "$TF_DIR/policies" \
  --skip-download \
  --compact \
  --output json \
  --output-file-path "$report_dir" >/dev/null || status=$?

"$VENV/bin/python" - "$report_dir/results_json.json" <<'PY' || status=1
import json, sys

data = json.load(open(sys.argv[1]))
reports = data if isinstance(data, list) else [data]
passed = failed = skipped = parse_errors = 0
custom = set()
for report in reports:
    summary = report.get("summary", {})
    passed += summary.get("passed", 0)
    failed += summary.get("failed", 0)
    skipped += summary.get("skipped", 0)
    parse_errors += summary.get("parsing_errors", 0)
    results = report.get("results", {})
    for r in results.get("passed_checks", []):
        if "CLOUDSTORES" in r.get("check_id", ""):
            custom.add(r["check_id"])
    for r in results.get("failed_checks", []):
        print(f"FAILED  {r['check_id']} {r['resource']} ({r['file_path']}:{r['file_line_range'][0]}) {r['check_name']}")
    for r in results.get("skipped_checks", []):
        reason = (r.get("check_result") or {}).get("suppress_comment", "")
        print(f"SKIPPED {r['check_id']} {r['resource']}: {reason}")
    for path in results.get("parsing_errors", []):
        print(f"PARSING ERROR {path}")

print(f"checkov: {passed} passed, {failed} failed, {skipped} skipped, "
      f"{parse_errors} parsing errors; cloudstores custom checks passing: {len(custom)}")
expected = {f"CKV_CLOUDSTORES_{i}" for i in range(1, 7)} | {f"CKV2_CLOUDSTORES_{i}" for i in range(1, 4)}
problems = []
if parse_errors:
    problems.append("parsing errors")
if passed == 0:
    problems.append("no check passed (nothing scanned?)")
if failed:
    problems.append(f"{failed} failed checks")
missing = sorted(expected - custom)
if missing:
    problems.append("custom checks not loaded or not passing: " + ", ".join(missing))
if problems:
    print("checkov problems: " + "; ".join(problems), file=sys.stderr)
    sys.exit(1)
PY

if [ "$status" -ne 0 ]; then
  echo "terraform checks FAILED" >&2
  exit "$status"
fi
log "terraform checks passed"
