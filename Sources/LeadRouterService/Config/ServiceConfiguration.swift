import HTTPAPI
import HTTPServer
import Webhooks
import Ingest
import LeadStore
import Insight
import Privacy
import Foundation

/// The service's settings, resolved from defaults, `config/leadrouter.yaml`, command-line flags
/// and `LEADROUTER_*` environment variables (each overriding the one before). Later issues add
/// database and rules sections next to `server`.
public struct ServiceConfiguration: Sendable, Equatable {
    /// The HTTP listener.
    public var server = ServerSettings()
    /// The `webhooks:` section: delivery settings and configured subscriptions.
    public var webhooks = WebhookSettings()
    /// Minimum log level: trace, debug, info, notice, warning, error, critical.
    public var logLevel = "info"
    /// `logging.personal_data`: log client addresses and query values (for debugging only; off
    /// by default, so log lines carry no IP address, email or key — docs/privacy.md).
    public var logPersonalData = false
    /// `logging.format`: `text` (one line per entry) or `json` (one JSON object per line).
    public var logFormat = "text"
    /// `metrics.port`: a second listener serving only `/metrics`, unauthenticated; nil for none.
    public var metricsPort: Int?
    /// `drift.*`: how `GET /v1/drift` judges drift.
    public var drift = DriftSettings()
    /// `metrics.rollup_fold_interval`: seconds between folds of the metrics rollup deltas.
    public var rollupFoldInterval = 2.0
    /// Group-commit writer lanes (`ingest.lanes`): more lanes commit more batches at once, fewer
    /// lanes put more messages in each commit. Two: a lane batch costs PostgreSQL ~1.5 ms whatever
    /// its size, so doubling the batches took ~27 % off its CPU per single event
    /// (docs/benchmarks/ingest.md, 2026-12-07 "pg-plan").
    public var ingestLanes = 2
    /// `ingest.limits.*`: message and batch sizes, identifier lengths, the accepted event-time window.
    public var ingestLimits = IngestLimits()
    /// `ingest.cors_allowed_origins`: browser origins allowed by default (none unless set).
    public var corsAllowedOrigins = AllowedOrigins.none
    /// `rate_limits.*`: 429 per API key and per client address without a valid key.
    public var rateLimits = RateLimitSettings()
    /// `database.statement_timeout`: seconds each statement of a write-path transaction may run
    /// (then 57014, answered 503); nil (`0` in the file) leaves the server's setting.
    public var statementTimeout: Double? = 5
    /// `database.read_max_lag`: seconds a read replica (`DATABASE_READ_URL`) may lag before the
    /// read API skips it for the primary.
    public var readMaxLag: Double = 5
    /// `database.commit_wait`: seconds an ingest request waits for its transaction to commit
    /// before answering 503 "outcome unknown" (a COMMIT stuck on a synchronous standby).
    public var commitWait: Double = 30
    /// `retention.*` and `ingest.idempotency_window`: how long each kind of row is kept.
    public var retention = RetentionSettings()
    /// `retention.context_ip`: what ingest stores of `context.ip` (truncate, drop, keep).
    public var contextIP = ContextIPPolicy.truncate
    /// `rulesets.*`: how a node follows activations (docs/rulesets.md).
    public var rulesets = RulesetSettings()
    /// Which keys were set, to what text, by which source (`leadrouter config print`).
    public var origins = SettingOrigins()

    /// All defaults (what an empty file gives).
    public init() {}
}

/// The `rulesets:` section.
public struct RulesetSettings: Sendable, Equatable {
    /// Seconds between a node's own looks for another active version (NOTIFY is the fast path).
    public var checkInterval = 1.0
    /// Leads re-evaluated per second after an activation (per node running the sweeper).
    public var reevaluationRate = 500
    /// The share of leads whose routing a version's last backtest may move before activating it
    /// needs `{"confirm": true}`.
    public var confirmAbove = 0.1
    /// Replay threads per backtest; 0 = one per core (`RulesetSettings.workers`).
    public var backtestWorkers = 0
    /// `backtestWorkers` with 0 resolved to the core count.
    public var workers: Int { backtestWorkers > 0 ? backtestWorkers : ProcessInfo.processInfo.activeProcessorCount }
    public init() {}
}

/// The `server:` section; zero thread counts mean "derive from the core count".
public struct ServerSettings: Sendable, Equatable {
    /// Numeric IPv4/IPv6 listen address.
    public var host = "127.0.0.1"
    /// Listen port; 0 = any free port.
    public var port = 8080
    /// Event loops; 0 = one per core.
    public var eventLoops = 0
    /// Handler threads; 0 = two per core, at least 4.
    public var workerThreads = 0
    /// Requests waiting for a worker before `503`.
    public var workerQueueDepth = 1024
    /// Open connections before `503` and close.
    public var maxConnections = 10_000
    /// Requests read ahead of their answers per connection.
    public var maxPipelinedRequests = 16
    /// Seconds for a request head to arrive (408 after).
    public var headerReadTimeout = 10.0
    /// Seconds an idle keep-alive connection stays open.
    public var idleTimeout = 60.0
    /// Seconds in-flight requests get on shutdown.
    public var shutdownGracePeriod = 10.0
    /// Request line limit (414 beyond).
    public var maxRequestLineBytes = 8 * 1024
    /// Header block limit (431 beyond).
    public var maxHeaderBytes = 32 * 1024
    /// Header field count limit (431 beyond).
    public var maxHeaderFields = 100
    /// Default body limit per route (413 beyond).
    public var maxBodyBytes = 1 << 20
    /// PEM paths; both empty = plain HTTP, both set = HTTPS.
    public var tlsCertificate = ""
    /// PEM private key for `tlsCertificate`.
    public var tlsKey = ""

    /// All defaults.
    public init() {}

    /// The server configuration these settings describe.
    public var httpServerConfiguration: HTTPServerConfiguration {
        var c = HTTPServerConfiguration()
        c.host = host
        c.port = port
        if eventLoops > 0 { c.eventLoopCount = eventLoops }
        if workerThreads > 0 { c.workerThreads = workerThreads }
        c.workerQueueDepth = workerQueueDepth
        c.maxConnections = maxConnections
        c.maxPipelinedRequests = maxPipelinedRequests
        c.headerReadTimeout = headerReadTimeout
        c.idleTimeout = idleTimeout
        c.shutdownGracePeriod = shutdownGracePeriod
        c.parserLimits.maxRequestLineBytes = maxRequestLineBytes
        c.parserLimits.maxHeaderBytes = maxHeaderBytes
        c.parserLimits.maxHeaderFields = maxHeaderFields
        c.parserLimits.maxBodyBytes = maxBodyBytes
        if !tlsCertificate.isEmpty || !tlsKey.isEmpty {
            c.tls = TLSConfiguration(certificatePath: tlsCertificate, keyPath: tlsKey)
        }
        return c
    }
}

/// A setting that could not be used: where it came from, which key, and why — safe to print.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    /// `config/leadrouter.yaml:12:3`, `--port`, or `LEADROUTER_PORT`.
    public var source: String
    /// The dotted key, e.g. `server.port`.
    public var key: String
    /// What is wrong and what was expected.
    public var message: String

    /// A configuration error for `key` from `source`.
    public init(source: String, key: String, message: String) {
        self.source = source; self.key = key; self.message = message
    }

    /// `source: key: message`, safe to show a user.
    public var description: String { "\(source): \(key): \(message)" }
}

/// The text and source (`file:line:column`, `--flag`, `LEADROUTER_*`) of every key that was set,
/// the last source winning. Not part of equality: two configurations with the same settings
/// are equal wherever their settings came from.
public struct SettingOrigins: Sendable, Equatable {
    /// One key's setting as given.
    public struct Origin: Sendable, Equatable {
        public var text: String
        public var source: String
    }
    /// By dotted key path (`server.port`).
    public internal(set) var byPath: [String: Origin] = [:]

    public static func == (_: SettingOrigins, _: SettingOrigins) -> Bool { true }
}
