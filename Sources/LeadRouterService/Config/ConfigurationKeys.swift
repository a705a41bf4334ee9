/// Every setting once: its YAML key, environment variable, command-line flag, and how a text
/// value is checked and applied. YAML, flags and environment all go through the same parser,
/// so a bad value reads the same wherever it came from.
struct ConfigurationKey: Sendable {
    /// Dotted YAML path, e.g. `server.limits.max_body_bytes`.
    let path: String
    /// `LEADROUTER_…`.
    let environment: String
    /// Flag name without dashes, when the `serve` command has one.
    let flag: String?
    let apply: @Sendable (inout ServiceConfiguration, String) throws(ValueError) -> Void

    struct ValueError: Error { let message: String }

    static let all: [ConfigurationKey] = [
        text("server.host", "LEADROUTER_HOST", flag: "host") { c, v throws(ValueError) in
            guard !v.isEmpty else { throw ValueError(message: "an address is required") }
            c.server.host = v
        },
        integer("server.port", "LEADROUTER_PORT", flag: "port", 0...65535) { $0.server.port = $1 },
        integer("server.event_loops", "LEADROUTER_EVENT_LOOPS", flag: "event-loops", 0...1024) { $0.server.eventLoops = $1 },
        integer("server.worker_threads", "LEADROUTER_WORKER_THREADS", flag: "worker-threads", 0...4096) { $0.server.workerThreads = $1 },
        integer("server.worker_queue_depth", "LEADROUTER_WORKER_QUEUE_DEPTH", 1...1_000_000) { $0.server.workerQueueDepth = $1 },
        integer("server.max_connections", "LEADROUTER_MAX_CONNECTIONS", flag: "max-connections", 1...1_000_000) { $0.server.maxConnections = $1 },
        integer("server.max_pipelined_requests", "LEADROUTER_MAX_PIPELINED_REQUESTS", 1...1024) { $0.server.maxPipelinedRequests = $1 },
        duration("server.header_read_timeout", "LEADROUTER_HEADER_READ_TIMEOUT") { $0.server.headerReadTimeout = $1 },
        duration("server.idle_timeout", "LEADROUTER_IDLE_TIMEOUT") { $0.server.idleTimeout = $1 },
        duration("server.shutdown_grace_period", "LEADROUTER_SHUTDOWN_GRACE_PERIOD") { $0.server.shutdownGracePeriod = $1 },
        integer("server.limits.max_request_line_bytes", "LEADROUTER_MAX_REQUEST_LINE_BYTES", 64...1 << 20) { $0.server.maxRequestLineBytes = $1 },
        integer("server.limits.max_header_bytes", "LEADROUTER_MAX_HEADER_BYTES", 256...1 << 24) { $0.server.maxHeaderBytes = $1 },
        integer("server.limits.max_header_fields", "LEADROUTER_MAX_HEADER_FIELDS", 1...10_000) { $0.server.maxHeaderFields = $1 },
        integer("server.limits.max_body_bytes", "LEADROUTER_MAX_BODY_BYTES", 0...1 << 31) { $0.server.maxBodyBytes = $1 },
        text("server.tls.certificate", "LEADROUTER_TLS_CERTIFICATE", flag: "tls-certificate") { $0.server.tlsCertificate = $1 },
        text("server.tls.key", "LEADROUTER_TLS_KEY", flag: "tls-key") { $0.server.tlsKey = $1 },
        integer("ingest.lanes", "LEADROUTER_INGEST_LANES", flag: "ingest-lanes", 1...256) { $0.ingestLanes = $1 },
        text("logging.level", "LEADROUTER_LOG_LEVEL", flag: "log-level") { c, v throws(ValueError) in
            let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
            guard levels.contains(v) else { throw ValueError(message: "expected one of \(levels.joined(separator: ", ")), got \"\(v)\"") }
            c.logLevel = v
        },
        flag("logging.personal_data", "LEADROUTER_LOG_PERSONAL_DATA") { $0.logPersonalData = $1 },
        text("logging.format", "LEADROUTER_LOG_FORMAT") { c, v throws(ValueError) in
            guard ["text", "json"].contains(v) else { throw ValueError(message: "expected text or json, got \"\(v)\"") }
            c.logFormat = v
        },
        integer("metrics.port", "LEADROUTER_METRICS_PORT", 0...65535) { $0.metricsPort = $1 == 0 ? nil : $1 },
    ] + webhookKeys + ingestKeys + limitKeys + privacyKeys + insightKeys + rulesetKeys

    static func text(_ path: String, _ env: String, flag: String? = nil,
                     _ set: @escaping @Sendable (inout ServiceConfiguration, String) throws(ValueError) -> Void) -> ConfigurationKey {
        ConfigurationKey(path: path, environment: env, flag: flag, apply: set)
    }

    static func integer(_ path: String, _ env: String, flag: String? = nil, _ range: ClosedRange<Int>,
                        _ set: @escaping @Sendable (inout ServiceConfiguration, Int) -> Void) -> ConfigurationKey {
        ConfigurationKey(path: path, environment: env, flag: flag) { c, v throws(ValueError) in
            guard let n = Int(v.replacingOccurrences(of: "_", with: "")) else {
                throw ValueError(message: "expected a whole number, got \"\(v)\"")
            }
            guard range.contains(n) else {
                throw ValueError(message: "\(n) is out of range \(range.lowerBound)…\(range.upperBound)")
            }
            set(&c, n)
        }
    }

    /// Durations: `250ms`, `10s`, `2m`, `1h`, or a bare number of seconds.
    static func duration(_ path: String, _ env: String, flag: String? = nil, max: Double = 86_400,
                         _ set: @escaping @Sendable (inout ServiceConfiguration, Double) -> Void) -> ConfigurationKey {
        ConfigurationKey(path: path, environment: env, flag: flag) { c, v throws(ValueError) in
            guard let seconds = parseDuration(v), seconds > 0, seconds <= max else {
                throw ValueError(message: "expected a duration like 500ms, 10s or 2m (more than 0, at most \(Int(max / 3600))h), got \"\(v)\"")
            }
            set(&c, seconds)
        }
    }

    static func parseDuration(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            return Double(text.dropLast(suffix.count)).map { $0 * scale }
        }
        return Double(text)
    }
}
