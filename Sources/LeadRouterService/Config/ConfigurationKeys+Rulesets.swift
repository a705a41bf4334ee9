/// `rulesets.*` (docs/rulesets.md#activation).
extension ConfigurationKey {
    static let rulesetKeys: [ConfigurationKey] = [
        duration("rulesets.check_interval", "LEADROUTER_RULESETS_CHECK_INTERVAL", max: 60) { $0.rulesets.checkInterval = $1 },
        integer("rulesets.reevaluation_rate", "LEADROUTER_RULESETS_REEVALUATION_RATE", 1...100_000) { $0.rulesets.reevaluationRate = $1 },
    ]
}
