import Foundation
internal import CLibPQ

extension PostgresConnection {
    /// Sends every query in one round trip with libpq pipeline mode and returns their rows in order.
    ///
    /// The queries run in one implicit transaction (all or nothing) unless a transaction is already
    /// open on this connection, in which case they run inside it. If one fails, the later ones are
    /// skipped and the first error is thrown. Statements are prepared and cached as in `query`.
    public func pipeline(_ queries: [PostgresQuery]) throws -> [PostgresRows] {
        try checkUsable()
        if queries.isEmpty { return [] }
        guard PQenterPipelineMode(handle.raw) == 1 else {
            throw PostgresError(code: .protocolViolation, message: "cannot enter pipeline mode: \(handle.errorMessage)")
        }
        // Non-blocking sends let libpq read results while it still writes, so a long pipeline
        // cannot deadlock with a server blocked on writing to us.
        PQsetnonblocking(handle.raw, 1)
        defer {
            PQsetnonblocking(handle.raw, 0)
            if PQexitPipelineMode(handle.raw) != 1 { markBroken() }
        }
        var expectations: [Expectation] = []
        var newStatements: [StatementKey: String] = [:]
        for query in queries {
            let key = statementKey(query)
            var sent: Int32
            if let name = cachedStatement(key) ?? newStatements[key] {
                sent = sendPrepared(name, query)
            } else if let name = reserveStatementName(pending: newStatements.count) {
                let types = query.binds.map { Oid($0.type.rawValue) }
                sent = PQsendPrepare(handle.raw, name, query.sql, Int32(types.count), types)
                expectations.append(.prepare(key: key, name: name))
                newStatements[key] = name
                if sent == 1 { sent = sendPrepared(name, query) }
            } else {
                sent = withLibpqParameters(query.binds) { count, types, values, lengths, formats in
                    PQsendQueryParams(handle.raw, query.sql, count, types, values, lengths, formats, query.binaryResults ? 1 : 0)
                }
            }
            guard sent == 1 else { return try abandonPipeline() }
            expectations.append(.rows)
        }
        guard PQpipelineSync(handle.raw) == 1 else { return try abandonPipeline() }
        roundTrips += 1
        statementsSent += queries.count
        var results: [PostgresRows] = []
        var firstError: Error?
        for expectation in expectations {
            let raw = PQgetResult(handle.raw)
            if let raw, PQresultStatus(raw) == PGRES_PIPELINE_ABORTED {
                _ = PGResultHandle(raw: raw)  // skipped after an earlier error; freed here
            } else {
                do {
                    let rows = try self.rows(from: raw)
                    switch expectation {
                    case .rows: results.append(rows)
                    // Prepared statements outlive a failed pipeline: remember each one that took.
                    case .prepare(let key, let name): rememberStatement(key, name)
                    }
                } catch {
                    if firstError == nil { firstError = error }
                    if !isUsable { throw error }
                }
            }
            // Each query's results end with a NULL.
            if raw != nil, let extra = PQgetResult(handle.raw) {
                _ = PGResultHandle(raw: extra)
                markBroken()
                throw lostOr(firstError, PostgresError(code: .protocolViolation, message: "more results than expected in pipeline"))
            }
        }
        guard let sync = PQgetResult(handle.raw).map(PGResultHandle.init(raw:)) else {
            markBroken()
            throw PostgresError(code: .connectionLost, message: handle.errorMessage)
        }
        guard sync.status == PGRES_PIPELINE_SYNC else {
            markBroken()
            // The server ending the session after the last statement (57P01 from
            // pg_terminate_backend, a shutdown) answers in place of the sync, before libpq has
            // seen the connection close: that is a lost connection, not a protocol violation.
            let inPlace = sync.status == PGRES_FATAL_ERROR ? sync.error(connectionBroken: !handle.isOK) : nil
            throw lostOr(firstError, inPlace: inPlace, PostgresError(code: .protocolViolation, message: "pipeline did not end with a sync"))
        }
        if let firstError { throw firstError }
        return results
    }

    private enum Expectation {
        case prepare(key: StatementKey, name: String)
        case rows
    }

    private func sendPrepared(_ name: String, _ query: PostgresQuery) -> Int32 {
        withLibpqParameters(query.binds) { count, _, values, lengths, formats in
            PQsendQueryPrepared(handle.raw, name, count, values, lengths, formats, query.binaryResults ? 1 : 0)
        }
    }

    /// What to throw when the pipeline's results are out of step: when the server ended the
    /// session (terminated backend, shutdown) that is a lost connection — the database being
    /// unavailable — not a protocol violation.
    private func lostOr(_ firstError: Error?, inPlace: PostgresError? = nil, _ violation: PostgresError) -> PostgresError {
        if let first = firstError as? PostgresError, first.isConnectionError { return first }
        if let inPlace, inPlace.isConnectionError { return inPlace }
        if !handle.isOK { return PostgresError(code: .connectionLost, message: handle.errorMessage) }
        return violation
    }

    /// A send failed mid-pipeline: the connection state is unknown, so it is not reused.
    private func abandonPipeline() throws -> [PostgresRows] {
        let message = handle.errorMessage
        markBroken()
        throw PostgresError(code: .connectionLost, message: "pipeline send failed: \(message)")
    }
}
