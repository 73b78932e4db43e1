# Shared by .ci/start, .ci/test and .ci/bench: install what is missing, quickly
# when nothing is. Sourced, not run.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

# Debian packages: PostgreSQL's server programs (the private database) and
# Chromium (the Playwright tests).
ensure_apt() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  say "installing ${missing[*]} (apt)"
  local sudo=()
  [[ $(id -u) == 0 ]] || sudo=(sudo)
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The wasm32 target, cargo-leptos, and a wasm-bindgen CLI of exactly the
# version in Cargo.lock (cargo-leptos would otherwise try to download one).
ensure_rust_tools() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  local want have
  want=0.3.10
  have=$(cargo leptos --version 2>/dev/null | awk '{print $2}' || true)
  if [[ $have != "$want" ]]; then
    # --debug: a build tool that mostly runs cargo needs no optimising, and
    # it installs in a third of the time.
    say "installing cargo-leptos $want (a few minutes, once)"
    cargo install --locked --debug --quiet cargo-leptos@"$want"
  fi
  want=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/[^0-9.]/, ""); print; exit}' Cargo.lock)
  have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
  if [[ $have != "$want" ]]; then
    say "installing wasm-bindgen-cli $want"
    cargo install --locked --quiet wasm-bindgen-cli@"$want"
  fi
}

# binaryen's wasm-opt, which cargo-leptos runs on the release bundle: the npm
# package pinned in .ci/tools (run by node). Not Debian's binaryen: its
# wasm-opt 108 rewrites the module into one that fails in the browser
# (WebAssembly.Table.grow) and never hydrates. cargo-leptos takes the first
# wasm-opt on PATH, so ours goes first.
ensure_wasm_opt() {
  if [[ ! -x .ci/tools/node_modules/.bin/wasm-opt || .ci/tools/package-lock.json -nt .ci/tools/node_modules/.package-lock.json ]]; then
    say "installing binaryen's wasm-opt (npm)"
    (cd .ci/tools && npm ci --no-audit --no-fund --loglevel=error)
  fi
  local have
  have=$(wasm-opt --version 2>/dev/null || true)
  if [[ $have != *"version_132"* ]]; then
    say "wasm-opt on PATH is not binaryen 132 ($have; $(command -v wasm-opt || echo none))"
    return 1
  fi
}

# moto, an S3-compatible server (a Python package), in a virtualenv of its
# own: the attachments store's S3 path is tested against it.
ensure_moto() {
  local venv=.ci/tools/moto req=.ci/tools/moto-requirements.txt
  if [[ ! -x $venv/bin/moto_server || $req -nt $venv/installed ]]; then
    python3 -m venv --help >/dev/null 2>&1 || ensure_apt python3-venv
    python3 -c 'import ensurepip' 2>/dev/null || ensure_apt python3-venv
    say "installing moto's S3 server (pip)"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
    touch "$venv/installed"
  fi
  export NATTER_TEST_MOTO=$ROOT/$venv/bin/moto_server
}

ensure_node_modules() {
  if [[ ! -d end2end/node_modules/@playwright/test || end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]]; then
    say "installing the Playwright test runner (npm)"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  fi
}

export PATH="$ROOT/.ci/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
