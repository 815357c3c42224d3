# Shared set-up for .ci/serve and .ci/test: idempotent, safe to run on a fresh machine.
# shellcheck shell=bash
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

ensure_venv() {
  local stamp want
  want="$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)"
  stamp="$VENV/.installed-$want"
  if [ -x "$PY" ] && [ -f "$stamp" ]; then return; fi
  say "Cài môi trường Python / installing the Python environment (.venv)"
  [ -x "$PY" ] || python3 -m venv "$VENV"
  "$PY" -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
  "$PY" -m pip install --quiet -e "$ROOT[dev]" 2>&1 | grep -v '^WARNING: Location' || true
  "$PY" -c 'import border_gate, litestar, weasyprint' # fails loudly if the install did not work
  rm -f "$VENV"/.installed-*
  touch "$stamp"
}

APT_UPDATED=0
apt_install() {
  # apt_install PACKAGE... : install what is missing; never fatal (the caller decides)
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || return 1
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
  say "Cài gói Debian / installing Debian packages: ${missing[*]}"
  if [ "$APT_UPDATED" -eq 0 ]; then
    $sudo apt-get update -qq >/dev/null 2>&1 || true
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1
}

ensure_document_tools() {
  # WeasyPrint needs Pango; the document tests read PDFs with poppler and QR codes with zbar.
  # fonts-droid-fallback carries the Han characters of Chinese plates and consignees.
  apt_install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils zbar-tools \
    fonts-droid-fallback \
    || say "Không cài được công cụ PDF / could not install poppler-utils, zbar-tools"
}

ensure_browser() {
  apt_install chromium || say "Không cài được Chromium / could not install chromium: browser tests will skip"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ensure_postgres() {
  if port_open 5432; then return; fi
  say "Khởi động PostgreSQL / starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 1 60); do port_open 5432 && return; sleep 1; done
  echo "PostgreSQL did not come up on 127.0.0.1:5432" >&2; exit 1
}

ensure_rabbitmq() {
  if port_open 5672; then return; fi
  say "Khởi động RabbitMQ / starting RabbitMQ"
  rabbitmq-server -detached >/dev/null 2>&1 || true
  for _ in $(seq 1 90); do port_open 5672 && return; sleep 1; done
  echo "RabbitMQ did not come up on 127.0.0.1:5672" >&2; exit 1
}
