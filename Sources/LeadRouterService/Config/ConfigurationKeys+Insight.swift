import Insight

/// `drift.*` (docs/insight.md#drift) and `metrics.rollup_fold_interval` (docs/insight.md, "rollup
/// deltas"). `metrics.port` and `logging.format` are with the others.
extension ConfigurationKey {
    static let insightKeys: [ConfigurationKey] = [
        text("drift.threshold", "LEADROUTER_DRIFT_THRESHOLD") { c, v throws(ValueError) in
            guard let x = Double(v), x > 0, x <= 10 else { throw ValueError(message: "expected a fraction like 0.5 (more than 0, at most 10), got \"\(v)\"") }
            c.drift.threshold = x
        },
        integer("drift.min_volume", "LEADROUTER_DRIFT_MIN_VOLUME", 1...1_000_000_000) { $0.drift.minimumVolume = $1 },
        integer("drift.weeks", "LEADROUTER_DRIFT_WEEKS", 1...12) { $0.drift.weeks = $1 },
        duration("drift.flush_interval", "LEADROUTER_DRIFT_FLUSH_INTERVAL", max: 3600) { $0.drift.flushInterval = $1 },
        duration("drift.check_interval", "LEADROUTER_DRIFT_CHECK_INTERVAL", max: 86_400) { $0.drift.checkInterval = $1 },
        duration("metrics.rollup_fold_interval", "LEADROUTER_METRICS_ROLLUP_FOLD_INTERVAL", max: 3600) { $0.rollupFoldInterval = $1 },
    ]
}
