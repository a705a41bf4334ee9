/// How to reach PostgreSQL: a libpq connection string (URL or `key=value` conninfo) plus the
/// settings this module adds on top of it.
///
/// The URL is passed to libpq untouched, so everything libpq understands (`sslmode`,
/// `sslrootcert`, `target_session_attrs`, multiple hosts, …) works; we only add
/// `connect_timeout` and `application_name` when the URL does not set them.
public struct PostgresConfiguration: Sendable {
    /// `postgresql://user:pass@host:port/db?sslmode=require` or `host=… dbname=…`.
    public var url: String
    /// Seconds libpq waits for a connection to be established (`connect_timeout`).
    public var connectTimeoutSeconds: Int
    /// Shown in `pg_stat_activity`; lets operators tell nodes and roles apart.
    public var applicationName: String
    /// Prepared statements kept per connection; beyond this, statements run unnamed.
    public var statementCacheCapacity: Int
    /// Settings every session of this configuration starts with (`synchronous_commit=off` for a
    /// pool whose commits may be lost in a crash), sent in the startup packet: no round trip.
    /// Names and values are the service's own constants (letters, digits, `_`, `.`), never input.
    public var sessionSettings: [(name: String, value: String)]
    /// Seconds each statement of a transaction (`withTransaction`, `withPipelinedTransaction`)
    /// may run before the server cancels it (SQLSTATE 57014, `isUnavailable`): sent as
    /// `SET LOCAL statement_timeout` in the round trip that carries BEGIN, so it costs no round
    /// trip and ends with the transaction. nil leaves the server's setting (statements outside
    /// transactions never get it).
    public var transactionStatementTimeout: Double?
    /// Seconds unacknowledged data may sit on a connection's socket before the kernel fails it
    /// (libpq `tcp_user_timeout`, with keepalives after 5 s idle, then every 2 s, 3 probes),
    /// unless the URL sets `tcp_user_timeout` or `keepalives` itself. Bounds how long a node
    /// waits on a primary that vanished without closing its sockets (docs/scale-out.md).
    public var tcpUserTimeoutSeconds: Int = 10

    /// Creates a configuration; `url` is usually the `DATABASE_URL` environment variable.
    public init(
        url: String, connectTimeoutSeconds: Int = 5, applicationName: String = "leadrouter",
        statementCacheCapacity: Int = 256, sessionSettings: [(name: String, value: String)] = []
    ) {
        precondition(sessionSettings.allSatisfy { Self.isPlain($0.name) && Self.isPlain($0.value) },
                     "session settings are constants of letters, digits, '_' and '.'")
        self.sessionSettings = sessionSettings
        self.url = url
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.applicationName = applicationName
        self.statementCacheCapacity = statementCacheCapacity
    }

    /// Keyword/value pairs handed to `PQconnectdbParams` with `expand_dbname`: the URL first,
    /// then our defaults; libpq lets the URL's own settings win over later defaults only if we
    /// leave them out, so defaults are added only when the URL does not mention them.
    var connectionParameters: [(String, String)] {
        var params: [(String, String)] = [("dbname", url)]
        if !url.contains("connect_timeout") {
            params.append(("connect_timeout", String(connectTimeoutSeconds)))
        }
        // A dead primary behind a half-open TCP connection (a failover, a partition) must not
        // hold a thread for ever: TCP keepalives and a user timeout make the kernel fail the
        // socket within about `tcpTimeoutSeconds`, so the pool discards it and reconnects.
        if !url.contains("keepalives") {
            params += [("keepalives", "1"), ("keepalives_idle", "5"), ("keepalives_interval", "2"),
                       ("keepalives_count", "3")]
        }
        if !url.contains("tcp_user_timeout") {
            params.append(("tcp_user_timeout", String(tcpUserTimeoutSeconds * 1000)))
        }
        if !url.contains("application_name") {
            params.append(("application_name", applicationName))
        }
        // Text results must be parseable without guessing: UTC, ISO dates, exact floats.
        // When the URL brings its own `options`, the same settings are sent as SET after connect.
        if !url.contains("options") {
            let extra = sessionSettings.map { " -c \($0.name)=\($0.value)" }.joined()
            params.append(("options", "-c TimeZone=UTC -c DateStyle=ISO,YMD -c extra_float_digits=3" + extra))
        }
        return params
    }

    /// Run after connecting when the URL's own `options` kept ours out of the startup packet.
    var sessionSetupSQL: String? {
        guard url.contains("options") else { return nil }
        let extra = sessionSettings.map { "; SET \($0.name) = '\($0.value)'" }.joined()
        return "SET TimeZone='UTC'; SET DateStyle='ISO, YMD'; SET extra_float_digits=3" + extra
    }

    private static func isPlain(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { $0 == 0x5F || $0 == 0x2E || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
    }
}
