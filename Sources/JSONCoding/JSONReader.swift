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
        package var description: String { "\(reason) at byte \(offset)" }
    }

    /// Nesting deeper than this is refused (the recursion would otherwise follow the sender).
    static let maxDepth = 512

    /// Parses one JSON value that fills `bytes` (surrounding whitespace allowed).
    package static func parse(_ bytes: [UInt8]) throws(Failure) -> Value {
        try bytes.withUnsafeBufferPointer { (buffer) throws(Failure) -> Value in
            var reader = JSONReader(input: buffer)
            reader.skipWhitespace()
            let value = try reader.value(depth: 0)
            reader.skipWhitespace()
            guard reader.position == buffer.count else { throw reader.fail("unexpected data after the JSON value") }
            return value
        }
    }

    private let input: UnsafeBufferPointer<UInt8>
    private var position = 0

    private init(input: UnsafeBufferPointer<UInt8>) { self.input = input }

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
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try expect("true", .bool(true))
        case UInt8(ascii: "f"): return try expect("false", .bool(false))
        case UInt8(ascii: "n"): return try expect("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw fail("unexpected character")
        }
    }

    private mutating func object(depth: Int) throws(Failure) -> Value {
        guard depth <= Self.maxDepth else { throw fail("nesting too deep") }
        position += 1
        var fields: [String: Value] = [:]
        skipWhitespace()
        if !atEnd, input[position] == UInt8(ascii: "}") { position += 1; return .object(fields) }
        while true {
            skipWhitespace()
            if !fields.isEmpty, !atEnd, input[position] == UInt8(ascii: "}") { position += 1; return .object(fields) }
            guard !atEnd, input[position] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let key = try string()
            skipWhitespace()
            guard !atEnd, input[position] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            position += 1
            skipWhitespace()
            let member = try value(depth: depth)
            if fields[key] == nil { fields[key] = member }
            skipWhitespace()
            guard !atEnd else { throw fail("unexpected end of input") }
            if input[position] == UInt8(ascii: ",") { position += 1; continue }
            if input[position] == UInt8(ascii: "}") { position += 1; return .object(fields) }
            throw fail("expected ',' or '}'")
        }
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
            items.append(try value(depth: depth))
            skipWhitespace()
            guard !atEnd else { throw fail("unexpected end of input") }
            if input[position] == UInt8(ascii: ",") { position += 1; continue }
            if input[position] == UInt8(ascii: "]") { position += 1; return .array(items) }
            throw fail("expected ',' or ']'")
        }
    }

    private mutating func number() throws(Failure) -> Double {
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
        guard let value = Double(text), value.isFinite else { position = start; throw fail("number out of range") }
        return value
    }

    private mutating func string() throws(Failure) -> String {
        position += 1
        let start = position
        // Fast path: no escapes; the bytes are validated as UTF-8 when the String is made.
        while position < input.count {
            let c = input[position]
            if c == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: input[start..<position])
                guard let text = String(validating: slice, as: UTF8.self) else { throw fail("invalid UTF-8 in a string") }
                position += 1
                return text
            }
            if c == UInt8(ascii: "\\") { break }
            guard c >= 0x20 else { throw fail("unescaped control character in a string") }
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
                    guard position + 1 < input.count, input[position] == UInt8(ascii: "\\"), input[position + 1] == UInt8(ascii: "u") else {
                        throw fail("unpaired surrogate in a string")
                    }
                    position += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw fail("unpaired surrogate in a string") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw fail("unpaired surrogate in a string")
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw fail("invalid escape") }
                bytes.append(contentsOf: String(Character(unicode)).utf8)
            default:
                throw fail("invalid escape")
            }
        }
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
