#!/usr/bin/env bash
# Fuzzes every parser that takes untrusted input (fuzz/fuzz_targets/*.rs)
# with cargo-fuzz (libFuzzer, AddressSanitizer) on a pinned nightly.
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
# Installs the toolchain and cargo-fuzz under .tools/ on first use. Each
# run starts from fuzz/seeds/<target> plus the corpus it grew before
# (fuzz/corpus, ignored); a crash fails the run and its input is left in
# fuzz/artifacts/<target>/: add it as a regression test where the parser
# lives, then fix it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-10}"
shift || true
toolchain="nightly-2026-10-30"
tools="$root/.tools"
rustup toolchain list | grep -q "^$toolchain" || rustup toolchain install "$toolchain" --profile minimal >&2
if [ ! -x "$tools/cargo/bin/cargo-fuzz" ]; then
  echo "installing cargo-fuzz 0.13.2 into $tools/cargo" >&2
  cargo install --quiet --locked --root "$tools/cargo" cargo-fuzz --version 0.13.2 >&2
fi
export PATH="$tools/cargo/bin:$PATH"
cd "$root/fuzz"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo "+$toolchain" fuzz list)
fi
cargo "+$toolchain" fuzz build -O >&2
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  echo "==> fuzz $t for ${seconds}s" >&2
  cargo "+$toolchain" fuzz run -O "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 2>&1 |
    grep -E "^(Done|stat::number_of_executed_units|stat::new_units_added)|ERROR|panicked|SUMMARY|Test unit written" >&2
  echo "    corpus: $(find "corpus/$t" -type f | wc -l) inputs" >&2
done
