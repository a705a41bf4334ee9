// postgres-bench: drives one workload through PostgresPool for a fixed time and prints its TPS.
//
//   postgres-bench --url URL --workload select|upsert|upsert-pipeline --clients N --seconds T [--rows R]
//   postgres-bench --url URL --seed R      (fills `leads` with R rows for the select workload)
//
// Each client is a thread that takes a connection from the pool per transaction (as a request
// handler does), so pool overhead is part of the figure. The SQL is the same text that
// scripts/bench-postgres.sh gives pgbench.
import Foundation
import Logging
import Postgres
import Synchronization

struct Options {
    var url = ""
    var workload = "select"
    var clients = 1
    var seconds = 10.0
    var rows = 100_000
    var seed: Int?

    init(_ args: [String]) {
        var i = 1
        func value() -> String {
            i += 1
            guard i < args.count else { fatalError("missing value for \(args[i - 1])") }
            return args[i]
        }
        while i < args.count {
            switch args[i] {
            case "--url": url = value()
            case "--workload": workload = value()
            case "--clients": clients = Int(value())!
            case "--seconds": seconds = Double(value())!
            case "--rows": rows = Int(value())!
            case "--seed": seed = Int(value())!
            default: fatalError("unknown argument \(args[i])")
            }
            i += 1
        }
    }
}

/// xorshift64*: a per-thread generator, so picking a key costs no syscall or lock.
struct FastRandom {
    var state: UInt64
    mutating func next(upTo bound: Int) -> Int {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return Int((state &* 2_685_821_657_736_338_717) % UInt64(bound)) + 1
    }
}

/// The same statements as scripts/bench-postgres.sh's pgbench scripts (`:n` there is `$1` here).
enum Workload {
    static func select(_ n: String) -> PostgresQuery {
        "SELECT id, email, stage, status, score, segments FROM leads WHERE id = md5(\(n)::text)::uuid"
    }

    static func upsertLead(_ n: String) -> PostgresQuery {
        """
        INSERT INTO leads (id, email, last_event_at, score, updated_at) \
        VALUES (md5(\(n)::text)::uuid, \(n)::text || '@example.com', now(), 1, now()) \
        ON CONFLICT (id) DO UPDATE SET last_event_at = excluded.last_event_at, \
        score = leads.score + 1, updated_at = excluded.updated_at
        """
    }

    static func insertEvent(_ n: String) -> PostgresQuery {
        """
        INSERT INTO events (lead_id, occurred_at, kind, type, message) \
        VALUES (md5(\(n)::text)::uuid, now(), 'track', 'product_viewed', \
        jsonb_build_object('event', 'Product Viewed', 'n', \(n)::text))
        """
    }
}

let options = Options(CommandLine.arguments)
var logger = Logger(label: "postgres-bench")
logger.logLevel = .warning
let configuration = PostgresConfiguration(url: options.url, applicationName: "postgres-bench")

if let seed = options.seed {
    let conn = try PostgresConnection(configuration: configuration, logger: logger)
    try conn.query("""
        INSERT INTO leads (id, email, stage, score, segments)
        SELECT md5(n::text)::uuid, n || '@example.com', 'awareness', n % 100, ARRAY['awareness.browsing']
        FROM generate_series(1, \(seed)) AS n ON CONFLICT DO NOTHING
        """)
    try conn.executeScript(unsafeSQL: "VACUUM ANALYZE leads")
    print("seeded \(seed) leads")
    exit(0)
}

let pool = PostgresPool(
    configuration: configuration,
    settings: .init(minConnections: options.clients, maxConnections: options.clients, acquireTimeout: 30),
    logger: logger)
try pool.prewarm()

let transactions = Atomic<Int>(0)
let errors = Atomic<Int>(0)
let start = ContinuousClock.now
let deadline = start + .milliseconds(Int(options.seconds * 1000))
let group = DispatchGroup()
for client in 0..<options.clients {
    group.enter()
    Thread.detachNewThread {
        defer { group.leave() }
        var random = FastRandom(state: 0x9E37_79B9_7F4A_7C15 &+ UInt64(client) &* 0x1000_0001)
        var done = 0
        // select-direct: one connection held for the whole run (no pool round trip), to show
        // what the pool itself costs.
        let held = options.workload == "select-direct" ? try! pool.acquire() : nil
        defer { if let held { pool.release(held) } }
        while ContinuousClock.now < deadline {
            let n = String(random.next(upTo: options.rows))
            do {
                switch options.workload {
                case "select":
                    let rows = try pool.query(Workload.select(n))
                    precondition(rows.count == 1, "lead \(n) not seeded")
                case "select-direct":
                    let rows = try held!.query(Workload.select(n))
                    precondition(rows.count == 1, "lead \(n) not seeded")
                case "upsert":
                    try pool.withTransaction { conn in
                        try conn.query(Workload.upsertLead(n))
                        try conn.query(Workload.insertEvent(n))
                    }
                case "upsert-pipeline":
                    try pool.withConnection { conn in
                        _ = try conn.pipeline([Workload.upsertLead(n), Workload.insertEvent(n)])
                    }
                default:
                    fatalError("unknown workload \(options.workload)")
                }
                done += 1
            } catch {
                errors.add(1, ordering: .relaxed)
            }
        }
        transactions.add(done, ordering: .relaxed)
    }
}
group.wait()
let elapsed = ContinuousClock.now - start
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
let tps = Double(transactions.load(ordering: .relaxed)) / seconds
print(String(format: "tps=%.1f transactions=%d errors=%d seconds=%.2f", tps,
             transactions.load(ordering: .relaxed), errors.load(ordering: .relaxed), seconds))
pool.close()
