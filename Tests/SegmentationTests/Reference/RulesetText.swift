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
        if !caps.isEmpty {
            lines.append("caps:")
            for channel in caps.keys.sorted() { lines.append("  \(channel): [ \(caps[channel]!.map(\.yaml).joined(separator: ", ")) ]") }
        }
        if allSegmentsEmail { lines += ["routing:", "  all_segments: [email]"] }
        if segments.contains(where: \.sales) { lines.append("teams: { t: { members: [ { id: rep } ] } }") }
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
            if segment.sales { lines.append("      sales: { queue: q-\(segment.name.split(separator: ".").last!), team: t }") }
            if let score = segment.score { lines += ["    score:"] + score.body(indent: "      ") }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
