// Stand-in for the `Postgres` module in the ingest fuzz target (scripts/fuzz-ingest.sh).
//
// `JSONWriter` (module JSONCoding, used by the decoder to measure a batch message's compact
// size) imports `Postgres` for two things only: `PostgresJSON` (its `json` property and
// `append(json:)`) and `UUID.appendLowercasedText` (Sources/Postgres/UUID+Text.swift, compiled
// as is). The real `PostgresJSON.swift` conforms the type to the libpq binding protocols, which
// would drag in the whole Postgres target and its C module (CLibPQ); this stub is the plain
// byte-holding struct without those conformances. Keep it in step with
// Sources/Postgres/PostgresJSON.swift (the `bytes` / `init(rawBytes:)` surface).
public struct PostgresJSON: Sendable, Equatable {
    public var bytes: [UInt8]
    public init(rawBytes: [UInt8]) { self.bytes = rawBytes }
}
