#!/usr/bin/env bash
# Builds the libFuzzer target for ingest decoding (JSON body → validated Segment messages) and runs
# it for N seconds (default 60): scripts/fuzz-ingest.sh [SECONDS] [extra libFuzzer flags...]
#
# Like scripts/fuzz-http.sh, the target is compiled straight from source files with
# `swiftc -sanitize=fuzzer,address` into .build-fuzz-ingest/; it is not a SwiftPM target, so
# `swift build` / `swift test` never need fuzzer flags. The decoder spans several SwiftPM targets,
# so each is compiled as its own module (same module names, `-package-name leadrouter`, so the
# sources compile unchanged, `package` declarations included) from the minimum set of files:
#
#   Essentials    CivilDate.swift, Hex.swift
#   Postgres      UUID+Text.swift + scripts/fuzz/PostgresJSONStub.swift (the real PostgresJSON
#                 conforms to libpq binding protocols and would pull in CLibPQ; see the stub)
#   Segmentation  Value.swift (Value, Timestamp), TimestampCanonicalParser.swift
#   JSONCoding    JSONReader.swift, JSONWriter.swift
#   Ingest        SegmentMessage.swift, SegmentMessageDecoder.swift, SegmentMessageFields.swift,
#                 SegmentBatchDecoding.swift
#   target        scripts/fuzz/IngestDecoderFuzz.swift (invariants: see that file)
#
# The seed corpus (valid and hostile messages and batches) and a dictionary are generated here,
# not committed; the working corpus grows in .build-fuzz-ingest/corpus (ignored by git) and is
# reused by later runs. A crash leaves its input as .build-fuzz-ingest/crash-* (replay:
# .build-fuzz-ingest/ingest-decoder-fuzz FILE).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
out=.build-fuzz-ingest
mods="$out/modules"
mkdir -p "$out/seeds" "$out/corpus" "$mods"

flags=(-O -g -parse-as-library -sanitize=fuzzer,address -package-name leadrouter -I "$mods")
module() {  # module NAME FILES...: one instrumented object + .swiftmodule per SwiftPM target
    local name=$1; shift
    swiftc "${flags[@]}" -module-name "$name" -wmo -c "$@" -o "$out/$name.o" \
        -emit-module -emit-module-path "$mods/$name.swiftmodule" 2> >(grep -v "Cannot export local symbol" >&2)
}
echo "fuzz-ingest: compiling modules"
module Essentials Sources/Essentials/CivilDate.swift Sources/Essentials/Hex.swift
module Postgres Sources/Postgres/UUID+Text.swift scripts/fuzz/PostgresJSONStub.swift
module Segmentation Sources/Segmentation/Value.swift Sources/Segmentation/TimestampCanonicalParser.swift
module JSONCoding Sources/JSONCoding/JSONReader.swift Sources/JSONCoding/JSONWriter.swift
module Ingest Sources/Ingest/SegmentMessage.swift Sources/Ingest/SegmentMessageDecoder.swift \
    Sources/Ingest/SegmentMessageFields.swift Sources/Ingest/SegmentBatchDecoding.swift
swiftc "${flags[@]}" -module-name IngestDecoderFuzz scripts/fuzz/IngestDecoderFuzz.swift \
    "$out"/{Essentials,Postgres,Segmentation,JSONCoding,Ingest}.o -o "$out/ingest-decoder-fuzz" \
    2> >(grep -v "Cannot export local symbol" >&2)

# Seeds: one control byte (bits 0-2: endpoint — track, identify, page, screen, group, alias, batch,
# batch again; bit 3: tiny limits), then the body.
seed() { printf '%b' "$2" > "$out/seeds/$1"; }
ts='"timestamp":"2026-11-19T10:00:00.000Z","sentAt":"2026-11-19T10:00:01Z"'
seed track     '\x00{"userId":"u-1","event":"Product Viewed","messageId":"m-1","properties":{"price":120,"tags":["a",1,true,null]},'"$ts"'}'
seed identify  '\x01{"userId":"u-1","traits":{"email":" Lena@Example.com ","address":{"country":"Germany"}},"context":{"traits":{"x":1}}}'
seed page      '\x02{"anonymousId":"a-77","name":"Shipping","category":"docs","properties":{"path":"/shipping"},"originalTimestamp":"2026-11-19T09:59:59+01:00"}'
seed screen    '\x03{"anonymousId":42,"name":"Home","type":"screen"}'
seed group     '\x04{"userId":"u-1","groupId":"acct-9","traits":{"website":"https://example.com","employees":250}}'
seed alias     '\x05{"userId":"u-1","previousId":"a-77","messageId":"m-2"}'
seed batch     '\x06{"batch":[{"type":"track","userId":"u-1","event":"E","messageId":"b-0"},{"type":"identify","anonymousId":"a"},{"type":"alias","previousId":"p"},7],"context":{"library":{"name":"analytics-python"}},"sentAt":"2026-11-19T10:00:00Z","writeKey":"k"}'
seed hostile   '\x00{"userId":"u\\u0000","event":"\\uD800x","properties":{"n":1e999,"m":-0,"k\\uDFFF":[]},"timestamp":"0000-01-01T00:00:00.000Z"}'
seed hostile-b '\x07{"batch":[{"type":"track","userId":"\\ud83d\\ude00","event":"x","timestamp":"9999-12-31T23:59:59.999Z","sentAt":"0001-01-01T00:00:00Z"},{"type":"page","userId":"u","userId":"dup","name":"n","properties":{"a":{"b":{"c":[[[]]]}}}}]}'
seed tiny      '\x08{"userId":"a-very-long-user-id-over-the-tiny-limit","event":"e","messageId":"m"}'
seed raw-utf8  '\x00{"userId":"\xc3\xa9\xf0\x9f\x98\x80","event":"\xed\xa0\x80","properties":{"\xff":"\xc0\xaf"}}'

cat > "$out/ingest.dict" <<'DICT'
"{"
"}"
"["
"]"
"\x22:"
","
"null"
"true"
"false"
"-0"
"1e999"
"-1e308"
"1.7976931348623157e308"
"5e-324"
"12345678901234567890"
"\\u0000"
"\\uD800"
"\\uDC00"
"\\uD83D\\uDE00"
"\\u00e9"
"\\\\"
"\\/"
"\xed\xa0\x80"
"\xc0\xaf"
"\x22type\x22:"
"\x22track\x22"
"\x22identify\x22"
"\x22page\x22"
"\x22screen\x22"
"\x22group\x22"
"\x22alias\x22"
"\x22batch\x22:"
"\x22userId\x22:"
"\x22anonymousId\x22:"
"\x22messageId\x22:"
"\x22previousId\x22:"
"\x22groupId\x22:"
"\x22event\x22:"
"\x22name\x22:"
"\x22category\x22:"
"\x22properties\x22:"
"\x22traits\x22:"
"\x22context\x22:"
"\x22writeKey\x22:"
"\x22timestamp\x22:"
"\x22originalTimestamp\x22:"
"\x22sentAt\x22:"
"\x222026-11-19T10:00:00.000Z\x22"
"\x222026-11-19T10:00:00Z\x22"
"\x222026-11-19T10:00:00+14:00\x22"
"\x220000-01-01T00:00:00.000Z\x22"
"\x229999-12-31T23:59:59.999Z\x22"
"\x222026-02-30T25:61:61.999Z\x22"
"T00:00:00"
".000Z"
"+23:59"
DICT

echo "fuzz-ingest: running for ${seconds}s"
exec "$out/ingest-decoder-fuzz" "$out/corpus" "$out/seeds" -dict="$out/ingest.dict" \
    -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -artifact_prefix="$out/" "$@"
