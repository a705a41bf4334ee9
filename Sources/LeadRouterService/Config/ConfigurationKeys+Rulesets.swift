/// `rulesets.*` (docs/rulesets.md#activation).
extension ConfigurationKey {
    static let rulesetKeys: [ConfigurationKey] = [
        duration("rulesets.check_interval", "LEADROUTER_RULESETS_CHECK_INTERVAL", max: 60) { $0.rulesets.checkInterval = $1 },
        integer("rulesets.reevaluation_rate", "LEADROUTER_RULESETS_REEVALUATION_RATE", 1...100_000) { $0.rulesets.reevaluationRate = $1 },
        integer("rulesets.backtest_workers", "LEADROUTER_RULESETS_BACKTEST_WORKERS", 0...256) { $0.rulesets.backtestWorkers = $1 },
        ConfigurationKey(path: "rulesets.confirm_above", environment: "LEADROUTER_RULESETS_CONFIRM_ABOVE", flag: nil) { c, v throws(ValueError) in
            guard let share = Double(v), share >= 0, share <= 1 else { throw ValueError(message: "expected a share from 0 to 1, got \"\(v)\"") }
            c.rulesets.confirmAbove = share
        },
    ]
}
