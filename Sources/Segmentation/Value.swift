import Essentials
import Foundation

/// A JSON-like value: event properties, event context and lead traits arrive as free-form JSON,
/// so rules address them dynamically (`event.properties.path`, `lead.traits.plan`).
public enum Value: Hashable, Sendable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([Value])
    case object([String: Value])

    /// Decodes any JSON value; integers become `Double` like in JavaScript.
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let n = try? c.decode(Double.self) { self = .number(n); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let a = try? c.decode([Value].self) { self = .array(a); return }
        self = .object(try c.decode([String: Value].self))
    }

    /// Encodes as plain JSON.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n): try c.encode(n)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// The member at `key` of an object, `nil` for anything else: rules treat a missing path as null.
    public subscript(key: String) -> Value? {
        if case .object(let o) = self { return o.member(key) }
        return nil
    }
}

extension Dictionary where Key == String {
    /// `self[key]`, for the small objects of an event's properties and context that rule paths
    /// read (`event.context.campaign.medium`), and a lead's few sent logs and score parts: with a
    /// few members the keys are compared one by one (short ASCII keys compare in a few
    /// instructions) instead of hashing `key`, which was most of a lookup's ~330 instructions,
    /// and a backtest does a score of them per event (docs/benchmarks/backtest.md). The same
    /// answer either way.
    @inline(__always)
    func member(_ key: String) -> Value? {
        guard count <= 4 else { return self[key] }
        var i = startIndex
        while i != endIndex {
            if keys[i] == key { return values[i] }
            formIndex(after: &i)
        }
        return nil
    }
}

/// An instant with millisecond resolution. Rule evaluation works on whole milliseconds so that
/// window edges (`(now - window, now]`) and re-evaluation instants are exact and reproducible.
/// Encodes as an ISO 8601 UTC string with milliseconds, e.g. `2026-11-24T10:00:00.000Z`.
public struct Timestamp: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var milliseconds: Int64

    /// Wraps a millisecond count since the Unix epoch.
    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    /// Rounds a `Date` down to the millisecond.
    public init(_ date: Date) {
        self.milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// The same instant as a Foundation `Date`.
    public var date: Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    /// Earlier instants first.
    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.milliseconds < b.milliseconds }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, computed without locale or time zone so it is deterministic.
    public var description: String { Timestamp.format(milliseconds) }

    /// Formats epoch milliseconds as ISO 8601 UTC (civil-from-days, proleptic Gregorian).
    static func format(_ ms: Int64) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(24)
        Timestamp(milliseconds: ms).appendDescription(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the UTF-8 of `description` to `out`: writers of large documents (a year of hourly
    /// metric steps holds 8 784 times) skip making a `String` per time.
    public func appendDescription(to out: inout [UInt8]) {
        let (secs, milli) = CivilDate.floorDivide(milliseconds, by: 1000)
        CivilDateTime(epochSeconds: secs).appendISO8601(separator: UInt8(ascii: "T"), to: &out)
        out.append(UInt8(ascii: "."))
        appendZeroPadded(milli, width: 3, to: &out)
        out.append(UInt8(ascii: "Z"))
    }

    /// Parses the format written by `description` on a fast path (stored lead state holds many
    /// such times), and every other RFC 3339 shape through `InternetDateTime` (Essentials): no
    /// date formatter either way. Fraction digits past the millisecond are dropped (not rounded).
    public static func parse(_ s: String) -> Timestamp? {
        let bytes = Array(s.utf8)
        if let t = parseCanonical(bytes) { return t }
        return bytes.withUnsafeBufferPointer { InternetDateTime.parse(bytes: $0) }.map { Timestamp(milliseconds: $0.milliseconds) }
    }

    /// Reads an ISO 8601 string (with or without milliseconds).
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let t = Timestamp.parse(s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an ISO 8601 timestamp: \(s)")
        }
        self = t
    }

    /// Writes `description`.
    /// Writes `description`.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// A length of time in milliseconds, written in rules as `30s 15m 2h 7d 4w`.
public struct Duration: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// Length in milliseconds.
    public var milliseconds: Int64
    /// Wraps a millisecond count.
    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    /// Shorter first.
    public static func < (a: Duration, b: Duration) -> Bool { a.milliseconds < b.milliseconds }

    /// The largest unit that divides the length exactly: `7d`, `90m`, `1500ms`.
    public var description: String { Duration.format(milliseconds) }

    static let units: [(String, Int64)] = [("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)]

    static func format(_ ms: Int64) -> String {
        if ms == 0 { return "0s" }
        // Days rather than weeks: `14d` reads as written in most rulesets.
        for (u, f) in units.dropFirst() where ms % f == 0 { return "\(ms / f)\(u)" }
        return "\(ms)ms"
    }

    /// In words for explanations, the largest unit to one decimal: `7 days`, `1.5 hours`, `1 minute`.
    static func spoken(_ ms: Int64) -> String {
        let words: [(String, Int64)] = [("day", 86_400_000), ("hour", 3_600_000), ("minute", 60_000), ("second", 1000)]
        let (word, f) = words.first { abs(ms) >= $0.1 } ?? ("second", 1000)
        let n = (Double(ms) / Double(f) * 10).rounded() / 10
        var text = Explainer.Text()
        text += Expr.formatNumber(n); text += " "; text += word
        if n != 1 { text += "s" }
        return text.string
    }

    /// Parses `<digits><unit>` with unit s, m, h, d or w; `nil` for anything else.
    public static func parse(_ text: String) -> Duration? {
        guard let unit = text.last, let n = Int64(text.dropLast()), n >= 0,
              text.dropLast().allSatisfy({ $0.isASCII && $0.isNumber }),
              let f = units.first(where: { $0.0 == String(unit) })?.1 else { return nil }
        let (v, overflow) = n.multipliedReportingOverflow(by: f)
        return overflow ? nil : Duration(milliseconds: v)
    }

    /// Reads `7d`-style text (also `1500ms`).
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        if s.hasSuffix("ms"), let v = Int64(s.dropLast(2)) { self.init(milliseconds: v); return }
        guard let d = Duration.parse(s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a duration: \(s)")
        }
        self = d
    }

    /// Writes `description`.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

extension Value {
    /// The string, when this is one.
    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
}
