#!/usr/bin/env bash
# libcace_c exports exactly the functions cace.h declares, nothing else (no Abseil, fmt or C++
# symbol), and misuse_test.c calls every one of them.
#   check_exports.sh LIBRARY HEADER MISUSE_TEST_SOURCE
set -euo pipefail
library=$1 header=$2 misuse=$3
exported=$(nm -D --defined-only "$library" | awk '$2 ~ /^[TtWwDdBbRrVv]$/ {print $3}' | sed 's/@.*//' | sort -u)
declared=$(grep -o 'CACE_EXPORT [^(]*(' "$header" | grep -o 'cace_[a-z0-9_]*($' | tr -d '(' | sort -u)
status=0
others=$(comm -23 <(echo "$exported") <(echo "$declared"))
if [[ -n $others ]]; then
  echo "exported but not declared in cace.h ($(echo "$others" | wc -l)):"; echo "$others" | head -20; status=1
fi
missing=$(comm -13 <(echo "$exported") <(echo "$declared"))
if [[ -n $missing ]]; then
  echo "declared in cace.h but not exported:"; echo "$missing"; status=1
fi
untested=$(for f in $declared; do grep -q "\b$f(" "$misuse" || echo "$f"; done)
if [[ -n $untested ]]; then
  echo "not called by $(basename "$misuse"):"; echo "$untested"; status=1
fi
[[ $status -ne 0 ]] || echo "ok: $(echo "$declared" | wc -l) functions, all exported, nothing else, all called by the misuse test"
exit $status
