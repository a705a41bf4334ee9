/// Every failure of the Postgres module, with what the server said and where it happened.
///
/// A struct rather than an enum so that callers can branch on `code` and `sqlState` while the
/// server's diagnostic fields travel along. `description` is safe to log or show a user: it never
/// contains bound parameter values (the server's `detail`, which may quote row values, is kept in
/// its own field and left out of the description).
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    /// Our classification of a failure; stable across PostgreSQL versions.
    public enum Code: String, Sendable {
        /// Could not open a connection (bad URL, server down, authentication refused).
        case connectionFailed
        /// The connection broke while in use (backend terminated, network gone).
        case connectionLost
        /// The server rejected a statement; see `sqlState`.
        case queryFailed
        /// A statement ran past `statement_timeout` (SQLSTATE 57014) or was cancelled.
        case timeout
        /// The pool had no connection to lend before the acquire timeout.
        case acquireTimeout
        /// The pool or listener was shut down.
        case closed
        /// A column could not be decoded into the requested Swift type.
        case decoding
        /// A configuration value (URL, pool size) is unusable.
        case invalidConfiguration
        /// A migration file is missing, malformed, changed after being applied, or failed.
        case migration
        /// libpq answered in a way the protocol does not allow here.
        case protocolViolation
        /// The connection broke during the round trip that carried a transaction's COMMIT: the
        /// transaction may or may not have committed (any other failure of a transaction means
        /// it was rolled back). The connection is not reused.
        case commitOutcomeUnknown
    }

    /// Our classification; branch on this.
    public var code: Code
    /// The five-character SQLSTATE the server reported, e.g. `.uniqueViolation` (`23505`).
    public var sqlState: SQLState?
    /// The primary message (server's or ours).
    public var message: String
    /// The server's DETAIL; may quote row values, hence not part of `description`.
    public var detail: String?
    /// The server's HINT.
    public var hint: String?
    /// The violated constraint, for integrity errors.
    public var constraint: String?
    /// The table the server names.
    public var table: String?
    /// The column the server or the row decoder names.
    public var column: String?
    /// `errno` captured where a system call failed (socket waits), when one did.
    public var errno: Int32?

    /// Creates an error; most are made by the module itself.
    public init(
        code: Code, sqlState: SQLState? = nil, message: String, detail: String? = nil,
        hint: String? = nil, constraint: String? = nil, table: String? = nil,
        column: String? = nil, errno: Int32? = nil
    ) {
        self.code = code
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
        self.table = table
        self.column = column
        self.errno = errno
    }

    /// True when the connection that produced this error must not be reused (SQLSTATE class 08,
    /// admin shutdown 57P0x, libpq reporting a broken connection, a COMMIT whose outcome is
    /// unknown because the connection broke under it, or 25006: the session is read-only, so it
    /// is on a standby or a demoted primary and a new connection must look for the primary).
    public var isConnectionError: Bool {
        if code == .connectionLost || code == .connectionFailed || code == .commitOutcomeUnknown { return true }
        guard let state = sqlState else { return false }
        return state.isConnectionException || state == .adminShutdown || state == .crashShutdown || state == .cannotConnectNow
            || state == .readOnlySQLTransaction
    }

    /// True for failures that a transaction may simply run again: serialization failure (40001)
    /// and deadlock (40P01).
    public var isTransactionRetryable: Bool {
        sqlState == .serializationFailure || sqlState == .deadlockDetected
    }

    /// True when the database is unreachable or overloaded rather than the request being wrong:
    /// the connection failed or broke (also under a COMMIT, whose outcome is then unknown), the
    /// pool had no connection to lend or is closed, a statement timed out or was cancelled
    /// (57014), or the server ran out of resources (class 53). An API answers these with 503 and
    /// `Retry-After`.
    public var isUnavailable: Bool {
        switch code {
        case .connectionFailed, .connectionLost, .commitOutcomeUnknown, .acquireTimeout, .closed, .timeout: return true
        default: return isConnectionError || sqlState == .queryCanceled || sqlState?.isInsufficientResources == true
        }
    }

    /// A one-line summary without parameter values: for data exceptions (class 22) the server
    /// quotes the offending input, so quoted text in the message is redacted there.
    public var description: String {
        var text = "postgres \(code.rawValue)"
        if let sqlState { text += " [\(sqlState)]" }
        let shown = sqlState?.isDataException == true ? Self.redactingQuotes(message) : message
        text += ": \(shown)"
        if let constraint { text += " (constraint \(constraint))" }
        if let table { text += " (table \(table))" }
        if let column { text += " (column \(column))" }
        if let hint { text += " hint: \(hint)" }
        return text
    }

    static func redactingQuotes(_ message: String) -> String {
        var out = ""
        var inQuote = false
        for ch in message {
            if ch == "\"" {
                out.append(ch)
                if !inQuote { out += "…" }
                inQuote.toggle()
            } else if !inQuote {
                out.append(ch)
            }
        }
        return out
    }
}
