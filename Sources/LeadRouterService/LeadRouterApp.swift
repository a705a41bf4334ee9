import Embedded
import Essentials
import Foundation
import HTTPAPI
import HTTPServer
import Ingest
import Insight
import LeadStore
import Logging
import Postgres
import Privacy
import Profiles
import RulesTools
import Rulesets
import SalesQueues
import Segmentation
import Webhooks

/// The running service: database pool, active ruleset, ingest pipeline, sweeper and the HTTP
/// API, put together once for `serve`, `dev` and the end-to-end tests.
public final class LeadRouterApp: @unchecked Sendable {
    /// What the service needs to start.
    public struct Options: Sendable {
        public var databaseURL: String
        /// Ruleset YAML text and the name it is reported under (`config/segments.yaml`).
        public var rulesYAML: String
        public var rulesFileName: String
        /// The note of the version a changed file becomes (`serve --note`); nil: the file's
        /// `# note:` first line, else one naming the file.
        public var rulesNote: String?
        /// Serve the active stored version when there is one, and the file only when none is
        /// (`serve` without `--rules`); false: the file's text becomes the active version.
        public var rulesFromDatabase = false
        /// How often a node looks for another active version besides NOTIFY (`rulesets.check_interval`).
        public var rulesetCheckInterval = 1.0
        /// Leads re-evaluated per second after an activation (`rulesets.reevaluation_rate`).
        public var reevaluationRate = 500
        /// An activation whose last backtest moves more than this share of the leads' routing
        /// needs `{"confirm": true}` (`rulesets.confirm_above`).
        public var rulesetConfirmAbove = 0.1
        /// Run queued jobs (backtests) on this node.
        public var runJobs = true
        /// Replay threads per backtest (`rulesets.backtest_workers`, resolved: at least 1).
        public var backtestWorkers = ProcessInfo.processInfo.activeProcessorCount
        /// Migrations to apply before serving (`--migrate`): the embedded ones or a directory;
        /// nil leaves the schema alone.
        public var migrations: MigrationSource?
        /// Apply the migrations of this directory before serving (sets `migrations`).
        public var migrationsDirectory: URL? {
            get { if case .directory(let url)? = migrations { url } else { nil } }
            set { migrations = newValue.map { .directory($0) } }
        }
        public var server = HTTPServerConfiguration()
        public var maxDatabaseConnections = 16
        public var sweeperInterval = 1.0
        public var sweeperBatchSize = 200
        public var runSweeper = true
        /// Lease expiry and SLA escalation (`QueueWorker`), every `queueWorkerInterval` seconds.
        public var runQueueWorker = true
        public var queueWorkerInterval = 1.0
        /// Most claims long-polling at once; nil = half the HTTP worker threads (at least 1).
        public var maxQueueWaiters: Int?
        /// Webhook delivery (`webhooks.enabled` turns the dispatcher and workers on this node off).
        public var webhooks = WebhookSettings()
        /// Group-commit writer lanes (each uses one database connection while it commits).
        public var ingestLanes = 2
        /// Most messages one lane applies in one transaction.
        public var maxMessagesPerTransaction = 256
        public var ingestLimits = IngestLimits()
        /// Browser origins allowed to call the ingest endpoints (`ingest.cors_allowed_origins`);
        /// a key's own list replaces it for that key.
        public var corsAllowedOrigins = AllowedOrigins.none
        public var freeMail = FreeMailDomains.default
        /// The service's notion of now (tests inject one; the engine never reads a clock).
        public var clock: @Sendable () -> Date = Date.init
        /// Shown by `/healthz`.
        public var version = "dev"
        /// Another recorder of every route's request count and duration (tests); the Prometheus
        /// one behind `/metrics` records them whatever this is.
        public var requestMetrics: (any RequestMetricsRecorder)?
        /// `metrics.port`: also serve `GET /metrics`, without authentication, on this port
        /// (0 picks a free one, see `metricsPort`); nil serves it only on the main port, for `read` keys.
        public var metricsPort: Int?
        /// How long the PostgreSQL-backed gauges of `/metrics` are reused between scrapes.
        public var metricsCacheSeconds = 5.0
        /// `drift.*`: thresholds of `GET /v1/drift` and how often counts are flushed.
        public var drift = DriftSettings()
        /// Flush the drift counters every `drift.flushInterval` and check for `drift.detected`
        /// every `drift.checkInterval` (tests do both by hand through `drift`).
        public var runDriftJobs = true
        /// `metrics.rollup_fold_interval`: seconds between folds of the rollup deltas into the
        /// metrics rollups (migration 0070); nil runs no fold on this node (tests fold by hand
        /// through `rollupFolder`; reads are exact either way).
        public var rollupFoldInterval: Double? = 2
        /// How long a node caches a looked-up API key: the bound on a revocation reaching the
        /// other nodes (the revoking node forgets the key at once).
        public var keyCacheSeconds = 10.0
        /// How often the noted key uses are written to `api_keys.last_used_at` (each key at
        /// most once a minute whatever this is).
        public var keyUsageFlushInterval = 15.0
        /// Per-key and per-client-address limits (`rate_limits.*`); `.off` for none.
        public var rateLimits = RateLimitSettings()
        /// `statement_timeout` of every transaction on the service's pool (ingest lanes, sweeper,
        /// queues, admin writes), in seconds; nil leaves the server's setting.
        public var statementTimeout: Double? = 5
        /// A read replica for the CRM read API (`DATABASE_READ_URL`; libpq URL, several hosts
        /// allowed); nil reads from the primary (docs/scale-out.md#read-replicas).
        public var databaseReadURL: String?
        /// Seconds the replica may lag before reads skip it (`database.read_max_lag`).
        public var readMaxLag: Double = 5
        /// Seconds an ingest request waits for its transaction before answering 503 "outcome
        /// unknown" (`database.commit_wait`).
        public var commitWait: Double = 30
        /// The retention job (`retention.*`): nil runs none on this node (tests run it by hand
        /// through `retention`); `serve` passes the configured settings.
        public var retention: RetentionSettings?
        /// What ingest stores of `context.ip` (`retention.context_ip`).
        public var contextIP = ContextIPPolicy.truncate
        /// Tests only: runs in each lane transaction after its writes were staged, just before
        /// the round trip that carries them and COMMIT (e.g. to kill the connection there).
        package var ingestBeforeCommit: (@Sendable (PostgresTransaction) throws -> Void)?

        public init(databaseURL: String, rulesYAML: String, rulesFileName: String) {
            self.databaseURL = databaseURL; self.rulesYAML = rulesYAML; self.rulesFileName = rulesFileName
        }
    }

    /// The ruleset did not load: the report says why, as `leadrouter rules check` prints it.
    public struct RulesetRejected: Error, CustomStringConvertible {
        public let report: RulesCheckReport
        public var description: String { (report.diagnostics + [report.summary]).joined(separator: "\n") }
    }

    public let options: Options
    public let pool: PostgresPool
    /// The active ruleset version's engine; an activation switches it in place.
    public let rules: ActiveEngine
    public var engine: Engine { rules.engine }
    /// Versions, activation and rollback; `rulesetWatcher` follows activations made elsewhere.
    public let rulesetAdmin: RulesetAdmin
    let rulesetWatcher: RulesetWatcher
    /// Runs queued jobs (backtests), one at a time, when `Options.runJobs`.
    public let jobRunner: JobRunner
    public let ingest: IngestService
    public let sweeper: Sweeper
    public let pipeline: GroupCommitPipeline
    public let queues: QueueService
    public let authenticator: Authenticator
    /// Signs the dashboard's login cookies with the secret every node shares (migration 0051), so
    /// a cookie works on any node and across restarts.
    let dashboardSession: DashboardSession
    /// API keys by hash (cached), their coarse `last_used_at`, and their lifecycle.
    package let keyDirectory: APIKeyDirectory
    package let keyUsage = KeyUsage()
    package let keyAdmin: KeyAdmin
    private let keyUsageJob: PeriodicJob
    public let webhookDelivery: WebhookDelivery
    /// Prunes by age (`Options.retention`, or defaults when nil: a test runs it with `runOnce`).
    public let retention: RetentionJob
    public let readiness = ReadinessChecks()
    /// Where the read API's queries go (the primary, or a fresh enough read replica).
    package let readRouting: ReadRouting
    /// What `GET /metrics` exposes (docs/insight.md).
    public let metrics = ServiceMetrics()
    /// Drift counters and `GET /v1/drift`.
    public let drift: DriftMonitor
    /// Folds the rollup deltas every `Options.rollupFoldInterval` (one node at a time).
    public let rollupFolder: RollupFolder
    private var metricsServer: HTTPServer?
    /// The buckets of the API's rate limits (one set per service, shared by every route).
    let rateLimits: RateLimits
    let logger: Logger
    private var server: HTTPServer?
    private var sweeperRunning = false
    private var stopped = false

    /// Loads and checks the ruleset (throws `RulesetRejected`), connects, migrates when asked and
    /// settles the version to serve: the file's text becomes the active version when it differs
    /// (`Store.adoptRulesetFile`), or the active stored version is served (`rulesFromDatabase`).
    /// Nothing listens yet.
    public init(options: Options, logger: Logger) throws {
        self.options = options
        self.logger = logger
        let report = RulesCheckReport(yaml: options.rulesYAML, fileName: options.rulesFileName)
        guard let loaded = report.loaded else { throw RulesetRejected(report: report) }
        for warning in loaded.warnings { logger.warning("ruleset: \(warning.description)") }
        let configuration = PostgresConfiguration(url: options.databaseURL)
        if let source = options.migrations {
            let applied = try Migrator(configuration: configuration, source: source, logger: logger).migrate()
            for file in applied { logger.info("migration applied", metadata: ["file": "\(file.fileName)"]) }
        }
        var poolConfiguration = configuration
        poolConfiguration.transactionStatementTimeout = options.statementTimeout
        // A node killed while its backend runs a statement: the backend checks every 2 s that
        // the client is still there, so its locks (sweeper rows, job locks) go within seconds
        // (docs/scale-out.md, Leadership).
        poolConfiguration.sessionSettings.append(("client_connection_check_interval", "2000"))
        pool = PostgresPool(configuration: poolConfiguration,
                            settings: .init(minConnections: 2, maxConnections: options.maxDatabaseConnections, acquireTimeout: 5, idleTimeout: 300),
                            logger: logger)
        try pool.prewarm()
        let serving: Engine = try pool.withTransaction { conn in
            let store = Store(conn)
            if options.rulesFromDatabase, let active = try store.activeRuleset() {
                return try RulesetAdmin.engine(for: active)
            }
            let adopted = try store.adoptRulesetFile(
                yaml: options.rulesYAML, author: "file:\(options.rulesFileName)",
                note: RulesetAdmin.fileNote(yaml: options.rulesYAML, flag: options.rulesNote, fileName: options.rulesFileName),
                declared: loaded.ruleset.version)
            try store.syncTeams(loaded.ruleset.teams)
            return Engine(loaded.ruleset.numbered(adopted.version))
        }
        RulesetAdmin.prepareToServe(serving, pool: pool, logger: logger)
        rules = ActiveEngine(serving)
        let engine = serving
        dashboardSession = DashboardSession(secret: try pool.withConnection { try Store($0).dashboardSessionSecret() })
        rulesetAdmin = RulesetAdmin(pool: pool, rules: rules, confirmAbove: options.rulesetConfirmAbove, logger: logger)
        jobRunner = JobRunner(pool: pool, workers: options.backtestWorkers, logger: logger)
        rulesetWatcher = try RulesetWatcher(pool: pool, rules: rules, configuration: configuration,
                                            interval: options.rulesetCheckInterval, logger: logger)
        if let readURL = options.databaseReadURL {
            let replica = PostgresPool(configuration: PostgresConfiguration(url: readURL, applicationName: "leadrouter-read"),
                                       settings: .init(minConnections: 0, maxConnections: max(2, options.maxDatabaseConnections / 2),
                                                       acquireTimeout: 5, idleTimeout: 300),
                                       logger: logger)
            readRouting = ReadRouting(primary: pool, replica: replica, maxLag: options.readMaxLag, logger: logger)
        } else {
            readRouting = ReadRouting(primary: pool)
        }
        // With a read replica every decision also marks its lead as just written (read-your-writes).
        let decisionHook: any DecisionHook = options.databaseReadURL == nil
            ? SalesRouting() : NoteWritesHook(SalesRouting(), routing: readRouting)
        drift = DriftMonitor(pool: pool, rules: rules, settings: options.drift, clock: options.clock, logger: logger)
        rollupFolder = RollupFolder(pool: pool, interval: options.rollupFoldInterval ?? 2,
                                    truncatesEmptiedTables: options.databaseReadURL == nil, logger: logger)
        ingest = IngestService(pool: pool, rules: rules, profile: ProfileUpdate(freeMail: options.freeMail),
                               decisionHook: decisionHook, clock: options.clock, contextIP: options.contextIP,
                               beforeCommit: options.ingestBeforeCommit, observer: drift.counters, logger: logger)
        retention = RetentionJob(pool: pool, settings: options.retention ?? RetentionSettings(),
                                 longestWindow: Double(engine.ruleset.signals.map(\.window).max() ?? 0) / 1000,
                                 clock: options.clock, logger: logger)
        let metrics = self.metrics
        pipeline = GroupCommitPipeline(service: ingest, lanes: min(options.ingestLanes, max(1, options.maxDatabaseConnections - 2)),
                                       maxBatch: options.maxMessagesPerTransaction, answerTimeout: options.commitWait,
                                       observer: { metrics.laneCommitted(messages: $0, duration: $1) }, logger: logger)
        sweeper = Sweeper(pool: pool, rules: rules, batchSize: options.sweeperBatchSize, interval: options.sweeperInterval,
                          decisionHook: decisionHook, clock: options.clock, counters: ingest.counters,
                          reevaluationRate: options.reevaluationRate, logger: logger)
        keyDirectory = APIKeyDirectory(pool: pool, cacheSeconds: options.keyCacheSeconds)
        keyAdmin = KeyAdmin(pool: pool, directory: keyDirectory)
        keyUsageJob = PeriodicJob(name: "lr-key-usage", interval: options.keyUsageFlushInterval, jitter: 0.2)
        authenticator = Authenticator(keys: keyDirectory, usage: keyUsage)
        rateLimits = RateLimits(settings: options.rateLimits)
        queues = QueueService(pool: pool, statuses: ingest, waiters: QueueWaiters(
            listener: try PostgresListener(configuration: configuration, logger: logger),
            maxWaiters: options.maxQueueWaiters ?? max(1, options.server.workerThreads / 2)),
            worker: QueueWorker(pool: pool, interval: options.queueWorkerInterval, clock: options.clock, logger: logger),
            clock: options.clock, logger: logger)
        webhookDelivery = try WebhookDelivery.prepare(databaseURL: options.databaseURL, settings: options.webhooks, engine: engine,
                                                      pool: pool, logger: logger)
        let pool = self.pool, rules = self.rules
        readiness.register("database", ReadinessChecks.database(pool: pool, logger: logger))
        readiness.register("ruleset") { ReadinessResult(ready: true, detail: "version \(rules.version)") }
        if options.databaseReadURL != nil {
            // Never "not ready": without the replica, reads go to the primary.
            let routing = readRouting
            readiness.register("read_replica") { ReadinessResult(ready: true, detail: routing.status) }
        }
        MetricsWiring.register(metrics, counters: ingest.counters, pool: pool, drift: drift, readRouting: readRouting,
                               cacheSeconds: options.metricsCacheSeconds,
                               clock: options.clock, logger: logger)
    }

    /// Every route of the service: the probes and the `/v1` API in one root group behind the
    /// request metrics; every `/v1` route behind `APIMiddleware.common`, and each feature's
    /// routes in groups with the scope they need (`APIMiddleware.authenticated`).
    public func router() -> HTTPRouter {
        var router = HTTPRouter()
        let api = APIMiddleware(authenticator: authenticator, limits: rateLimits)
        let reads = LeadReads(pool: pool, quarantine: ingest.quarantine, routing: readRouting)
        let recorder = MetricsWiring.requestRecorder(metrics, also: options.requestMetrics)
        let queueNames = Array(Set(engine.ruleset.segments.compactMap { $0.route.sales?.queue }))
        let queueReads = QueueReads(pool: pool, configuredQueues: queueNames)
        router.group(context: APIContext.self, middleware: [RequestMetrics(recorder: recorder)]) { root in
            OpsRoutes.install(into: &root, version: options.version, readiness: readiness)
            MetricsRoutes(metrics: metrics).install(into: &root, api)
            OpsRoutes.installOpenAPI(into: &root, document: EmbeddedFiles.openAPI)
            // The dashboard's pages and the exports read where the CRM reads go (docs/scale-out.md#read-replicas).
            DashboardRoutes(rules: rules, reads: reads, metrics: SegmentMetricsReads(reader: readRouting),
                            queues: QueueReads(reader: readRouting, configuredQueues: queueNames),
                            drift: drift, session: dashboardSession, clock: options.clock).install(into: &root, api, authenticator: authenticator)
            root.group("/v1", middleware: api.common) { v1 in
                let cors = CORSPolicy(global: options.corsAllowedOrigins, pool: pool, cacheSeconds: options.keyCacheSeconds)
                IngestRoutes(pipeline: pipeline, limits: options.ingestLimits, cors: cors).install(into: &v1, api)
                BrowserRoutes(cors: cors, counters: ingest.counters, defaultProtocol: options.server.tls == nil ? "http" : "https")
                    .install(into: &v1, api)
                LeadRoutes(service: ingest, reads: reads).install(into: &v1, api)
                SegmentRoutes(rules: rules, reads: reads, metrics: SegmentMetricsReads(reader: readRouting), clock: options.clock).install(into: &v1, api)
                StageMetricsRoutes(rules: rules, metrics: StageMetricsReads(reader: readRouting), clock: options.clock).install(into: &v1, api)
                QueueRoutes(service: queues, reads: queueReads,
                            owners: OwnerAdmin(pool: pool, clock: options.clock)).install(into: &v1, api)
                WebhookRoutes(admin: SubscriptionAdmin(pool: pool), rules: rules, settings: options.webhooks).install(into: &v1, api)
                RulesetRoutes(admin: rulesetAdmin).install(into: &v1, api)
                KeyRoutes(admin: keyAdmin).install(into: &v1, api)
                QuarantineRoutes(quarantine: ingest.quarantine).install(into: &v1, api)
                InsightRoutes(monitor: drift).install(into: &v1, api)
                ExperimentRoutes(reports: ExperimentReports(pool: pool, rules: rules)).install(into: &v1, api)
                PrivacyRoutes(erasure: LeadErasure(pool: pool, clock: options.clock, logger: logger),
                              exporter: LeadExport(reader: readRouting, clock: options.clock)).install(into: &v1, api)
                TrackerScriptRoutes().install(into: &v1)
            }
        }
        return router
    }

    /// Starts listening (and the sweeper); `port` is the bound port afterwards.
    public func start() throws {
        queues.start(runWorker: options.runQueueWorker)
        rulesetWatcher.start()
        if options.runJobs { jobRunner.start() }
        var serverConfiguration = options.server
        serverConfiguration.logPrivacy.redactPath = PathRedaction.redactWriteKey
        let server = HTTPServer(configuration: serverConfiguration, router: router(), logger: logger)
        try server.start()
        self.server = server
        if let port = options.metricsPort {
            var configuration = options.server
            configuration.port = port
            configuration.tls = nil
            let metricsServer = HTTPServer(configuration: configuration, router: MetricsRoutes(metrics: metrics).unauthenticatedRouter(),
                                           logger: logger)
            try metricsServer.start()
            self.metricsServer = metricsServer
        }
        if options.runSweeper {
            sweeper.start()
            sweeperRunning = true
        }
        if options.webhooks.enabled { webhookDelivery.start() }
        if options.retention?.enabled == true { retention.start() }
        if options.runDriftJobs { drift.start(check: true) }
        if options.rollupFoldInterval != nil { rollupFolder.start() }
        let usage = keyUsage, pool = self.pool, logger = self.logger
        keyUsageJob.start(pauseFirst: true) {
            do { try usage.flush(pool: pool) } catch { logger.warning("key last_used_at not written", metadata: ["error": "\(error)"]) }
            return .pause
        }
    }

    /// Writes the noted key uses now (what the background job does every `keyUsageFlushInterval`).
    @discardableResult
    package func flushKeyUsage() throws -> Int { try keyUsage.flush(pool: pool) }

    public var port: Int? { server?.port }
    /// The bound port of the metrics-only listener (`Options.metricsPort`), when one runs.
    public var metricsPort: Int? { metricsServer?.port }

    /// Stops the server gracefully, then the sweeper, then closes the pool.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        queues.stop()
        server?.shutdown()
        server?.waitUntilStopped()
        metricsServer?.shutdown()
        metricsServer?.waitUntilStopped()
        if sweeperRunning { sweeper.stop(); sweeperRunning = false }
        webhookDelivery.stop()
        rulesetWatcher.stop()
        jobRunner.stop()
        retention.stop()
        rollupFolder.stop()
        keyUsageJob.stop()
        _ = try? keyUsage.flush(pool: pool)
        pipeline.stop()
        readRouting.stop()
        drift.stop()  // after the lanes: their last messages are counted
        pool.close()
    }

    /// Creates an API key and returns its plaintext (shown once; only the hash is stored).
    public func createKey(name: String, scopes: Set<APIScope>, signingSecret: String? = nil) throws -> String {
        let key = NewAPIKey.generate()
        _ = try pool.withConnection { try Store($0).createAPIKey(name: name, key: key, scopes: scopes, signingSecret: signingSecret) }
        return key.plaintext
    }

    /// Creates a key with `settings` (public, owner-bound, …; checked) and returns its plaintext.
    public func createKey(_ settings: APIKeySettings) throws -> String { try keyAdmin.create(settings).plaintext }
}
