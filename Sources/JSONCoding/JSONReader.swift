import Essentials
import Foundation
import Segmentation

/// A strict RFC 8259 parser from UTF-8 bytes straight to `Value`: every ingest request body goes
/// through it, and `JSONDecoder` into `Value` (which tries each type in turn, throwing on the
/// misses) was a large share of the request path's CPU. Numbers become `Double` (as in
/// JavaScript and as `Value`'s `Decodable` does). Like `JSONDecoder`, a repeated key keeps its
/// first value and a trailing comma in an object or array is accepted.
package struct JSONReader {
    /// Why a body is not JSON, with the byte offset where parsing stopped.
    package struct Failure: Error, CustomStringConvertible {
        package var reason: String
        package var offset: Int
        /// The text is valid JSON syntax but holds what leadrouter refuses to store (a NUL or a lone
        /// surrogate in a string, a number beyond `Double`): `parseReportingContent` finds where.
        package var isContentProblem = false
        package var description: String { "\(reason) at byte \(offset)" }
    }

    /// A value `parse` refuses although the syntax is valid, by JSON pointer (RFC 6901).
    package struct ContentProblem: Equatable, Sendable {
        package var pointer: String
        package var detail: String
    }

    /// Nesting deeper than this is refused (the recursion would otherwise follow the sender).
    static let maxDepth = 512

    /// Parses one JSON value that fills `bytes` (surrounding whitespace allowed).
    package static func parse(_ bytes: [UInt8]) throws(Failure) -> Value {
        try bytes.withUnsafeBufferPointer { (buffer) throws(Failure) -> Value in
            var reader = JSONReader(input: buffer)
            reader.members.reserveCapacity(16)   // grown member by member, it was reallocated a few times per message
            reader.skipWhitespace()
            let value = try reader.value(depth: 0)
            reader.skipWhitespace()
            guard reader.position == buffer.count else { throw reader.fail("unexpected data after the JSON value") }
            return value
        }
    }

    /// Parses like `parse` a value that must be an object, and gives its members in document
    /// order (a repeated key twice: the first is the one `parse` keeps), nested objects as
    /// `parse` makes them; nil when the value is not an object. For a reader of a few known
    /// members: a backtest's every stored message (`Store.engineEvent`) had its four members
    /// hashed into a dictionary only to look each up once, a sixth of its decoding
    /// (docs/benchmarks/backtest.md).
    package static func parseObjectMembers(_ bytes: [UInt8]) throws(Failure) -> [(key: String, value: Value)]? {
        try bytes.withUnsafeBufferPointer { (buffer) throws(Failure) -> [(key: String, value: Value)]? in
            var reader = JSONReader(input: buffer)
            reader.members.reserveCapacity(16)
            reader.skipWhitespace()
            let isObject = !reader.atEnd && buffer[reader.position] == UInt8(ascii: "{")
            if isObject { try reader.collectMembers(depth: 1) } else { _ = try reader.value(depth: 0) }
            reader.skipWhitespace()
            guard reader.position == buffer.count else { throw reader.fail("unexpected data after the JSON value") }
            return isObject ? reader.members : nil
        }
    }

    /// Parses like `parse`, but a content problem (`Failure.isContentProblem`) does not stop it:
    /// each is recorded under the JSON pointer of its value (or of the member, for a key) and the
    /// value is replaced (U+FFFD for the offending character, `null` for the number). Slower (it
    /// tracks the path): for the bodies `parse` refused with a content problem, to say where.
    package static func parseReportingContent(_ bytes: [UInt8]) throws(Failure) -> (value: Value, problems: [ContentProblem]) {
        try bytes.withUnsafeBufferPointer { (buffer) throws(Failure) -> (value: Value, problems: [ContentProblem]) in
            var reader = JSONReader(input: buffer)
            reader.reportContent = true
            reader.skipWhitespace()
            let value = try reader.value(depth: 0)
            reader.skipWhitespace()
            guard reader.position == buffer.count else { throw reader.fail("unexpected data after the JSON value") }
            return (value, reader.problems)
        }
    }

    private let input: UnsafeBufferPointer<UInt8>
    private var position = 0
    /// `parseReportingContent`: record content problems instead of throwing, and track the path.
    private var reportContent = false
    private var path: [String] = []
    private var problems: [ContentProblem] = []
    /// A content problem of the string just read, to be recorded by the caller (who knows its path).
    private var stringProblem: String?
    /// While reading the value of a repeated member (which is dropped: the first value counts), the
    /// path of the object holding it and the member's name: a content problem in there is recorded
    /// at that object, not under the path the kept value answers to (a NUL in a second `"batch"`
    /// must not reject the first `batch`'s messages).
    private var repeatedMember: (path: [String], key: String)?
    /// The members read so far of the objects being read (`collectedObject`), innermost last.
    private var members: [(key: String, value: Value)] = []

    private init(input: UnsafeBufferPointer<UInt8>) { self.input = input }

    /// A content problem: thrown by `parse`; recorded (under `path` + `member`) by `parseReportingContent`.
    private mutating func contentProblem(_ reason: String, member: String? = nil) throws(Failure) {
        guard reportContent else { throw Failure(reason: reason, offset: position, isContentProblem: true) }
        if let repeated = repeatedMember {
            problems.append(ContentProblem(pointer: repeated.path.map { "/" + Self.escapePointer($0) }.joined(),
                                           detail: reason + " (in the repeated member \"\(repeated.key)\", whose value is ignored)"))
            return
        }
        let components = member.map { path + [$0] } ?? path
        problems.append(ContentProblem(pointer: components.map { "/" + Self.escapePointer($0) }.joined(), detail: reason))
    }

    /// RFC 6901: `~` → `~0`, `/` → `~1`. By Unicode scalar, not by Character: a `/` followed by a
    /// combining mark (`"/\u20E9"`) is one Character that is not `"/"`, and was left unescaped.
    static func escapePointer(_ token: String) -> String {
        guard token.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return token }
        var escaped = String.UnicodeScalarView()
        for scalar in token.unicodeScalars {
            switch scalar {
            case "~": escaped.append(contentsOf: "~0".unicodeScalars)
            case "/": escaped.append(contentsOf: "~1".unicodeScalars)
            default: escaped.append(scalar)
            }
        }
        return String(escaped)
    }

    private func fail(_ reason: String) -> Failure { Failure(reason: reason, offset: position) }

    private var atEnd: Bool { position >= input.count }

    private mutating func skipWhitespace() {
        while position < input.count {
            switch input[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private mutating func expect(_ literal: StaticString, _ value: Value) throws(Failure) -> Value {
        let count = literal.utf8CodeUnitCount
        guard position + count <= input.count else { throw fail("unexpected end of input") }
        let matches = literal.withUTF8Buffer { lit in (0..<count).allSatisfy { input[position + $0] == lit[$0] } }
        guard matches else { throw fail("unexpected character") }
        position += count
        return value
    }

    private mutating func value(depth: Int) throws(Failure) -> Value {
        guard !atEnd else { throw fail("unexpected end of input") }
        switch input[position] {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""):
            let text = try string()
            if let problem = stringProblem { stringProblem = nil; try contentProblem(problem) }
            return .string(text)
        case UInt8(ascii: "t"): return try expect("true", .bool(true))
        case UInt8(ascii: "f"): return try expect("false", .bool(false))
        case UInt8(ascii: "n"): return try expect("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            guard let number = try number() else { return .null }
            return .number(number)
        default: throw fail("unexpected character")
        }
    }

    private mutating func object(depth: Int) throws(Failure) -> Value {
        guard depth <= Self.maxDepth else { throw fail("nesting too deep") }
        return reportContent ? try reportingObject(depth: depth) : try collectedObject(depth: depth)
    }

    /// `object` for `parseReportingContent`, which tracks the path and must know whether a key
    /// repeats before reading its value (a repeated key keeps its first value).
    private mutating func reportingObject(depth: Int) throws(Failure) -> Value {
        position += 1
        var fields: [String: Value] = [:]
        skipWhitespace()
        if !atEnd, input[position] == UInt8(ascii: "}") { position += 1; return .object(fields) }
        while true {
            skipWhitespace()
            if !fields.isEmpty, !atEnd, input[position] == UInt8(ascii: "}") { position += 1; return .object(fields) }
            guard !atEnd, input[position] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let key = try string()
            if let problem = stringProblem { stringProblem = nil; try contentProblem(problem + " (in the member name)", member: key) }
            skipWhitespace()
            guard !atEnd, input[position] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            position += 1
            skipWhitespace()
            let repeated = fields[key] != nil
            path.append(key)
            if repeated && repeatedMember == nil { repeatedMember = (Array(path.dropLast()), key) }
            let member = try value(depth: depth)
            path.removeLast()
            if repeated && repeatedMember?.path.count == path.count { repeatedMember = nil }
            if !repeated { fields[key] = member }
            skipWhitespace()
            guard !atEnd else { throw fail("unexpected end of input") }
            if input[position] == UInt8(ascii: ",") { position += 1; continue }
            if input[position] == UInt8(ascii: "}") { position += 1; return .object(fields) }
            throw fail("expected ',' or '}'")
        }
    }

    /// `object` for `parse`: the members are read onto `members` (nested objects stack up above
    /// this one's) and the dictionary is made once they are all known, allocated at its size. Grown
    /// member by member it was allocated and rehashed up to three times for a stored message's four
    /// members, a fifth of its decoding (docs/benchmarks/backtest.md).
    private mutating func collectedObject(depth: Int) throws(Failure) -> Value {
        let base = members.count
        try collectMembers(depth: depth)
        return members.count == base ? .object([:]) : .object(takeMembers(from: base))
    }

    /// Reads the object at `position` (its `{`) member by member onto `members`, in document order.
    private mutating func collectMembers(depth: Int) throws(Failure) {
        position += 1
        skipWhitespace()
        if !atEnd, input[position] == UInt8(ascii: "}") { position += 1; return }
        let base = members.count
        while true {
            skipWhitespace()
            if members.count > base, !atEnd, input[position] == UInt8(ascii: "}") { position += 1; return }
            guard !atEnd, input[position] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            // Without `reportContent` a content problem in the key has already been thrown.
            let key = try string()
            skipWhitespace()
            guard !atEnd, input[position] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            position += 1
            skipWhitespace()
            let member = try value(depth: depth)
            members.append((key, member))
            skipWhitespace()
            guard !atEnd else { throw fail("unexpected end of input") }
            if input[position] == UInt8(ascii: ",") { position += 1; continue }
            if input[position] == UInt8(ascii: "}") { position += 1; return }
            throw fail("expected ',' or '}'")
        }
    }

    /// The members from `base` on as a dictionary, taken off `members`. They are moved in last to
    /// first, so of a repeated key the first value is the one written last: it is kept.
    private mutating func takeMembers(from base: Int) -> [String: Value] {
        var fields = [String: Value](minimumCapacity: members.count - base)
        while members.count > base {
            let (key, value) = members.removeLast()
            fields[key] = value
        }
        return fields
    }

    private mutating func array(depth: Int) throws(Failure) -> Value {
        guard depth <= Self.maxDepth else { throw fail("nesting too deep") }
        position += 1
        var items: [Value] = []
        skipWhitespace()
        if !atEnd, input[position] == UInt8(ascii: "]") { position += 1; return .array(items) }
        while true {
            skipWhitespace()
            if !items.isEmpty, !atEnd, input[position] == UInt8(ascii: "]") { position += 1; return .array(items) }
            if reportContent { path.append(String(items.count)) }
            items.append(try value(depth: depth))
            if reportContent { path.removeLast() }
            skipWhitespace()
            guard !atEnd else { throw fail("unexpected end of input") }
            if input[position] == UInt8(ascii: ",") { position += 1; continue }
            if input[position] == UInt8(ascii: "]") { position += 1; return .array(items) }
            throw fail("expected ',' or ']'")
        }
    }

    /// nil: out of range, recorded as a content problem (`parseReportingContent`).
    private mutating func number() throws(Failure) -> Double? {
        let start = position
        func digits() -> Int {
            let from = position
            while position < input.count, input[position] >= 0x30, input[position] <= 0x39 { position += 1 }
            return position - from
        }
        if input[position] == UInt8(ascii: "-") { position += 1 }
        guard !atEnd else { throw fail("unexpected end of input") }
        if input[position] == UInt8(ascii: "0") {
            position += 1
        } else if digits() == 0 {
            throw fail("invalid number")
        }
        // A whole number of up to 15 digits (counts, prices, ids) is exact as a `Double`: made
        // from its digits, without a String for `Double(_:)` to parse; the same value (−0 too).
        let wholeDigits = position - start - (input[start] == UInt8(ascii: "-") ? 1 : 0)
        if wholeDigits <= 15, position == input.count
            || (input[position] != UInt8(ascii: ".") && input[position] != UInt8(ascii: "e") && input[position] != UInt8(ascii: "E")) {
            var whole: Int64 = 0
            for i in (position - wholeDigits)..<position { whole = whole * 10 + Int64(input[i] - 0x30) }
            return input[start] == UInt8(ascii: "-") ? -Double(whole) : Double(whole)
        }
        if position < input.count, input[position] == UInt8(ascii: ".") {
            position += 1
            guard digits() > 0 else { throw fail("invalid number") }
        }
        if position < input.count, input[position] == UInt8(ascii: "e") || input[position] == UInt8(ascii: "E") {
            position += 1
            if position < input.count, input[position] == UInt8(ascii: "+") || input[position] == UInt8(ascii: "-") { position += 1 }
            guard digits() > 0 else { throw fail("invalid number") }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: input[start..<position]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            try contentProblem("the number \(text.prefix(32)) is out of range (numbers must be finite 64-bit floating point)")
            return nil
        }
        return value
    }

    private mutating func string() throws(Failure) -> String {
        position += 1
        let start = position
        // Fast path: no escapes; the bytes are validated as UTF-8 when the String is made. All
        // ASCII (every byte's high bit clear: keys, names, ids, paths) is valid UTF-8 as it is,
        // and `String(decoding:as: UTF8.self)` makes it without the generic `String(validating:)`,
        // whose run-time type lookups were most of a string's cost (docs/benchmarks/backtest.md).
        var bits: UInt8 = 0
        while position < input.count {
            let c = input[position]
            if c == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: input[start..<position])
                let text: String
                if bits < 0x80 {
                    text = String(decoding: slice, as: UTF8.self)
                } else {
                    guard let valid = String(validating: slice, as: UTF8.self) else { throw fail("invalid UTF-8 in a string") }
                    text = valid
                }
                position += 1
                return text
            }
            if c == UInt8(ascii: "\\") { break }
            guard c >= 0x20 else { throw fail("unescaped control character in a string") }
            bits |= c
            position += 1
        }
        var bytes = Array(UnsafeBufferPointer(rebasing: input[start..<position]))
        while true {
            guard !atEnd else { throw fail("unterminated string") }
            let c = input[position]
            if c == UInt8(ascii: "\"") {
                position += 1
                guard let text = String(validating: bytes, as: UTF8.self) else { throw fail("invalid UTF-8 in a string") }
                return text
            }
            guard c >= 0x20 else { throw fail("unescaped control character in a string") }
            guard c == UInt8(ascii: "\\") else { bytes.append(c); position += 1; continue }
            position += 1
            guard !atEnd else { throw fail("unterminated string") }
            let e = input[position]
            position += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(e)
            case UInt8(ascii: "b"): bytes.append(0x08)
            case UInt8(ascii: "f"): bytes.append(0x0C)
            case UInt8(ascii: "n"): bytes.append(0x0A)
            case UInt8(ascii: "r"): bytes.append(0x0D)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    // A high surrogate must be followed by an escaped low one; a lone one is
                    // valid JSON syntax but no Unicode text (PostgreSQL and Swift refuse it).
                    if position + 5 < input.count, input[position] == UInt8(ascii: "\\"), input[position + 1] == UInt8(ascii: "u") {
                        let mark = position
                        position += 2
                        let low = try hex4()
                        if (0xDC00...0xDFFF).contains(low) {
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            position = mark
                            try loneSurrogate(&scalar)
                        }
                    } else {
                        try loneSurrogate(&scalar)
                    }
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    try loneSurrogate(&scalar)
                } else if scalar == 0 {
                    // Valid JSON, but PostgreSQL text and jsonb cannot hold U+0000.
                    if !reportContent { throw Failure(reason: "NUL (\\u0000) in a string", offset: position, isContentProblem: true) }
                    stringProblem = stringProblem ?? "NUL (\\u0000) in a string"
                    scalar = 0xFFFD
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw fail("invalid escape") }
                bytes.append(contentsOf: String(Character(unicode)).utf8)
            default:
                throw fail("invalid escape")
            }
        }
    }

    /// A lone surrogate escape: thrown by `parse`; replaced by U+FFFD and left in `stringProblem` when reporting.
    private mutating func loneSurrogate(_ scalar: inout UInt32) throws(Failure) {
        let reason = "unpaired surrogate (\\u\(String(scalar, radix: 16, uppercase: true))) in a string"
        if !reportContent { throw Failure(reason: reason, offset: position, isContentProblem: true) }
        stringProblem = stringProblem ?? reason
        scalar = 0xFFFD
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard position + 4 <= input.count else { throw fail("unterminated string") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = Hex.value(input[position]) else { throw fail("invalid \\u escape") }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }
}
