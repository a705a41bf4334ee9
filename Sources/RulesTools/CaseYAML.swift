import Foundation
import Yams

/// A problem in a case file, at a 1-based line and column.
public struct CaseDiagnostic: Error, Sendable, Equatable {
    /// 1-based line.
    public var line: Int
    /// 1-based column.
    public var column: Int
    /// What is wrong and how to write it instead.
    public var message: String

    /// `FILE:LINE:COLUMN: message`, the form editors jump to.
    public func formatted(fileName: String) -> String { "\(fileName):\(line):\(column): \(message)" }
}

extension CaseDiagnostic {
    /// The position and problem libyaml reported.
    init(yamlError: YamlError) {
        switch yamlError {
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
            self.init(line: mark.line, column: mark.column, message: "not valid YAML: \(problem)")
        default:
            self.init(line: 1, column: 1, message: "not valid YAML: \(yamlError)")
        }
    }
}

/// Reading helpers over a Yams node that keep the position of every value for messages.
struct CaseNode {
    let node: Node

    var line: Int { node.mark?.line ?? 1 }
    var column: Int { node.mark?.column ?? 1 }

    func error(_ message: String) -> CaseDiagnostic {
        CaseDiagnostic(line: line, column: column, message: message)
    }

    /// The mapping's pairs in file order; an error if this is not a mapping.
    func pairs(_ what: String) throws -> [(key: String, value: CaseNode)] {
        guard case let .mapping(mapping) = node else { throw error("\(what) must be a mapping of keys to values") }
        return try mapping.map { key, value in
            guard case let .scalar(scalar) = key else { throw CaseNode(node: key).error("keys must be plain text") }
            return (scalar.string, CaseNode(node: value))
        }
    }

    /// Refuses keys not in `allowed`: a misspelt key would otherwise silently test nothing.
    func checkKeys(_ allowed: Set<String>, in what: String) throws {
        for (key, value) in try pairs(what) where !allowed.contains(key) {
            let known = allowed.sorted().joined(separator: ", ")
            throw value.error("unknown key '\(key)' in \(what) (known: \(known))")
        }
    }

    func items(_ what: String) throws -> [CaseNode] {
        guard case let .sequence(sequence) = node else { throw error("\(what) must be a list") }
        return sequence.map(CaseNode.init)
    }

    var isNull: Bool {
        if case let .scalar(scalar) = node { return scalar.style == .plain && ["null", "~", ""].contains(scalar.string) }
        return false
    }

    func string(_ what: String) throws -> String {
        guard case let .scalar(scalar) = node else { throw error("\(what) must be a single value") }
        return scalar.string
    }

    func number(_ what: String) throws -> Double {
        guard let value = Double(try string(what)) else { throw error("\(what) must be a number") }
        return value
    }

    func bool(_ what: String) throws -> Bool {
        switch try string(what) {
        case "true": return true
        case "false": return false
        default: throw error("\(what) must be true or false")
        }
    }

    func strings(_ what: String) throws -> [String] {
        if case .scalar = node { return [try string(what)] }
        return try items(what).map { try $0.string("an item of \(what)") }
    }

    /// The node as a JSON-like value: YAML's plain scalars become numbers, booleans and null.
    var value: CaseValue {
        switch node {
        case let .scalar(scalar):
            guard scalar.style == .plain else { return .string(scalar.string) }
            switch scalar.string {
            case "null", "~", "": return .null
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: return Double(scalar.string).map(CaseValue.number) ?? .string(scalar.string)
            }
        case let .sequence(sequence):
            return .list(sequence.map { CaseNode(node: $0).value })
        case let .mapping(mapping):
            var fields: [String: CaseValue] = [:]
            for (key, value) in mapping { fields[key.string ?? ""] = CaseNode(node: value).value }
            return .object(fields)
        case .alias:
            return .null
        }
    }

    func object(_ what: String) throws -> [String: CaseValue] {
        guard case let .object(fields) = value else { throw error("\(what) must be a mapping") }
        return fields
    }
}

/// Instants in case files: an ISO-8601 instant, or an offset from the case's start such as
/// `+2d`, `+1h30m` or `+0s`.
enum CaseTime {
    static func parse(_ node: CaseNode, start: Date?, what: String) throws -> Date {
        let text = try node.string(what).trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("+") {
            guard let start else { throw node.error("\(what) is an offset but the case has no start") }
            guard let seconds = offsetSeconds(String(text.dropFirst())) else {
                throw node.error("bad offset '\(text)' in \(what): use +30s, +15m, +2h, +7d, +4w or a sum like +1d2h")
            }
            return start.addingTimeInterval(seconds)
        }
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        throw node.error("bad instant '\(text)' in \(what): use ISO 8601 like 2026-11-02T09:00:00Z, or an offset like +2d")
    }

    /// Seconds in `1d2h30m`-style text, or nil when it is malformed.
    static func offsetSeconds(_ text: String) -> Double? {
        var total = 0.0
        var digits = ""
        for character in text {
            if character.isNumber {
                digits.append(character)
                continue
            }
            guard let amount = Double(digits) else { return nil }
            switch character {
            case "s": total += amount
            case "m": total += amount * 60
            case "h": total += amount * 3_600
            case "d": total += amount * 86_400
            case "w": total += amount * 604_800
            default: return nil
            }
            digits = ""
        }
        return digits.isEmpty && !text.isEmpty ? total : nil
    }

    /// The instant as ISO 8601 in UTC, for messages.
    static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        if date.timeIntervalSince1970 != date.timeIntervalSince1970.rounded() {
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        }
        return formatter.string(from: date)
    }
}
