import Foundation

/// Writes JSON text through a pointer into room made beforehand (`JSONWriter.write(room:_:)`),
/// for the values and punctuation of one small, fixed-shape piece: each append into the
/// writer's array checks its uniqueness and capacity, and a year of hourly stage steps made
/// ~20 of them a step (fragment appends, memmove and those checks were 15 % of the request's
/// CPU, docs/benchmarks/insight.md). Each write checks it stays inside the room.
package struct JSONCursor {
    /// Where the next byte goes.
    package private(set) var position: UnsafeMutablePointer<UInt8>
    private let end: UnsafeMutablePointer<UInt8>

    init(_ room: UnsafeMutableBufferPointer<UInt8>) {
        position = room.baseAddress!
        end = position + room.count
    }

    /// Room for `n` more bytes, or a crash (a caller that asked for too little room is a bug).
    private func need(_ n: Int) { precondition(end - position >= n, "JSONCursor: past the room asked for") }

    package mutating func byte(_ b: UInt8) {
        need(1)
        position.pointee = b
        position += 1
    }

    /// JSON text written in the source (punctuation and keys, e.g. `,"exits":`), copied as is.
    package mutating func fragment(_ text: StaticString) {
        need(text.utf8CodeUnitCount)
        position.update(from: text.utf8Start, count: text.utf8CodeUnitCount)
        position += text.utf8CodeUnitCount
    }

    /// JSON text already written (a value formatted once and repeated), copied as is.
    package mutating func fragment(_ text: ArraySlice<UInt8>) {
        need(text.count)
        text.withUnsafeBufferPointer { position.update(from: $0.baseAddress!, count: $0.count) }
        position += text.count
    }

    package mutating func null() { fragment("null") }

    /// Decimal digits, written from the last into 24 bytes on the stack and copied (no `String`).
    package mutating func int(_ value: Int) {
        if value < 0 { byte(UInt8(ascii: "-")) }
        Self.digits(of: value.magnitude) { digits in
            need(digits.count)
            position.update(from: digits.baseAddress!, count: digits.count)
            position += digits.count
        }
    }

    /// The decimal digits of `magnitude`, written from the last into 24 bytes on the stack, given
    /// to `body`: one loop of divisions and one copy (counting the digits first cost a second loop,
    /// ~20 % more instructions an integer in a callgrind count). `JSONWriter.int` uses it too.
    @inline(__always)
    static func digits(of magnitude: UInt, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        var rest = magnitude
        var storage: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &storage) { raw in
            let buffer = raw.bindMemory(to: UInt8.self)
            var i = buffer.count
            repeat {
                i -= 1
                buffer[i] = UInt8(truncatingIfNeeded: 48 + rest % 10)
                rest /= 10
            } while rest > 0
            body(UnsafeBufferPointer(rebasing: buffer[i...]))
        }
    }

    /// A number as `JSONEncoder` writes a `Double` (`Double.description` without a trailing
    /// `.0`); non-finite values, which have no JSON form, as `null`.
    package mutating func number(_ value: Double) {
        Self.numberText(value) { text in
            need(text.count)
            position.update(from: text.baseAddress!, count: text.count)
            position += text.count
        }
    }

    /// The text of `number`, given to `body` in one piece (`JSONWriter.number` uses it too: a
    /// byte at a time it cost ~35 % more instructions a number in a callgrind count).
    @inline(__always)
    static func numberText(_ value: Double, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        guard value.isFinite else {
            let null: StaticString = "null"
            body(UnsafeBufferPointer(start: null.utf8Start, count: null.utf8CodeUnitCount))
            return
        }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        text.withUTF8(body)
    }

    /// `Double(tenThousandths) / 10_000` as `number` writes it (`0.25`, `1`, `0.0001`), from the
    /// integer without a `String` per value: the shares of the metrics answers are rounded to four
    /// decimals, and a year of hourly stage steps holds 35 000 of them. The digits are the exact
    /// decimal, which is what `Double.description` writes for these values (the shortest text
    /// that reads back as the same double); `StageMetricsJSONTests` checks every value up to 200.
    package mutating func tenThousandths(_ value: Int) {
        guard value >= 0, value <= 2_000_000 else { number(Double(value) / 10_000); return }
        int(value / 10_000)
        var fraction = value % 10_000
        guard fraction > 0 else { return }
        var digits = 4
        while fraction % 10 == 0 { fraction /= 10; digits -= 1 }
        byte(UInt8(ascii: "."))
        need(digits)
        var p = position + digits
        repeat {
            p -= 1
            p.pointee = UInt8(truncatingIfNeeded: 48 + fraction % 10)
            fraction /= 10
        } while p > position
        position += digits
    }
}
