# Shared by scripts/serve and scripts/test (sourced, not run): the environment both use,
# `log`, the apt helpers and `install_build_tools` (build tools and a Rust toolchain new
# enough for Cargo.toml's rust-version). Sets ROOT to the clone; does not change directory.
#
# Both scripts build into the same ${CARGO_TARGET_DIR:-$HOME/.cache/dbguru-target} with the
# release profile, so the bundled DuckDB (~40 min) is compiled once per machine.

export PATH="${PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}"
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin" ;; esac
if [ -z "${HOME:-}" ]; then
    HOME="$(getent passwd "$(id -u)" | cut -d: -f6 || true)"
    HOME="${HOME:-/root}"
fi
export HOME
export DEBIAN_FRONTEND=noninteractive
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dbguru-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

log() { printf '==> %s\n' "$*" >&2; }

SUDO=()
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=(sudo -n); fi
fi

# ---------------------------------------------------------------- apt helpers
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

APT_UPDATED=0
apt_install() { # apt_install PKG... — installs those not installed yet; apt-get update once
    local missing=() p
    for p in "$@"; do pkg_installed "$p" || missing+=("$p"); done
    [ "${#missing[@]}" -eq 0 ] && return 0
    if [ "$(id -u)" != 0 ] && [ "${#SUDO[@]}" -eq 0 ]; then
        log "need root (or passwordless sudo) to install: ${missing[*]}"
        return 1
    fi
    if [ "$APT_UPDATED" = 0 ]; then
        log "apt-get update"
        "${SUDO[@]}" apt-get update -qq </dev/null || return 1
        APT_UPDATED=1
    fi
    log "apt-get install ${missing[*]}"
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
}

# ---------------------------------------------------------------- what the build needs
install_build_tools() {
    apt_install build-essential pkg-config cmake zlib1g-dev curl ca-certificates git
    if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
        export PATH="$HOME/.cargo/bin:$PATH"
    fi
    if ! command -v cargo >/dev/null 2>&1; then
        log "installing the Rust toolchain with rustup (stable, minimal profile)"
        curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs \
            | sh -s -- -y --profile minimal --default-toolchain stable </dev/null
        export PATH="$HOME/.cargo/bin:$PATH"
    fi
    local need minor
    need="$(sed -n 's/^rust-version *= *"1\.\([0-9]*\).*/\1/p' "$ROOT/Cargo.toml" | head -n1)"
    minor="$(rustc --version | sed -n 's/^rustc 1\.\([0-9]*\).*/\1/p')"
    if [ -n "$need" ] && [ -n "$minor" ] && [ "$minor" -lt "$need" ]; then
        if command -v rustup >/dev/null 2>&1; then
            log "rustc 1.$minor is older than rust-version 1.$need: using rustup stable"
            rustup toolchain install stable --profile minimal </dev/null
            export RUSTUP_TOOLCHAIN=stable
        else
            log "rustc 1.$minor is older than the required 1.$need and rustup is missing"
            return 1
        fi
    fi
}
