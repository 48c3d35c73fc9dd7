# Developer tasks. Every recipe forwards to `cargo xtask` (see `cargo xtask help`);
# extra arguments are passed through, e.g. `just test --slow` or
# `just fix -p login-storage`.

# List the recipes.
default:
    @just --list

fmt *args:
    cargo xtask fmt {{args}}

check *args:
    cargo xtask check {{args}}

fix *args:
    cargo xtask fix {{args}}

clippy *args:
    cargo xtask clippy {{args}}

test *args:
    cargo xtask test {{args}}

ci *args:
    cargo xtask ci {{args}}

bench *args:
    cargo xtask bench {{args}}

mutants *args:
    cargo xtask mutants {{args}}
