import Foundation
import Postgres
import XCTest
@testable import HTTPAPI
@testable import LeadStore
@testable import Segmentation

/// A migrated throwaway database with teams synced, for the queue store tests: leads are bare
/// rows, items are routed with the same SQL function the ingest hook calls.
final class QueueFixture: @unchecked Sendable {
    let url: String
    let pool: PostgresPool
    let clock: ManualClock

    init(test: XCTestCase, teams: [String: Team]) throws {
        url = try TestDatabases.create()
        _ = try Migrator(configuration: PostgresConfiguration(url: url), directory: repositoryRoot.appendingPathComponent("migrations"),
                         logger: TestDatabases.logger).migrate()
        pool = PostgresPool(configuration: PostgresConfiguration(url: url),
                            settings: .init(minConnections: 1, maxConnections: 12, acquireTimeout: 10, idleTimeout: 60), logger: TestDatabases.logger)
        clock = ManualClock(Date(timeIntervalSince1970: 1_795_000_000))
        try pool.withTransaction { try Store($0).syncTeams(teams) }
        let pool = self.pool, url = self.url
        test.addTeardownBlock { pool.close(); TestDatabases.drop(url) }
    }

    static func team(_ name: String, strategy: String = "round_robin", escalateTo: String? = nil, fallback: String = "all",
                     _ members: [(String, Int?, [String])]) -> Team {
        Team(name: name, strategy: strategy, members: members.map { TeamMember(id: $0.0, capacity: $0.1, territories: $0.2) },
             escalateTo: escalateTo, territoryFallback: fallback)
    }

    /// A new lead routed to `queue` for `team`, in its own transaction; returns what routing said.
    @discardableResult
    func route(queue: String = "high-intent", team: String?, country: String? = nil, domain: String? = nil,
               score: Double = 50, sla: Double? = nil) throws -> RoutedItem {
        let now = clock.now
        return try pool.withTransaction { conn in
            let lead = UUID()
            try conn.execute("INSERT INTO leads (id, country) VALUES (\(lead), \(country))")
            return try Store(conn).routeToQueue(lead: lead, queue: queue, segment: "decision.high-intent.pricing", team: team,
                                                priority: score, slaDueAt: sla.map { now.addingTimeInterval($0) }, country: country,
                                                shipToRegion: nil, companyDomain: domain, memberSince: now, now: now)
        }
    }

    func count(_ sql: String) throws -> Int {
        try pool.withConnection { try $0.query(PostgresQuery(unsafeRaw: sql)).scalar(Int.self) }
    }
}
