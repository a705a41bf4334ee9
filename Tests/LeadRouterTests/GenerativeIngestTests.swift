import Foundation
import XCTest
@testable import Essentials
@testable import Ingest
@testable import LeadRouterService
import Postgres
import Segmentation

/// Generative ingest: messages drawn from a grammar of valid and hostile shapes, sent over real
/// sockets to every ingest route (plain and gzip) of a service on a real PostgreSQL, for a time
/// budget. Invariants: never a 5xx and the server still answers at the end; every message answered
/// 2xx (for /v1/batch: every one not listed under `rejected`) is in `events`; every lead is still
/// readable through the API; the sweeper still sweeps.
///
/// Seeded and repeatable: the seed is printed at the start and in every failure; replay with
/// `LEADROUTER_GEN_SEED=<seed>`. Budget: `LEADROUTER_GEN_SECONDS` (default 12 s, what `swift test`
/// runs); `scripts/generative-ingest.sh [SECONDS]` runs a long one. `LEADROUTER_GEN_WORKERS`
/// (default 2) connections send at once; each draws from its own generator seeded from the seed,
/// so the messages are identical on replay (their interleaving may differ).
final class GenerativeIngestTests: XCTestCase {
    func testGeneratedHostileTrafficKeepsTheInvariants() throws {
        let env = ProcessInfo.processInfo.environment
        let seed = env["LEADROUTER_GEN_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1...UInt64(UInt32.max))
        let seconds = env["LEADROUTER_GEN_SECONDS"].flatMap { Double($0) } ?? 12
        let workers = max(1, env["LEADROUTER_GEN_WORKERS"].flatMap { Int($0) } ?? 2)
        print("GenerativeIngestTests: seed \(seed) (replay: LEADROUTER_GEN_SEED=\(seed)), \(seconds) s, \(workers) workers")
        let tag = "[seed \(seed), replay with LEADROUTER_GEN_SEED=\(seed)]"

        let service = try TestService(test: self, start: Date())
        let deadline = Date().addingTimeInterval(seconds)
        let results = Locked<[WorkerResult]>([])
        let threads = (0..<workers).map { index in
            Thread { [service] in
                var worker = TrafficWorker(service: service, seed: seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15, index: index)
                worker.run(until: deadline)
                results.withLock { $0.append(worker.result) }
            }
        }
        threads.forEach { $0.start() }
        while results.withLock({ $0.count }) < workers { usleep(20_000) }
        let all = results.withLock { $0 }

        let requests = all.map(\.requests).reduce(0, +)
        let statuses = all.reduce(into: [Int: Int]()) { acc, r in acc.merge(r.statuses, uniquingKeysWith: +) }
        print("GenerativeIngestTests: \(requests) requests, statuses \(statuses.sorted { $0.key < $1.key }), "
              + "\(all.map(\.accepted.count).reduce(0, +)) accepted message ids; slowest \(all.map(\.slowest).max { $0.0 < $1.0} ?? (0, ""))")
        for failure in all.flatMap(\.failures).prefix(20) { XCTFail("\(failure) \(tag)") }
        XCTAssertGreaterThan(requests, 0, tag)

        // The server is alive and still ingests.
        let client = try service.client()
        var r = try client.request("GET", "/healthz")
        XCTAssertEqual(r.status, 200, "healthz after the run \(tag)")
        r = try client.json("POST", "/v1/events", key: service.ingestKey,
                            ["userId": "gen-alive-\(seed)", "event": "Pricing Requested", "messageId": "gen-alive-\(seed)"])
        XCTAssertEqual(r.status, 200, "ingest after the run: \(r.text) \(tag)")
        let aliveLead = try XCTUnwrap(r.json["lead_id"] as? String, tag)

        // Every message answered 2xx is in `events`.
        let conn = try service.connection()
        let stored = Set(try conn.query(PostgresQuery(unsafeRaw: "SELECT DISTINCT message_id FROM events WHERE message_id IS NOT NULL"))
            .map { try $0.decode(String.self, at: 0) })
        let accepted = Set(all.flatMap(\.accepted))
        let missing = accepted.subtracting(stored)
        let sentAs = all.reduce(into: [String: String]()) { acc, r in acc.merge(r.sentAs) { a, _ in a } }
        XCTAssertTrue(missing.isEmpty, "\(missing.count) accepted messages not in events \(tag)")
        for id in missing.sorted().prefix(5) { XCTFail("accepted but not in events: \(id.debugDescription), sent as \(sentAs[id] ?? "?") \(tag)") }

        // Every lead (merged ones answer with their survivor) is readable.
        let leads = try conn.query(PostgresQuery(unsafeRaw: "SELECT id::text FROM leads ORDER BY id")).map { try $0.decode(String.self, at: 0) }
        var reads = 0
        for (i, lead) in leads.enumerated() where leads.count <= 400 || i % (leads.count / 400 + 1) == 0 {
            reads += 1
            let read = try client.json("GET", "/v1/leads/\(lead)", key: service.readKey)
            XCTAssertEqual(read.status, 200, "GET /v1/leads/\(lead): \(read.text) \(tag)")
            if i % 4 == 0 {
                let segments = try client.json("GET", "/v1/leads/\(lead)/segments", key: service.readKey)
                XCTAssertEqual(segments.status, 200, "GET /v1/leads/\(lead)/segments: \(segments.text) \(tag)")
            }
        }
        print("GenerativeIngestTests: \(leads.count) leads, \(reads) read back, \(stored.count) message ids stored")

        // The sweeper still sweeps: a lead made due is re-evaluated, and sweeping everything
        // due a month from now does not throw.
        _ = try conn.query(PostgresQuery(unsafeRaw: """
            UPDATE leads SET next_evaluation_at = now() - interval '1 hour' WHERE id = '\(aliveLead)'
            """))
        XCTAssertGreaterThanOrEqual(try service.app.sweeper.sweepDue(), 1, tag)
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads WHERE id = '\(aliveLead)' AND next_evaluation_at <= now()"), 0,
                       "the due lead was swept \(tag)")
        service.clock.advance(31 * 86_400)
        XCTAssertNoThrow(try service.app.sweeper.sweepDue(), tag)
        XCTAssertNoThrow(try service.app.sweeper.ensureEventPartitions(), tag)
        r = try client.request("GET", "/healthz")
        XCTAssertEqual(r.status, 200, "healthz after sweeping \(tag)")
    }
}

// MARK: - The traffic

struct WorkerResult: Sendable {
    var requests = 0
    var statuses: [Int: Int] = [:]
    /// Message ids answered 2xx (batch: not rejected).
    var accepted: [String] = []
    /// How each accepted id was sent (the first time), for failure messages.
    var sentAs: [String: String] = [:]
    var failures: [String] = []
    /// The slowest request: seconds and what it was.
    var slowest: (Double, String) = (0, "")
}

/// One connection sending generated requests until the deadline.
struct TrafficWorker {
    let service: TestService
    var gen: MessageGenerator
    var result = WorkerResult()
    var client: TestHTTPClient?

    init(service: TestService, seed: UInt64, index: Int) {
        self.service = service
        gen = MessageGenerator(seed: seed, prefix: "g\(seed % 100_000)-\(index)")
    }

    static let routes: [(path: String, kind: String?)] = [
        ("/v1/track", "track"), ("/v1/identify", "identify"), ("/v1/page", "page"), ("/v1/screen", "screen"),
        ("/v1/group", "group"), ("/v1/alias", "alias"), ("/v1/events", "track"), ("/v1/batch", nil), ("/v1/batch", nil),
    ]

    mutating func run(until deadline: Date) {
        while Date() < deadline, result.failures.count < 20 {
            let route = Self.routes[gen.int(Self.routes.count)]
            var request: GeneratedRequest
            if let kind = route.kind {
                request = gen.single(kind: kind)
            } else {
                request = gen.batch()
            }
            var headers = ["Content-Type": "application/json"]
            if gen.chance(0.8) {
                headers["Authorization"] = "Bearer \(service.ingestKey)"
            } else {
                headers["Authorization"] = "Basic " + Data("\(service.ingestKey):".utf8).base64EncodedString()
            }
            var body = request.body
            var gzipped = false
            if gen.chance(0.15) {
                body = Gzip.stored(body)
                gzipped = true
                if gen.chance(0.1) { body[gen.int(body.count)] ^= 0x5A; request.expectedIds = [:]; request.cleanIndices = []; request.mustSucceed = false }  // corrupt: may be refused
                headers["Content-Encoding"] = "gzip"
            }
            send(route.path, headers: headers, body: body, request: request, gzipped: gzipped)
        }
    }

    private mutating func send(_ path: String, headers: [String: String], body: [UInt8], request: GeneratedRequest, gzipped: Bool) {
        result.requests += 1
        let describe = { "POST \(path)\(gzipped ? " (gzip)" : "") body \(String(decoding: request.body.prefix(600), as: UTF8.self).debugDescription)" }
        do {
            if client == nil { client = try service.client() }
            let started = Date()
            let r = try client!.request("POST", path, headers: headers, body: body)
            let took = Date().timeIntervalSince(started)
            if took > result.slowest.0 { result.slowest = (took, "\(r.status) \(describe().prefix(300))") }
            result.statuses[r.status, default: 0] += 1
            if r.status >= 500 || r.status < 200 {
                result.failures.append("\(r.status) \(r.text.prefix(300)) for \(describe())")
                return
            }
            if r.status >= 400, r.header("Content-Type") != "application/problem+json" {
                result.failures.append("\(r.status) without a problem document (\(r.header("Content-Type") ?? "no type")) for \(describe())")
            }
            if r.header("Connection") == "close" { client = nil }
            guard (200..<300).contains(r.status) else {
                if request.mustSucceed, r.status != 413 {
                    result.failures.append("a clean request was refused: \(r.status) \(r.text.prefix(300)) for \(describe())")
                }
                return
            }
            if path == "/v1/batch" {
                let rejections = r.json["rejected"] as? [[String: Any]] ?? []
                for rejection in rejections {
                    guard let index = rejection["index"] as? Int, request.cleanIndices.contains(index) else { continue }
                    let errors = rejection["errors"] as? [[String: Any]] ?? []
                    if errors.allSatisfy({ ($0["detail"] as? String)?.contains("bytes; the limit") == true }) { continue }
                    result.failures.append("clean message \(index) was rejected: \(errors) in \(describe())")
                }
                let rejected = Set(rejections.compactMap { $0["index"] as? Int })
                for (index, id) in request.expectedIds where !rejected.contains(index) {
                    result.accepted.append(id)
                    if result.sentAs[id] == nil { result.sentAs[id] = "message \(index) of \(describe()) answered \(r.status) \(r.text.prefix(300))" }
                }
            } else if let id = request.expectedIds[0] {
                result.accepted.append(id)
                if result.sentAs[id] == nil { result.sentAs[id] = "\(describe()) answered \(r.status) \(r.text.prefix(300))" }
            }
        } catch {
            // The server may close after a 413 before reading the whole body; anything else is a failure.
            client = nil
            if body.count <= 32 * 1024 { result.failures.append("\(error) for \(describe())") }
        }
    }
}

struct GeneratedRequest {
    var body: [UInt8]
    /// Index in the batch (0 for a single message) → the messageId the server will use, for the
    /// messages whose messageId is a plain valid string (others are not tracked).
    var expectedIds: [Int: String]
    /// Messages drawn without any hostile shape and with every field their kind requires: they
    /// must be accepted (unless over the size limit).
    var cleanIndices: Set<Int> = []
    /// The body has no hostile shape outside clean messages: it must be answered 2xx (or 413).
    var mustSucceed = false
}

/// The grammar. Builds JSON text byte by byte, so it can say what a serializer would not:
/// duplicate keys, lone surrogate escapes, raw invalid UTF-8, numbers beyond `Double`.
struct MessageGenerator {
    var rng: SplitMix64
    let prefix: String
    var counter = 0
    var usedMessageIds: [String] = []
    /// Whether the message being generated may hold hostile shapes; about half the messages are
    /// clean, so that plenty are accepted and written.
    var hostile = true
    /// Whether the body being generated holds what makes it no JSON at all (raw invalid UTF-8 or
    /// control characters, nesting past the limit): then the whole body is refused, not a message.
    var breaksSyntax = false

    init(seed: UInt64, prefix: String) {
        rng = SplitMix64(state: seed)
        self.prefix = prefix
    }

    mutating func int(_ n: Int) -> Int { Int(rng.next() % UInt64(max(n, 1))) }
    mutating func chance(_ p: Double) -> Bool { Double(rng.next() % 1_000_000) < p * 1_000_000 }
    mutating func pick<T>(_ items: [T]) -> T { items[int(items.count)] }

    // MARK: Leaves

    static let eventNames = ["Product Viewed", "Product Added", "Pricing Requested", "Checkout Started", "Order Completed",
                             "Email Clicked", "Demo Requested", "product_viewed", "Signed Up", "ünïcødé 📈 event"]
    static let emails = ["lena@example.com", " Lena@Example.COM ", "bob@gmail.com", "not-an-email", "a@b", "@", "x@例え.jp"]
    static let countries = ["Germany", "DE", "de", "United States", "Narnia", "", "ÖSTERREICH"]
    static let hostileNumbers = ["1e308", "-1e308", "1e999", "-1e999", "-0", "0", "-0.0", "5e-324", "1e-400",
                                 "123456789012345678901234567890", "-9223372036854775809", "18446744073709551616",
                                 "1.7976931348623157e308", "9007199254740993", "1E+2", "0.1", "42"]

    /// A string literal (with its quotes) of random unicode: escapes, NUL, lone surrogates, raw
    /// multi-byte UTF-8 and, rarely, raw invalid UTF-8 or raw control characters.
    mutating func stringLiteral(maxPieces: Int = 8) -> [UInt8] {
        var out: [UInt8] = [0x22]
        for _ in 0..<int(maxPieces + 1) {
            switch hostile ? int(20) : pick([0, 1, 2, 3, 8, 9, 13, 14]) {
            case 0...5: out += Array(pick(["a", "Z", "lead", " ", "-", "_", "0", "é", "ß", "日本", "😀", "\u{FEFF}", "\u{FFFD}"]).utf8)
            case 6: out += Array(#"\u0000"#.utf8)
            case 7: out += Array(pick([#"\uD800"#, #"\uDBFF"#, #"\uDC00"#, #"\uDFFF"#, #"\uD800\u0041"#, #"\uDC00\uD800"#]).utf8)
            case 8: out += Array(#"\uD83D\uDE00"#.utf8)  // a valid pair
            case 9: out += Array(pick([#"\""#, #"\\"#, #"\/"#, #"\b"#, #"\f"#, #"\n"#, #"\r"#, #"\t"#, #"\u001f"#, #"\u00e9"#]).utf8)
            case 10:  // invalid UTF-8
                out += pick([[0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x80]])
                breaksSyntax = true
            case 11:  // a raw control character: not JSON
                if chance(0.3) { out.append(UInt8(int(0x20))); breaksSyntax = true }
            case 12: out += Array(String(repeating: "x", count: int(300)).utf8)
            default: out += Array(String(UnicodeScalar(UInt8(0x61 + int(26)))).utf8)
            }
        }
        out.append(0x22)
        return out
    }

    /// A plain string literal (escaped only where JSON needs it).
    func quoted(_ text: String) -> [UInt8] {
        var out: [UInt8] = [0x22]
        for b in text.utf8 {
            switch b {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0..<0x20: out += Array(String(format: "\\u%04x", b).utf8)
            default: out.append(b)
            }
        }
        out.append(0x22)
        return out
    }

    mutating func number() -> [UInt8] {
        if chance(0.5) { return Array(pick(hostile ? Self.hostileNumbers : ["1e308", "-0", "5e-324", "0.1", "42", "1E+2"]).utf8) }
        return Array(String(Double(int(2_000_001)) - 1_000_000).utf8)
    }

    /// Any JSON value, nested up to `depth`.
    mutating func value(depth: Int) -> [UInt8] {
        switch depth <= 0 ? int(5) : int(8) {
        case 0: return Array(pick(["null", "true", "false"]).utf8)
        case 1, 2: return number()
        case 3, 4: return stringLiteral()
        case 5, 6:
            var members: [(String, [UInt8])] = []
            for _ in 0..<int(5) { members.append((pick(hostile ? ["a", "b", "path", "price", "email", "n\u{0}", "k"] : ["a", "b", "c"]), value(depth: depth - 1))) }
            return object(members, rawKeys: hostile && chance(0.2))
        default:
            var out: [UInt8] = [0x5B]
            let count = int(5)
            for i in 0..<count {
                if i > 0 { out.append(0x2C) }
                out += value(depth: depth - 1)
            }
            if count > 0 && chance(0.05) { out.append(0x2C) }  // a trailing comma (accepted, like JSONDecoder)
            out.append(0x5D)
            return out
        }
    }

    /// Nesting `levels` deep (the reader refuses beyond 512).
    func deep(_ levels: Int, arrays: Bool) -> [UInt8] {
        let open: UInt8 = arrays ? 0x5B : 0x7B
        var out: [UInt8] = []
        for _ in 0..<levels { out += arrays ? [open] : Array(#"{"d":"#.utf8) }
        out += Array("1".utf8)
        out += [UInt8](repeating: arrays ? 0x5D : 0x7D, count: levels)
        return out
    }

    mutating func object(_ members: [(String, [UInt8])], rawKeys: Bool = false) -> [UInt8] {
        var out: [UInt8] = [0x7B]
        for (i, (key, value)) in members.enumerated() {
            if i > 0 { out.append(0x2C) }
            out += rawKeys && chance(0.3) ? stringLiteral(maxPieces: 3) : quoted(key)
            out.append(0x3A)
            out += value
        }
        out.append(0x7D)
        return out
    }

    // MARK: Fields

    /// An identifier: mostly from a small pool (so leads are found again, identities tie and
    /// merge), else hostile: empty, huge, numeric, unicode, or of a wrong type.
    mutating func identifier(_ pool: String) -> [UInt8] {
        switch hostile ? int(14) : pick([0, 13]) {
        case 0...7: return quoted("\(pool)-\(int(40))")
        case 8: return quoted(pick(["", " ", "0"]))
        case 9: return quoted(String(repeating: pick(["u", "é", "😀"]), count: pick([64, 85, 86, 128, 257, 3000])))
        case 10: return Array(pick(["12345", "1.5", "1e20", "-7", "0", "1e999"]).utf8)
        case 11: return stringLiteral(maxPieces: 4)
        case 12: return Array(pick(["null", "true", "{}", "[]", #"{"id":"x"}"#, #"["a"]"#]).utf8)
        default: return quoted("\(pool)-\(int(40))-\(pick(["ä", "日", "🦊", "\u{200B}"]))")
        }
    }

    /// A date-time: near now (valid), any year 0000–9999, offsets, malformed, or a wrong type.
    mutating func dateTime() -> [UInt8] {
        let now = Date().timeIntervalSince1970
        switch hostile ? int(10) : int(4) {
        case 0...3:
            return quoted(Timestamp(Date(timeIntervalSince1970: now - Double(int(30 * 86_400)) + Double(int(7200)))).description)
        case 4:
            let year = int(10_000)
            return quoted(String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", year, 1 + int(12), 1 + int(28), int(24), int(60), int(60), int(1000)))
        case 5:
            return quoted(pick(["0000-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z", "0001-01-01T00:00:00Z", "1999-12-31T23:59:59Z",
                                "2000-01-01T00:00:00.000Z", "9999-12-31T23:59:59+23:59", "0000-01-01T00:00:00-23:59"]))
        case 6:
            let base = Timestamp(Date(timeIntervalSince1970: now - Double(int(86_400)))).description
            // Long fractions: ICU divided by zero on 32+ digits (found by scripts/fuzz-ingest.sh).
            let fraction = "." + String(repeating: pick(["0", "9", "5"]), count: 10 + int(34)) + "Z"
            return quoted(String(base.dropLast(5)) + pick(["+14:00", "-12:00", "+05:30", "Z", ".123456789Z", "+99:99", "", fraction]))
        case 7:
            return quoted(pick(["", "yesterday", "2026-13-45T25:61:61.000Z", "2026-02-30T00:00:00Z", "+10000-01-01T00:00:00Z",
                                "-0001-01-01T00:00:00Z", "20261119T100000Z", "2026-11-19", "2026-11-19T10:00:00.000Z\u{0}",
                                "99999-01-01T00:00:00Z", "1e3", String(repeating: "2026-", count: 20)]))
        case 8:
            return Array(pick(["0", "1795000000", "1e308", "-1", "null", "{}", "[]", "true"]).utf8)
        default:
            return stringLiteral(maxPieces: 3)
        }
    }

    mutating func eventName() -> [UInt8] {
        switch hostile ? int(10) : int(7) {
        case 0...6: return quoted(pick(Self.eventNames))
        case 7: return quoted(String(repeating: pick(["E", "é", "事", "🛒"]), count: pick([100, 256, 257, 1000, 8000])))
        case 8: return stringLiteral(maxPieces: 5)
        default: return Array(pick(["null", "42", "[]", "{}", "\"\""]).utf8)
        }
    }

    mutating func traits() -> [UInt8] {
        var members: [(String, [UInt8])] = []
        if chance(0.6) { members.append(("email", !hostile || chance(0.8) ? quoted(pick(Self.emails)) : value(depth: 1))) }
        if chance(0.4) { members.append(("country", quoted(pick(Self.countries)))) }
        if chance(0.3) { members.append(("address", object([("country", quoted(pick(Self.countries))), ("state", stringLiteral())]))) }
        if chance(0.3) {
            members.append(("company", object([("domain", quoted(pick(["example.com", "shop.de", String(repeating: "a.", count: 200) + "com"]))),
                                               ("employees", chance(0.5) ? number() : quoted(pick(["51-200", "1-10", "10000+", "lots"]))),
                                               ("industry", stringLiteral())])))
        }
        if chance(0.3) { members.append(("website", quoted(pick(["https://example.com", "http://" + String(repeating: "w", count: 300) + ".com", "not a url"])))) }
        if chance(0.2) { members.append(("ship_to_region", stringLiteral())) }
        if chance(0.3) { members.append((pick(["plan", "name", "x"]), value(depth: 2))) }
        return object(members, rawKeys: hostile && chance(0.1))
    }

    /// The members of one message of `kind` (nil kind: a batch message, which needs `type`).
    /// Returns the members and the messageId the server will use when it is trackable.
    mutating func messageMembers(kind: String, inBatch: Bool) -> ([(String, [UInt8])], String?, clean: Bool) {
        var m: [(String, [UInt8])] = []
        var messageId: String?
        hostile = chance(0.5)
        if inBatch || (hostile && chance(0.1)) {
            switch hostile ? int(20) : 3 {
            case 0: m.append(("type", quoted(pick(["TRACK", "Track", "unknown", ""]))))
            case 1: m.append(("type", Array(pick(["1", "null", "[]"]).utf8)))
            case 2 where inBatch: break  // missing type
            default: m.append(("type", quoted(kind)))
            }
        }
        // Ids: sometimes neither userId nor anonymousId.
        let ids = int(10)
        if ids < 6 || chance(0.3) || (!hostile && (ids >= 8 || kind == "alias")) { m.append(("userId", identifier("user"))) }
        if ids >= 4 { m.append(("anonymousId", identifier("anon"))) }
        switch hostile ? int(10) : int(8) {
        case 0...6:
            counter += 1
            let id = "\(prefix)-\(counter)"
            usedMessageIds.append(id)
            m.append(("messageId", quoted(id)))
            messageId = id
        case 7 where !usedMessageIds.isEmpty:
            let id = pick(usedMessageIds)  // a re-send
            m.append(("messageId", quoted(id)))
            messageId = id
        case 8: m.append(("messageId", identifier("msg")))
        default: break
        }
        switch kind {
        case "track": m.append((chance(0.9) ? "event" : "name", eventName()))
        case "page", "screen":
            if chance(0.8) { m.append(("name", eventName())) }
            if chance(0.3) { m.append(("category", !hostile || chance(0.7) ? quoted("docs") : value(depth: 1))) }
        case "group": if !hostile || chance(0.9) { m.append(("groupId", identifier("acct"))) }
        case "alias": if !hostile || chance(0.9) { m.append(("previousId", identifier(pick(["user", "anon"])))) }
        default: break
        }
        if chance(0.6) { m.append(("properties", propertiesValue())) }
        if kind == "identify" || kind == "group" || chance(0.2) { m.append(("traits", !hostile || chance(0.9) ? traits() : value(depth: 1))) }
        if chance(0.4) { m.append(("context", contextValue())) }
        if chance(0.5) { m.append(("timestamp", dateTime())) }
        if chance(0.2) { m.append(("originalTimestamp", dateTime())) }
        // Clean: no sentAt beside a device time (two random recent times can skew the event
        // time past the window, which is a correct refusal).
        if chance(0.3), hostile || !m.contains(where: { $0.0 == "timestamp" || $0.0 == "originalTimestamp" }) {
            m.append(("sentAt", dateTime()))
        }
        if chance(0.05) { m.append(("writeKey", chance(0.5) ? stringLiteral() : quoted("not-the-key"))) }
        // Duplicate keys: the first value counts (a later messageId does not change the answer's id).
        if hostile && chance(0.1), let duplicate = m.randomElementUsing(&self) {
            let key = duplicate.0
            m.append((key, key == "messageId" ? quoted("dup-\(int(1000))") : value(depth: 1)))
        }
        if chance(0.05) { m.shuffleUsing(&self) }
        // If a member got shuffled after a duplicate messageId, the first one in the text counts.
        if let first = m.first(where: { $0.0 == "messageId" }) {
            messageId = Self.plainString(first.1)
        }
        return (m, messageId, !hostile)
    }

    /// The text of a literal that is a plain quoted string of printable ASCII without escapes.
    static func plainString(_ literal: [UInt8]) -> String? {
        guard literal.count >= 3, literal.first == 0x22, literal.last == 0x22 else { return nil }
        let inner = literal.dropFirst().dropLast()
        guard inner.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x5C && $0 != 0x22 }), inner.count <= 256 else { return nil }
        return String(decoding: inner, as: UTF8.self)
    }

    mutating func propertiesValue() -> [UInt8] {
        switch hostile ? int(12) : 3 + int(9) {
        case 0:
            let levels = pick([10, 100, 500, 513, 2000])
            if levels > 500 { breaksSyntax = true }  // with the message and batch around it: past 512
            return deep(levels, arrays: chance(0.5))
        case 1: return Array(pick(["null", "[]", "\"props\"", "7"]).utf8)
        case 2: return object([("big", quoted(String(repeating: "p", count: pick([1000, 20_000, 40_000]))))])
        default:
            var members: [(String, [UInt8])] = []
            if chance(0.5) { members.append(("price", number())) }
            if chance(0.4) { members.append(("path", quoted(pick(["/pricing", "/shipping", "/", "/ü?q=1"])))) }
            if chance(0.4) { members.append(("category", quoted(pick(["skincare-sets", "running-shoes", ""])))) }
            for _ in 0..<int(4) { members.append((pick(["a", "b", "quantity", "product_id", "n"]), value(depth: 3))) }
            return object(members, rawKeys: hostile && chance(0.15))
        }
    }

    mutating func contextValue() -> [UInt8] {
        var members: [(String, [UInt8])] = []
        if chance(0.4) { members.append(("traits", traits())) }
        if chance(0.4) { members.append(("page", object([("path", quoted("/pricing")), ("url", chance(0.7) ? quoted("https://shop.example/pricing?x=1") : stringLiteral())]))) }
        if chance(0.3) { members.append(("campaign", object([("medium", quoted(pick(["cpc", "email", "organic"]))), ("source", stringLiteral())]))) }
        if chance(0.2) { members.append(("library", object([("name", quoted("analytics-python")), ("version", number())]))) }
        if chance(0.1) { members.append(("ip", value(depth: 1))) }
        return hostile && chance(0.05) ? value(depth: 1) : object(members)
    }

    // MARK: Requests

    mutating func single(kind: String) -> GeneratedRequest {
        breaksSyntax = false
        let (members, id, clean) = messageMembers(kind: kind, inBatch: false)
        var body = object(members)
        let mangled = mangle(&body)
        return GeneratedRequest(body: body, expectedIds: mangled ? [:] : id.map { [0: $0] } ?? [:],
                                cleanIndices: clean && !mangled ? [0] : [], mustSucceed: clean && !mangled)
    }

    mutating func batch() -> GeneratedRequest {
        var items: [[UInt8]] = []
        var ids: [Int: String] = [:]
        var cleanIndices: Set<Int> = []
        breaksSyntax = false
        let count = chance(0.02) ? 2501 : chance(0.05) ? 0 : 1 + int(chance(0.2) ? 60 : 12)
        for index in 0..<count {
            if count > 100 { items.append(Array("{}".utf8)); continue }
            if chance(0.05) {
                items.append(value(depth: 1))  // not an object
                continue
            }
            let kind = pick(["track", "track", "identify", "page", "screen", "group", "alias"])
            let (members, id, clean) = messageMembers(kind: kind, inBatch: true)
            items.append(object(members))
            if let id { ids[index] = id }
            if clean { cleanIndices.insert(index) }
        }
        hostile = chance(0.3)  // the batch's own members: a hostile one refuses the whole body
        var top: [(String, [UInt8])] = []
        var list: [UInt8] = [0x5B]
        for (i, item) in items.enumerated() {
            if i > 0 { list.append(0x2C) }
            list += item
        }
        list.append(0x5D)
        if hostile && chance(0.03) {
            top.append(("batch", value(depth: 1)))  // not the messages after all
            ids = [:]
            cleanIndices = []
        } else {
            top.append(("batch", list))
        }
        if chance(0.2) { top.append(("context", contextValue())) }
        if chance(0.2) {
            top.append(("sentAt", dateTime()))
            cleanIndices = []  // it applies to every message: a valid one may skew their times out of the window
        }
        if chance(0.1) { top.append(("writeKey", chance(0.5) ? stringLiteral() : quoted("k"))) }
        if hostile && chance(0.1) {  // a repeated member: the first value counts, nothing in this one may blame it
            top.append(("batch", Array(pick(["[]", #"[{"userId":"\u0000"}]"#, #"[7,{"type":"\uDC00"}]"#]).utf8)))
        }
        var body = object(top)
        let mangled = mangle(&body)
        if mangled { ids = [:]; cleanIndices = [] }
        // A hostile envelope may refuse the body (clean messages with it); when it is answered
        // 200 all the same, its clean messages must have been accepted (see TrafficWorker.send).
        return GeneratedRequest(body: body, expectedIds: ids, cleanIndices: cleanIndices,
                                mustSucceed: !hostile && !breaksSyntax && !mangled && (1...2500).contains(count) && top.first?.1 == list)
    }

    /// Rarely, a body that is no longer JSON: truncated, trailing garbage, or empty.
    mutating func mangle(_ body: inout [UInt8]) -> Bool {
        guard hostile else { return false }
        switch int(40) {
        case 0: body = Array(body.prefix(int(body.count)))
        case 1: body += Array(pick(["}", " x", ",", "\u{0}", "{}"]).utf8)
        case 2: body = Array(pick(["", "null", "[]", "\"s\"", "1e999", "{", " \t\r\n {} "]).utf8)
        default: return false
        }
        return true
    }
}

extension Array {
    func randomElementUsing(_ gen: inout MessageGenerator) -> Element? { isEmpty ? nil : self[gen.int(count)] }
    mutating func shuffleUsing(_ gen: inout MessageGenerator) {
        guard count > 1 else { return }
        for i in stride(from: count - 1, to: 0, by: -1) { swapAt(i, gen.int(i + 1)) }
    }
}

/// gzip of stored (uncompressed) deflate blocks: a valid gzip stream without zlib in the test.
enum Gzip {
    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    static func stored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF]
        var offset = 0
        repeat {
            let n = Swift.min(65_535, data.count - offset)
            let final = offset + n == data.count
            out.append(final ? 1 : 0)
            out += [UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            out += data[offset..<offset + n]
            offset += n
        } while offset < data.count
        let crc = crc32(data), size = UInt32(truncatingIfNeeded: data.count)
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8((crc >> UInt32(shift)) & 0xFF)) }
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8((size >> UInt32(shift)) & 0xFF)) }
        return out
    }
}
