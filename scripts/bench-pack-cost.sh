#!/usr/bin/env bash
# Instructions per PackedJSON pack and unpack (issue 23): callgrind over a C harness of the zlib
# calls SmallDeflate made until 2026-12-08 and still makes to unpack (scripts/bench/packed-json-cost.c),
# and since then over SmallDeflate's packer itself, `FixedHuffmanDeflate` built with `swiftc -O`
# beside a driver (scripts/bench/FixedDeflateCost.swift) — "fixed pack" lines. With the dictionaries of
# Sources/LeadStore/PackedJSONDictionary{2,3}.swift and a document like the write path's: a
# pricing lead's action state (dictionary 2, window 2^10) and a product view's stored message
# (dictionary 3, window 2^11) whose ids, price and category are not the dictionary's.
# Deterministic (instruction counts), so the machine's load does not matter.
# Also a lead's signal state (`PackedSignals`, migration 0103): scripts/bench/signal-state.bin, the
# engine's encoding of a pricing lead's state after a product view (419 B), packed as before 0103
# (no dictionary, window 2^9) and with its ruleset's dictionary (scripts/bench/signal-dictionary.bin,
# `Ruleset.emptySignalEncoding` of config/segments.yaml, window 2^10); both read from a database
# the debug build had written (storage diary, 2026-12-07 21:00). Sizes count one header byte;
# a state packed with a dictionary has 4 more (its id).
#
#   scripts/bench-pack-cost.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh
ensure_packages valgrind gcc zlib1g-dev
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-pack-cost.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
gcc -O2 scripts/bench/packed-json-cost.c -o "$WORK/cost" -lz
cp scripts/bench/FixedDeflateCost.swift "$WORK/main.swift"  # top-level code must be main.swift
swiftc -O Sources/LeadStore/FixedHuffmanDeflate.swift "$WORK/main.swift" -o "$WORK/fixed"
dictionary() { python3 -c 'import re, sys; sys.stdout.write(re.search(r"#\"\"\"\n(.*)\n\"\"\"#", open(sys.argv[1]).read(), re.S).group(1))' "$1"; }
dictionary Sources/LeadStore/PackedJSONDictionary2.swift >"$WORK/d2"
dictionary Sources/LeadStore/PackedJSONDictionary3.swift >"$WORK/d3"
printf '%s' '{"interest":{"at":"2026-12-07T14:22:42.864Z","categories":{},"products":{}},"score_parts":{"r7b60af302e02b884":39.99999974786313},"sent":{"email":{"carried":[2930589762344498],"times":[1796653362864]},"sales":{"carried":[5020850807567455],"times":[1796653362864]}}}' >"$WORK/state"
cp scripts/bench/signal-dictionary.bin "$WORK/dsignals"
cp scripts/bench/signal-state.bin "$WORK/signals"
: >"$WORK/none"
printf '%s' '{"context":{},"event":"Product Viewed","messageId":"e-0-31-99182731","name":"Product Viewed","properties":{"category":"tents","price":129,"product_id":"t-9"},"type":"track","userId":"b4410"}' >"$WORK/message"
instructions() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$WORK/cost" "$@" 2>&1 | awk '/Collected/ {print $NF}'; }
for what in "action state:d2:state:10" "message:d3:message:11" "signal state without a dictionary:none:signals:9" \
            "signal state with its ruleset's dictionary:dsignals:signals:10"; do
    IFS=: read -r label dict doc bits <<<"$what"
    sizes=$("$WORK/cost" pack "$WORK/$dict" "$WORK/$doc" "$bits" 1)
    for op in pack unpack; do
        one=$(instructions "$op" "$WORK/$dict" "$WORK/$doc" "$bits" 1)
        many=$(instructions "$op" "$WORK/$dict" "$WORK/$doc" "$bits" 101)
        echo "$label ($sizes): $(( (many - one) / 100 )) instructions per $op"
    done
    fixed_sizes=$("$WORK/fixed" "$WORK/$dict" "$WORK/$doc" "$bits" 1)
    one=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$WORK/fixed" "$WORK/$dict" "$WORK/$doc" "$bits" 1 2>&1 | awk '/Collected/ {print $NF}')
    many=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$WORK/fixed" "$WORK/$dict" "$WORK/$doc" "$bits" 101 2>&1 | awk '/Collected/ {print $NF}')
    echo "$label ($fixed_sizes): $(( (many - one) / 100 )) instructions per fixed pack"
done
