import Yams

/// Typed access to a Yams node tree that reports every problem at its file position.
struct YAMLReader {
    let sink: DiagnosticSink
    let lines: [[Unicode.Scalar]]

    init(sink: DiagnosticSink, text: String) {
        self.sink = sink
        self.lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            Array(line.unicodeScalars.filter { $0 != "\r" })
        }
    }

    func loc(_ n: Node) -> SourceLocation {
        n.mark.map { SourceLocation(line: $0.line, column: $0.column) } ?? SourceLocation(line: 1, column: 1)
    }

    /// Key/value pairs of a mapping in file order; unknown keys are reported (the typo guard).
    func mapping(_ n: Node, _ what: String, allowed: [String]) -> [(key: String, keyNode: Node, value: Node)]? {
        guard case .mapping(let m) = n else {
            sink.error(loc(n), "\(what) must be a mapping of `key: value` lines")
            return nil
        }
        var out: [(String, Node, Node)] = []
        for (k, v) in m {
            let key = k.string ?? ""
            if !allowed.isEmpty, !allowed.contains(key) {
                sink.error(loc(k), "unknown key `\(key)` in \(what)\(didYouMean(key, allowed)); allowed: \(allowed.joined(separator: ", "))")
                continue
            }
            out.append((key, k, v))
        }
        return out
    }

    func sequence(_ n: Node, _ what: String) -> [Node]? {
        guard case .sequence(let s) = n else {
            sink.error(loc(n), "\(what) must be a list")
            return nil
        }
        return Array(s)
    }

    func string(_ n: Node, _ what: String) -> String? {
        guard case .scalar(let s) = n, !s.string.isEmpty else {
            sink.error(loc(n), "\(what) must be a single value")
            return nil
        }
        return s.string
    }

    func number(_ n: Node, _ what: String) -> Double? {
        guard case .scalar(let s) = n, let v = Double(s.string), v.isFinite else {
            sink.error(loc(n), "\(what) must be a number, not `\(n.string ?? "a list or mapping")`")
            return nil
        }
        return v
    }

    func integer(_ n: Node, _ what: String) -> Int? {
        guard case .scalar(let s) = n, let v = Int(s.string) else {
            sink.error(loc(n), "\(what) must be a whole number, not `\(n.string ?? "a list or mapping")`")
            return nil
        }
        return v
    }

    func duration(_ n: Node, _ what: String) -> Duration? {
        guard case .scalar(let s) = n, let d = Duration.parse(s.string), d.milliseconds > 0 else {
            sink.error(loc(n), "\(what) `\(n.string ?? "")` is not a duration: write a whole number followed by s, m, h, d or w (e.g. 30s, 15m, 2h, 7d, 4w)")
            return nil
        }
        return d
    }

    func strings(_ n: Node, _ what: String) -> [String]? {
        if case .scalar = n, let s = string(n, what) { return [s] }
        guard let items = sequence(n, what) else { return nil }
        return items.compactMap { string($0, "an item of \(what)") }
    }

    /// The rule text of a scalar and a function from offsets in that text to file positions.
    func expression(_ n: Node, _ what: String) -> (String, (Int) -> SourceLocation)? {
        guard case .scalar(let s) = n else {
            sink.error(loc(n), "\(what) must be a rule written as text, e.g. 'count(added_to_cart, 7d) >= 1'")
            return nil
        }
        let positions = mapPositions(s)
        let fallback = loc(n)
        return (s.string, { offset in
            positions.isEmpty ? fallback : positions[min(max(offset, 0), positions.count - 1)]
        })
    }

    /// Aligns each scalar of the parsed value with its place in the file, so errors inside a rule
    /// point at the right column even in quoted strings with escapes or folded lines.
    private func mapPositions(_ s: Node.Scalar) -> [SourceLocation] {
        guard let mark = s.mark else { return [] }
        var line = mark.line - 1, col = mark.column - 1
        func indent(_ l: Int) -> Int { l < lines.count ? (lines[l].firstIndex { $0 != " " && $0 != "\t" } ?? lines[l].count) : 0 }
        switch s.style {
        case .singleQuoted, .doubleQuoted: col += 1
        case .literal, .folded: line += 1; col = indent(line)
        default: break
        }
        var out: [SourceLocation] = []
        for ch in s.string.unicodeScalars {
            var matched = false
            var guardSteps = 0
            while !matched, line < lines.count, guardSteps < 10_000 {
                guardSteps += 1
                let text = lines[line]
                if col >= text.count {
                    if ch == "\n" || ch == " " {
                        out.append(SourceLocation(line: line + 1, column: col + 1)); matched = true
                    }
                    line += 1; col = indent(line)
                    continue
                }
                let c = text[col]
                if s.style == .doubleQuoted, c == "\\" {
                    out.append(SourceLocation(line: line + 1, column: col + 1)); matched = true
                    let next = col + 1 < text.count ? text[col + 1] : " "
                    col += next == "x" ? 4 : next == "u" ? 6 : next == "U" ? 10 : 2
                } else if c == ch {
                    out.append(SourceLocation(line: line + 1, column: col + 1)); matched = true
                    col += (s.style == .singleQuoted && ch == "'") ? 2 : 1
                } else {
                    col += 1
                }
            }
            if !matched { out.append(out.last ?? SourceLocation(line: mark.line, column: mark.column)) }
        }
        // One past the end, for "ends too early" errors.
        out.append(SourceLocation(line: line + 1, column: col + 1))
        return out
    }
}
