/// A five-character SQLSTATE as the server reports it, with names for the codes leadrouter
/// branches on (modelled on postgres-nio's `PostgresError.Code`; the list is PostgreSQL's
/// "Appendix A. PostgreSQL Error Codes").
///
/// Compare with the names (`error.sqlState == .uniqueViolation`) or, for a family of codes, with
/// the class helpers (`isConnectionException`, `isInsufficientResources`, …). A string literal
/// also works (`"23505"`), for codes without a name here.
public struct SQLState: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The five characters, e.g. `23505`.
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    public init(stringLiteral value: String) { self.rawValue = value }

    public var description: String { rawValue }

    /// The class: the first two characters (`23` for every integrity constraint violation).
    public var `class`: String { String(rawValue.prefix(2)) }

    /// Class 08: the connection broke or could not be made.
    public var isConnectionException: Bool { self.class == "08" }
    /// Class 22: a value was invalid for its type or operation (the message quotes the input).
    public var isDataException: Bool { self.class == "22" }
    /// Class 23: a constraint (unique, foreign key, check, not null, exclusion) was violated.
    public var isIntegrityConstraintViolation: Bool { self.class == "23" }
    /// Class 40: the transaction was rolled back (serialization failure, deadlock, …).
    public var isTransactionRollback: Bool { self.class == "40" }
    /// Class 53: the server ran out of something (disk, memory, connection slots).
    public var isInsufficientResources: Bool { self.class == "53" }
    /// Class 54: a statement exceeded a server limit (too many columns, too complex, …).
    public var isProgramLimitExceeded: Bool { self.class == "54" }
    /// Class 57: an operator or the server intervened (cancel, statement timeout, shutdown).
    public var isOperatorIntervention: Bool { self.class == "57" }

    // Class 08 — connection exception
    public static let connectionException: SQLState = "08000"
    public static let connectionDoesNotExist: SQLState = "08003"
    public static let connectionFailure: SQLState = "08006"
    public static let sqlClientUnableToEstablishSQLConnection: SQLState = "08001"
    public static let protocolViolation: SQLState = "08P01"
    // Class 0A — feature not supported
    public static let featureNotSupported: SQLState = "0A000"
    // Class 22 — data exception
    public static let dataException: SQLState = "22000"
    public static let numericValueOutOfRange: SQLState = "22003"
    public static let invalidDatetimeFormat: SQLState = "22007"
    public static let divisionByZero: SQLState = "22012"
    public static let invalidTextRepresentation: SQLState = "22P02"
    // Class 23 — integrity constraint violation
    public static let integrityConstraintViolation: SQLState = "23000"
    public static let notNullViolation: SQLState = "23502"
    public static let foreignKeyViolation: SQLState = "23503"
    public static let uniqueViolation: SQLState = "23505"
    public static let checkViolation: SQLState = "23514"
    public static let exclusionViolation: SQLState = "23P01"
    // Class 25 — invalid transaction state
    public static let activeSQLTransaction: SQLState = "25001"
    /// A write on a read-only session: after a failover, a connection that reached a standby (or
    /// a demoted primary) before `target_session_attrs` could tell.
    public static let readOnlySQLTransaction: SQLState = "25006"
    public static let inFailedSQLTransaction: SQLState = "25P02"
    // Class 40 — transaction rollback
    public static let transactionRollback: SQLState = "40000"
    public static let serializationFailure: SQLState = "40001"
    public static let deadlockDetected: SQLState = "40P01"
    // Class 42 — syntax error or access rule violation
    public static let syntaxError: SQLState = "42601"
    public static let undefinedColumn: SQLState = "42703"
    public static let undefinedTable: SQLState = "42P01"
    // Class 53 — insufficient resources
    public static let insufficientResources: SQLState = "53000"
    public static let diskFull: SQLState = "53100"
    public static let outOfMemory: SQLState = "53200"
    public static let tooManyConnections: SQLState = "53300"
    // Class 54 — program limit exceeded
    public static let programLimitExceeded: SQLState = "54000"
    // Class 55 — object not in prerequisite state
    public static let lockNotAvailable: SQLState = "55P03"
    // Class 57 — operator intervention
    public static let queryCanceled: SQLState = "57014"
    public static let adminShutdown: SQLState = "57P01"
    public static let crashShutdown: SQLState = "57P02"
    public static let cannotConnectNow: SQLState = "57P03"
}
