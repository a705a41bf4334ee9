/// A statement and its parameters, built so that values can never become SQL text.
///
/// Every interpolated value becomes a placeholder (`$1`, `$2`, …) and a bound parameter:
///
///     let rows = try conn.query("SELECT id FROM leads WHERE email = \(email) AND score > \(min)")
///
/// SQL that is assembled at run time (identifiers, generated lists) must be marked with
/// `PostgresQuery(unsafeRaw:)` or `\(unsafeRaw: …)` so that reviewers see the risk.
public struct PostgresQuery: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The SQL text with `$n` placeholders.
    public var sql: String
    /// The parameters, in placeholder order.
    public var binds: [PostgresBind]
    /// Asks for every result column in PostgreSQL's binary format instead of text. Only for
    /// large results read with `PostgresRow.int(at:)`, `index(at:in:)` and `epochMicroseconds(at:)`
    /// (`decode` refuses binary columns): a `timestamptz` then costs the server no text at all
    /// (the stage funnel by hour is 105 000 rows; docs/benchmarks/insight.md).
    public var binaryResults = false

    /// Raw SQL, taken as written: never pass text that contains user input.
    public init(unsafeRaw sql: String, binds: [PostgresBind] = []) {
        self.sql = sql
        self.binds = binds
    }

    /// A literal without interpolations is SQL written in the source, hence safe.
    public init(stringLiteral value: String) {
        self.init(unsafeRaw: value)
    }

    /// The query an interpolated literal built.
    public init(stringInterpolation: StringInterpolation) {
        self.init(unsafeRaw: stringInterpolation.sql, binds: stringInterpolation.binds)
    }

    /// The SQL only: parameter values stay out of logs.
    public var description: String { sql }

    /// Appends a parameter and returns its placeholder, for statements built in a loop.
    public mutating func bind<T: PostgresEncodable>(_ value: T) -> String {
        binds.append(value.postgresBind)
        return "$\(binds.count)"
    }

    /// Collects SQL text and turns each interpolated value into a `$n` placeholder.
    public struct StringInterpolation: StringInterpolationProtocol {
        var sql = ""
        var binds: [PostgresBind] = []

        /// Reserves room for the SQL and its parameters.
        public init(literalCapacity: Int, interpolationCount: Int) {
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
            binds.reserveCapacity(interpolationCount)
        }

        /// SQL text from the literal, taken as written.
        public mutating func appendLiteral(_ literal: String) { sql += literal }

        /// Binds `value` as the next parameter.
        public mutating func appendInterpolation<T: PostgresEncodable>(_ value: T) {
            binds.append(value.postgresBind)
            sql += "$\(binds.count)"
        }

        /// Binds an optional as the next parameter (NULL for nil). Spelled out so that binding an
        /// optional is not flagged as an accidental "Optional(…)" interpolation.
        public mutating func appendInterpolation<T: PostgresEncodable>(_ value: T?) {
            binds.append(value.postgresBind)
            sql += "$\(binds.count)"
        }

        /// Binds an already encoded parameter.
        public mutating func appendInterpolation(bind: PostgresBind) {
            binds.append(bind)
            sql += "$\(binds.count)"
        }

        /// Inserts SQL text verbatim (an identifier you chose, not user input).
        public mutating func appendInterpolation(unsafeRaw text: String) { sql += text }
    }
}
