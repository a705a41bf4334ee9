// Renders a random `RefRuleset` as ruleset YAML, the only form the engine receives it in.

extension RefRuleset {
    /// The ruleset as a complete `segments.yaml` text.
    var yaml: String {
        var lines = [
            "version: 1",
            "events:",
            "  types: [\(types.joined(separator: ", "))]",
            "stages:",
        ]
        for stage in stages { lines.append("  - { stage: \(stage.name), when: '\(stage.when.text)' }") }
        lines += [
            "  - { stage: awareness, when: 'true' }",
            "owners: [test]",
        ]
        if let scoring { lines += ["scoring:"] + scoring.body(indent: "  ") }
        if let cap = emailCap { lines += ["caps:", "  email: [ { max: \(cap.max), per: \(cap.per.text) } ]"] }
        lines.append("segments:")
        for segment in segments {
            lines += [
                "  - name: \(segment.name)",
                "    description: generated",
                "    owner: test",
                "    priority: \(segment.priority)",
                "    enter: '\(segment.enter.text)'",
                "    exit: '\(segment.exit.text)'",
                "    route:",
                "      email: { sequence: \(segment.name.split(separator: ".").last!)\(segment.timing?.yaml ?? "") }",
            ]
            if let score = segment.score { lines += ["    score:"] + score.body(indent: "      ") }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
