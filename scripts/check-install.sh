#!/usr/bin/env bash
# Installs the package the ways users do and runs it from outside the checkout (CI runs this).
#
#  1. Builds a wheel and an sdist (python -m build).
#  2. For each: a fresh venv, a normal (not editable) install, then from an empty folder outside
#     the checkout: policy --version, policy check, policy build, policy decide on the built
#     bundle, policy report on a decision log the runtime wrote, and every other command.
#  3. The runtime alone: a venv with only the runtime's own dependencies (cryptography, PyJWT,
#     jsonschema-rs, orjson) and the wheel installed with --no-deps; `from generator.runtime
#     import Bundle` decides, and the authoring tool's libraries are absent there.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
RUNTIME_DEPS=(cryptography PyJWT jsonschema-rs orjson)

python3 -m build --no-isolation --wheel --sdist --outdir "$WORK/dist" "$REPO" >"$WORK/build.log" 2>&1 \
  || { cat "$WORK/build.log"; exit 1; }
WHEEL=$(ls "$WORK"/dist/*.whl)
SDIST=$(ls "$WORK"/dist/*.tar.gz)

# The example policy, copied without the package (as a user's policy repository would be), in a
# git repository of its own with two commits (so that history, diff and changelog have work).
mkdir -p "$WORK/policy-repo"
cp -r "$REPO/policy" "$REPO/exceptions" "$REPO/translations" "$REPO/pyproject.toml" "$WORK/policy-repo/"
(
  cd "$WORK/policy-repo"
  export GIT_AUTHOR_NAME=ci GIT_AUTHOR_EMAIL=ci@example.com GIT_COMMITTER_NAME=ci GIT_COMMITTER_EMAIL=ci@example.com
  git init -q && git add -A && git commit -qm "Usage policy"
  sed -i 's/combating human trafficking/combating trafficking in persons/' exceptions/government-foreign-intelligence.yaml
  git commit -qam "Reword a purpose"
)

check_full() {
  local name=$1 artifact=$2 venv="$WORK/venv-$1" run="$WORK/run-$1"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "$artifact" 2>&1 | grep -v '^WARNING' || true
  mkdir -p "$run" && cd "$run"
  "$venv/bin/policy" --version
  "$venv/bin/policy" check --root "$WORK/policy-repo"
  "$venv/bin/policy" build --root "$WORK/policy-repo" --out "$run/site"
  test -f "$run/site/index.html" && test -f "$run/site/bundle/bundle.tar.gz"
  # readers everywhere: the translations, the search index (Pagefind's binary), the PDFs (WeasyPrint)
  grep -q 'lang="de"' "$run/site/de/usage-policy/index.html" && grep -q 'dir="rtl"' "$run/site/ar/index.html"
  test -f "$run/site/pagefind/pagefind.js" && test -f "$run/site/assets/search.js"
  head -c 5 "$run/site/usage-policy.pdf" | grep -q '%PDF-' && head -c 5 "$run/site/exceptions.pdf" | grep -q '%PDF-'
  # the second commit rewords a purpose: the German exception is stale there, and says so
  "$venv/bin/policy" translations --root "$WORK/policy-repo" | grep -q "German (Deutsch, ltr): 68 of 69 clauses translated, 1 stale"
  echo '{"use": "weapons.design", "at": "2025-01-01"}' | "$venv/bin/policy" decide --bundle "$run/site/bundle" \
    | grep -q '"no-exception"'
  "$venv/bin/python" - "$run/site/bundle" "$run/decisions.jsonl" <<'PY'
import sys
from generator.runtime import Bundle, DecisionLog, JsonLinesSink
bundle = Bundle.load(sys.argv[1])
log = DecisionLog(JsonLinesSink(sys.argv[2]))
for use in ("weapons.design", "high-risk.legal", "no.such-rule"):
    log.record({"use": use, "at": "2025-01-01"}, bundle.decide({"use": use, "at": "2025-01-01"}))
assert log.flush(), log.status()
log.close()
PY
  "$venv/bin/policy" report "$run/decisions.jsonl" | grep -q "3 decisions"
  # the rest of the commands
  "$venv/bin/policy" history --root "$WORK/policy-repo" | grep -q "Reword a purpose"
  "$venv/bin/policy" diff HEAD~1 HEAD --root "$WORK/policy-repo" | grep -q "trafficking in persons"
  "$venv/bin/policy" diff HEAD~1 HEAD --root "$WORK/policy-repo" --format markdown | grep -q "^#### "
  "$venv/bin/policy" due --root "$WORK/policy-repo" --today 2026-01-01 | grep -q "Review of exception"
  test -f "$run/site/calendar.ics" && grep -q "BEGIN:VEVENT" "$run/site/calendar.ics"
  "$venv/bin/policy" fmt --check --root "$WORK/policy-repo"
  "$venv/bin/policy" impact "$run/decisions.jsonl" --root "$WORK/policy-repo" --base HEAD~1 --head HEAD \
    | grep -q "decisions would become allowed"
  cp -r "$WORK/policy-repo" "$run/repo-copy"
  "$venv/bin/policy" changelog --root "$run/repo-copy" && "$venv/bin/policy" changelog --check --root "$run/repo-copy"
  "$venv/bin/policy" keygen "$run/keys"
  "$venv/bin/policy" build --root "$WORK/policy-repo" --out "$run/signed" --sign-key "$run/keys/private.pem"
  echo '{"use": "high-risk.legal"}' | "$venv/bin/policy" decide --bundle "$run/signed/bundle" --key "$run/keys/public.pem" \
    | grep -q '"requirement"'
  "$venv/bin/policy" new exception ci-check --root "$run/repo-copy"
  if "$venv/bin/policy" check --root "$run/repo-copy" >/dev/null 2>&1; then
    echo "check-install: a scaffolded exception with its TODOs should not validate" >&2; exit 1
  fi
  "$venv/bin/policy" preview --root "$WORK/policy-repo" --port 0 >"$run/preview.log" 2>&1 &
  local preview=$!
  for _ in $(seq 1 100); do grep -q "http://" "$run/preview.log" && break; sleep 0.1; done
  url=$(grep -o "http://[0-9.:]*/" "$run/preview.log" | head -1)
  "$venv/bin/python" -c "import sys, urllib.request; assert b'Usage Policy' in urllib.request.urlopen(sys.argv[1]).read()" "$url"
  kill "$preview"; wait "$preview" 2>/dev/null || true
  cd "$REPO"
  echo "check-install: the $name installs and every command runs from outside the checkout"
}

check_full wheel "$WHEEL"
check_full sdist "$SDIST"

# The runtime alone, with only its own dependencies.
python3 -m venv "$WORK/venv-runtime"
"$WORK/venv-runtime/bin/pip" install -q "${RUNTIME_DEPS[@]}" 2>&1 | grep -v '^WARNING' || true
"$WORK/venv-runtime/bin/pip" install -q --no-deps "$WHEEL" 2>&1 | grep -v '^WARNING' || true
cd "$WORK"
"$WORK/venv-runtime/bin/python" - "$WORK/run-wheel/site/bundle/bundle.tar.gz" <<'PY'
import importlib.util, sys
from generator.runtime import Bundle, BundleClient, DecisionLog, JsonLinesSink
bundle = Bundle.load(sys.argv[1])
decision = bundle.decide({"use": "surveillance.intelligence-analysis", "at": "2025-01-01",
                          "model": "claude-3-haiku",
                          "customer": {"type": "government", "exceptions": ["government-foreign-intelligence"],
                                       "attestations": ["legal-authority", "vetted-agency"]}})
assert decision.allowed and decision.exception == "government-foreign-intelligence", decision
absent = [m for m in ("jinja2", "git", "yaml", "markdown_it", "click", "watchfiles") if importlib.util.find_spec(m)]
assert not absent, f"the runtime venv should not have {absent}"
print("check-install: the runtime decides with only cryptography, PyJWT, jsonschema-rs and orjson installed")
PY
