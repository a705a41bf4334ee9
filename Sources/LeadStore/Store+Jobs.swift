import Foundation
import Postgres

/// A background job (`jobs`).
public struct JobRecord: Sendable {
    public var id: UUID
    public var kind: String
    /// `queued`, `running`, `done`, `failed` or `cancelled`.
    public var status: String
    public var params: PostgresJSON
    public var progress: Double
    public var result: PostgresJSON?
    public var error: String?
    public var createdBy: String
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
}

extension Store {
    static func job(_ row: PostgresRow) throws -> JobRecord {
        JobRecord(id: try row.decode(UUID.self, "id"), kind: try row.decode(String.self, "kind"), status: try row.decode(String.self, "status"),
                  params: try row.decode(PostgresJSON.self, "params"), progress: try row.decode(Double.self, "progress"),
                  result: try row.decode(PostgresJSON?.self, "result"), error: try row.decode(String?.self, "error"),
                  createdBy: try row.decode(String.self, "created_by"), createdAt: try row.decode(Date.self, "created_at"),
                  startedAt: try row.decode(Date?.self, "started_at"), finishedAt: try row.decode(Date?.self, "finished_at"))
    }

    public func createJob(kind: String, params: PostgresJSON, by: String) throws -> JobRecord {
        try Self.job(connection.query("""
            INSERT INTO jobs (kind, params, created_by) VALUES (\(kind), \(params), \(by)) RETURNING *
            """).first!)
    }

    public func job(_ id: UUID) throws -> JobRecord? {
        try connection.query("SELECT * FROM jobs WHERE id = \(id)").first.map(Self.job)
    }

    /// Takes the oldest queued job for this node (`SKIP LOCKED`: each job runs on one node).
    public func claimJob() throws -> JobRecord? {
        try connection.query("""
            UPDATE jobs SET status = 'running', started_at = now(), heartbeat_at = now()
            WHERE id = (SELECT id FROM jobs WHERE status = 'queued' ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING *
            """).first.map(Self.job)
    }

    /// Records progress (and the heartbeat); returns whether a cancel was asked for.
    public func jobProgress(_ id: UUID, _ progress: Double) throws -> Bool {
        try connection.query("""
            UPDATE jobs SET progress = \(min(1, max(0, progress))), heartbeat_at = now() WHERE id = \(id) RETURNING cancel_requested
            """).first.map { try $0.decode(Bool.self, "cancel_requested") } ?? true
    }

    /// Ends a running job: `done` with its result, `failed` with an error, or `cancelled`.
    public func finishJob(_ id: UUID, status: String, result: PostgresJSON? = nil, error: String? = nil) throws {
        try connection.execute("""
            UPDATE jobs SET status = \(status), result = \(result), error = \(error), finished_at = now(),
                   progress = CASE WHEN \(status) = 'done' THEN 1 ELSE progress END
            WHERE id = \(id) AND status IN ('queued', 'running')
            """)
    }

    /// `DELETE /v1/jobs/{id}`: a queued job is cancelled at once, a running one when its runner
    /// next records progress. Returns the job as it stands, nil when there is none.
    /// Two statements in one round trip, not one `CASE … now()`: Citus refuses a non-IMMUTABLE
    /// function inside CASE in an UPDATE (`jobs` is a reference table there).
    public func cancelJob(_ id: UUID) throws -> JobRecord? {
        try run([
            "UPDATE jobs SET cancel_requested = true, status = 'cancelled', finished_at = now() WHERE id = \(id) AND status = 'queued'",
            "UPDATE jobs SET cancel_requested = true WHERE id = \(id) AND status = 'running'",
        ])
        return try job(id)
    }

    /// Running jobs whose node stopped beating for `seconds` are marked failed (not resumed).
    @discardableResult
    public func failAbandonedJobs(olderThan seconds: Double) throws -> Int {
        try connection.query("""
            UPDATE jobs SET status = 'failed', error = 'the node running it stopped', finished_at = now()
            WHERE status = 'running' AND heartbeat_at < now() - \(seconds) * interval '1 second'
            RETURNING id
            """).count
    }

    /// The share of leads whose routing the last finished backtest of `version` said would move.
    public func lastBacktestRoutingShare(version: Int) throws -> Double? {
        try connection.query("""
            SELECT (result->>'routing_changed_share')::float8 AS share FROM jobs
            WHERE kind = 'backtest' AND status = 'done' AND (params->>'version')::integer = \(version)
            ORDER BY finished_at DESC LIMIT 1
            """).first.map { try $0.decode(Double?.self, "share") } ?? nil
    }
}
