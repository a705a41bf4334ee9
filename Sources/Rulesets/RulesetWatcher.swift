import Essentials
import Foundation
import LeadStore
import Logging
import Postgres

/// Keeps this node on the active ruleset version: a NOTIFY on `rulesetNotifyChannel` (sent by
/// the activating transaction's COMMIT) wakes it at once, and it also looks every `interval`
/// seconds, so a missed notification (listener reconnecting) costs at most one interval. A
/// version that does not load here is logged and the node keeps the one it serves.
public final class RulesetWatcher: Sendable {
    let pool: PostgresPool
    let rules: ActiveEngine
    let listener: PostgresListener
    let job: PeriodicJob
    let logger: Logger
    private let logThrottle = LogThrottle()

    public init(pool: PostgresPool, rules: ActiveEngine, configuration: PostgresConfiguration, interval: Double = 1,
                logger: Logger) throws {
        self.pool = pool; self.rules = rules; self.logger = logger
        listener = try PostgresListener(configuration: configuration, logger: logger)
        job = PeriodicJob(name: "lr-rulesets", interval: interval, jitter: 0.1)
    }

    public func start() {
        let job = self.job
        listener.subscribe(rulesetNotifyChannel) { _ in job.wake() }
        listener.start()
        job.start(pauseFirst: true) { [self] in
            do {
                try check()
                logger.settle(logThrottle, level: .warning)
            } catch {
                logger.throttled(.warning, "could not check the active ruleset version", error: error, by: logThrottle)
            }
            return .pause
        }
    }

    /// Switches to the active version when it is not the one served; returns whether it switched.
    @discardableResult
    public func check() throws -> Bool {
        let served = rules.version
        let stored: RulesetVersion? = try pool.withConnection { conn in
            let store = Store(conn)
            guard let active = try store.activeRulesetNumber(), active != served else { return nil }
            return try store.rulesetVersion(active)
        }
        guard let stored else { return false }
        let engine = try RulesetAdmin.engine(for: stored)
        RulesetAdmin.prepareToServe(engine, pool: pool, logger: logger)
        rules.replace(with: engine)
        logger.info("switched to the active ruleset version", metadata: ["ruleset.version": "\(stored.version)", "ruleset.previous": "\(served)"])
        return true
    }

    public func stop() {
        listener.stop()
        job.stop()
    }
}
