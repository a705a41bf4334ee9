import Foundation

extension CaseOutcome {
    /// Human-readable lines: `PASS file: name`, or `FAIL file:line: name` followed by one block per
    /// failed step with expected and actual value of every differing field.
    public func report(fileName: String) -> [String] {
        guard !passed else { return ["PASS \(fileName): \(name)"] }
        var lines = ["FAIL \(fileName):\(line): \(name)"]
        for failure in failures {
            lines.append("  step at \(failure.offset) (\(failure.instant)), \(fileName):\(failure.line):\(failure.column)")
            if let error = failure.error { lines.append("    error: \(error)") }
            let width = max(18, (failure.mismatches.map(\.field.count).max() ?? 0) + 2)
            for mismatch in failure.mismatches {
                let pad = String(repeating: " ", count: width - mismatch.field.count)
                let blank = String(repeating: " ", count: width)
                lines.append("    \(mismatch.field)\(pad)expected \(mismatch.expected)")
                lines.append("    \(blank)actual   \(mismatch.actual)")
            }
        }
        return lines
    }
}

extension CaseTime {
    /// `+1d40m` from `start` to `instant` (`-…` when before), the form case files use.
    static func offset(from start: Date, to instant: Date) -> String {
        var seconds = Int64(instant.timeIntervalSince(start).rounded())
        let sign = seconds < 0 ? "-" : "+"
        seconds = abs(seconds)
        if seconds == 0 { return "+0s" }
        var text = sign
        for (unit, size) in [("d", Int64(86_400)), ("h", 3_600), ("m", 60), ("s", 1)] where seconds >= size {
            text += "\(seconds / size)\(unit)"
            seconds %= size
        }
        return text
    }
}
