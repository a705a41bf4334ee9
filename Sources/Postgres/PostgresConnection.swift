import Foundation
internal import CLibPQ
import Logging

/// One libpq connection: runs parameterised statements, caching a prepared statement per SQL text.
///
/// Blocking, like libpq: call it from a worker thread, never from an event loop. Not safe for two
/// threads at once; the pool hands each connection to one thread at a time (hence
/// `@unchecked Sendable`: it may move between threads, it must not be shared).
public final class PostgresConnection: @unchecked Sendable {
    let handle: PGConnHandle
    let configuration: PostgresConfiguration
    let logger: Logger
    private var statements: [StatementKey: String] = [:]
    private var statementCounter = 0
    private var broken = false
    /// Set while a `PostgresTransaction` on this connection has not sent its BEGIN: a statement
    /// sent directly now would run outside the transaction, so it throws instead.
    var transactionAwaitingBegin = false
    /// Set while a `PostgresTransaction` is open on this connection (made, not yet committed or
    /// rolled back).
    var transactionObjectOpen = false
    /// Set by `deferCommitFlush()`: the open transaction's COMMIT does not wait for the disk, so
    /// its `PostgresTransaction` waits for it after the COMMIT.
    var commitFlushDeferred = false
    /// Round trips to the server so far: each statement, script, pipeline, and preparing a
    /// statement outside a pipeline (for tests and metrics).
    public internal(set) var roundTrips = 0
    /// Statements sent so far (a script counts as one): each costs the server its executor
    /// start-up whatever it does, so tests can hold a transaction to its number.
    public internal(set) var statementsSent = 0

    /// Opens a connection; throws `connectionFailed` with libpq's message (no password in it).
    public init(configuration: PostgresConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        self.handle = try PGConnHandle.connect(configuration)
        handle.routeNotices(to: logger)
        if let setup = configuration.sessionSetupSQL { try executeScript(unsafeSQL: setup) }
    }

    /// Opens a connection from a URL with default settings.
    public convenience init(url: String, logger: Logger = Logger(label: "postgres")) throws {
        try self.init(configuration: PostgresConfiguration(url: url), logger: logger)
    }

    /// The same number for every connection of this process to one database URL (a process-local
    /// hash): what the store remembers per database (which signal dictionaries it holds).
    public var databaseKey: Int { configuration.url.hashValue }

    /// The server process serving this connection (what `pg_terminate_backend` takes).
    public var backendPID: Int32 { PQbackendPID(handle.raw) }

    /// False once a statement failed because the connection broke; the pool then discards it.
    public var isUsable: Bool { !broken && handle.isOK }

    /// True while a transaction is open (or failed and not yet rolled back).
    public var isInTransaction: Bool {
        let status = PQtransactionStatus(handle.raw)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE
    }

    /// Runs one statement with its bound parameters and returns its rows.
    ///
    /// The first run of a given SQL text (with the same parameter types) prepares it under a
    /// connection-local name; later runs only execute it, saving the server's parse and plan.
    @discardableResult
    public func query(_ query: PostgresQuery) throws -> PostgresRows {
        try checkUsable()
        let key = statementKey(query)
        let name: String
        if let cached = statements[key] {
            name = cached
        } else if let reserved = reserveStatementName(pending: 0) {
            name = reserved
            try prepare(name: name, query: query)
            rememberStatement(key, name)
        } else {
            return try executeUnnamed(query)
        }
        do {
            return try executePrepared(name, query)
        } catch let error as PostgresError
            where error.sqlState == .featureNotSupported && error.message.contains("cached plan") && !isInTransaction
        {
            // "cached plan must not change result type": the table changed under a prepared
            // `SELECT *` (a migration ran). Prepare it afresh, once; inside a transaction the
            // error has already aborted it, so it is the caller's to retry.
            statements[key] = nil
            try executeScript(unsafeSQL: "DEALLOCATE \(name)")
            try prepare(name: name, query: query)
            rememberStatement(key, name)
            return try executePrepared(name, query)
        }
    }

    private func executePrepared(_ name: String, _ query: PostgresQuery) throws -> PostgresRows {
        roundTrips += 1
        statementsSent += 1
        let result = withLibpqParameters(query.binds) { count, _, values, lengths, formats in
            PQexecPrepared(handle.raw, name, count, values, lengths, formats, query.binaryResults ? 1 : 0)
        }
        return try rows(from: result)
    }

    /// Runs a statement and returns the number of rows it affected.
    @discardableResult
    public func execute(_ query: PostgresQuery) throws -> Int {
        try self.query(query).affectedRows
    }

    /// Runs SQL text that may hold several statements and no parameters (migration files,
    /// `BEGIN`/`COMMIT`). Uses the simple query protocol, so nothing is prepared.
    public func executeScript(unsafeSQL sql: String) throws {
        try checkUsable()
        roundTrips += 1
        statementsSent += 1
        try rows(from: PQexec(handle.raw, sql))
    }

    /// Checks, without a round trip, that the server has not closed the connection while it sat
    /// idle (a terminated backend sends an error and closes the socket; we read that here).
    public func checkIdleHealth() -> Bool {
        guard isUsable, !isInTransaction else { return false }
        // A terminated backend leaves an error message and then EOF: the first read takes the
        // message, a second one sees the EOF. Read while the socket stays readable (bounded).
        for _ in 0..<4 {
            var pfd = pollfd(fd: PQsocket(handle.raw), events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, 0)
            if ready < 0 { return false }
            if ready == 0 { break }
            if PQconsumeInput(handle.raw) == 0 || !handle.isOK {
                broken = true
                return false
            }
            while let notify = PQnotifies(handle.raw) { PQfreemem(notify) }
        }
        return handle.isOK
    }

    /// Statements prepared on this connection so far (for tests and metrics).
    public var preparedStatementCount: Int { statements.count }

    // MARK: - libpq plumbing

    func checkUsable() throws {
        guard isUsable else {
            throw PostgresError(code: .connectionLost, message: "connection is broken")
        }
        if transactionAwaitingBegin {
            throw PostgresError(
                code: .protocolViolation,
                message: "statement sent before its transaction began: add it to the transaction, or call send() first")
        }
    }

    func markBroken() { broken = true }

    func cachedStatement(_ key: StatementKey) -> String? { statements[key] }

    /// A fresh statement name, or nil when the cache (plus `pending` names not yet remembered)
    /// is full and the statement should run unnamed.
    func reserveStatementName(pending: Int) -> String? {
        guard statements.count + pending < configuration.statementCacheCapacity else { return nil }
        statementCounter += 1
        return "lr_\(statementCounter)"
    }

    func rememberStatement(_ key: StatementKey, _ name: String) { statements[key] = name }

    func statementKey(_ query: PostgresQuery) -> StatementKey {
        StatementKey(sql: query.sql, types: query.binds.map(\.type.rawValue))
    }

    private func prepare(name: String, query: PostgresQuery) throws {
        let types = query.binds.map { Oid($0.type.rawValue) }
        roundTrips += 1
        let result = PQprepare(handle.raw, name, query.sql, Int32(types.count), types)
        try rows(from: result)
    }

    private func executeUnnamed(_ query: PostgresQuery) throws -> PostgresRows {
        roundTrips += 1
        statementsSent += 1
        let result = withLibpqParameters(query.binds) { count, types, values, lengths, formats in
            PQexecParams(handle.raw, query.sql, count, types, values, lengths, formats, query.binaryResults ? 1 : 0)
        }
        return try rows(from: result)
    }

    /// Wraps a libpq result: owns it, turns error statuses into `PostgresError`, and marks the
    /// connection broken when libpq says it is.
    @discardableResult
    func rows(from raw: OpaquePointer?) throws -> PostgresRows {
        guard let raw else {
            if !handle.isOK { broken = true }
            throw PostgresError(
                code: handle.isOK ? .queryFailed : .connectionLost, message: handle.errorMessage)
        }
        let result = PGResultHandle(raw: raw)
        switch result.status {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY, PGRES_SINGLE_TUPLE:
            return PostgresRows(result: result)
        case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR, PGRES_BAD_RESPONSE:
            let error = result.error(connectionBroken: !handle.isOK)
            // A lost connection, or a session that must not be reused (a standby's read-only
            // session after a failover, 25006; an admin shutdown): the pool discards it.
            if error.isConnectionError { broken = true }
            throw error
        default:
            throw PostgresError(
                code: .protocolViolation,
                message: "unexpected result status \(String(cString: PQresStatus(result.status)))")
        }
    }
}

/// A prepared statement is specific to its SQL text and its parameter types.
///
/// Hashing samples the text — its length and its first and last `sampled` bytes — instead of
/// running SipHash over all of it: a lane looks up ~16 statements per event, several of them
/// kilobytes of SQL, and hashing every byte cost ~2.5 k instructions a lookup, ~4 % of the
/// server's instructions per single event (docs/benchmarks/ingest.md, 2026-12-08 "lr-cpu").
/// Equality still compares every byte, so texts that share the samples only share a bucket.
struct StatementKey: Hashable {
    var sql: String
    var types: [UInt32]

    static let sampled = 64

    static func == (a: StatementKey, b: StatementKey) -> Bool {
        guard a.types == b.types else { return false }
        var left = a.sql, right = b.sql
        return left.withUTF8 { l in
            right.withUTF8 { r in
                guard l.count == r.count else { return false }
                // One text in two keys (the cached key and a query built from the same constant).
                if l.baseAddress == r.baseAddress || l.isEmpty { return true }
                return memcmp(l.baseAddress!, r.baseAddress!, l.count) == 0
            }
        }
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(types)
        var text = sql
        text.withUTF8 { bytes in
            hasher.combine(bytes.count)
            let raw = UnsafeRawBufferPointer(bytes)
            hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: raw.prefix(Self.sampled)))
            hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: raw.suffix(Self.sampled)))
        }
    }
}

/// Lays the parameters out the way libpq wants them: one buffer holding every value (text values
/// NUL-terminated), with arrays of pointers, lengths, formats and type OIDs into it. Everything
/// lives in temporary (usually stack) memory for the duration of the call: no heap allocation
/// per statement for the common small case.
func withLibpqParameters<R>(
    _ binds: [PostgresBind],
    _ body: (
        Int32, UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?,
        UnsafePointer<Int32>?
    ) -> R
) -> R {
    let count = binds.count
    var total = 0
    for bind in binds { total += (bind.bytes?.count ?? 0) + 1 }
    return withUnsafeTemporaryAllocation(of: CChar.self, capacity: max(total, 1)) { storage in
        withUnsafeTemporaryAllocation(of: UnsafePointer<CChar>?.self, capacity: max(count, 1)) { values in
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: max(count * 2, 1)) { ints in
                withUnsafeTemporaryAllocation(of: Oid.self, capacity: max(count, 1)) { types in
                    var offset = 0
                    for (index, bind) in binds.enumerated() {
                        types[index] = Oid(bind.type.rawValue)
                        ints[count + index] = bind.isBinary ? 1 : 0
                        guard let bytes = bind.bytes else {
                            values[index] = nil
                            ints[index] = 0
                            continue
                        }
                        let start = storage.baseAddress! + offset
                        bytes.withUnsafeBytes { raw in
                            if let source = raw.baseAddress {
                                UnsafeMutableRawPointer(start).copyMemory(from: source, byteCount: raw.count)
                            }
                        }
                        start[bytes.count] = 0
                        values[index] = UnsafePointer(start)
                        ints[index] = Int32(bytes.count)
                        offset += bytes.count + 1
                    }
                    return body(
                        Int32(count), UnsafePointer(types.baseAddress), UnsafePointer(values.baseAddress),
                        UnsafePointer(ints.baseAddress), UnsafePointer(ints.baseAddress.map { $0 + count }))
                }
            }
        }
    }
}
