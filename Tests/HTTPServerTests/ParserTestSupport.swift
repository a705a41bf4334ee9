import XCTest
@testable import HTTPServer

/// What a parser produced from some input: events (consecutive body pieces merged, since their
/// split depends on reads), the error it stopped on, and whether it is mid-message.
struct ParseOutcome: Equatable, CustomStringConvertible {
    var events: [HTTPParserEvent] = []
    var error: HTTPParseError?
    var partial = false

    var heads: [HTTPRequestHead] {
        events.compactMap { if case .head(let h) = $0 { return h } else { return nil } }
    }
    var bodies: [[UInt8]] {
        var result: [[UInt8]] = []
        var current: [UInt8]?
        for event in events {
            switch event {
            case .head: current = []
            case .body(let b): current?.append(contentsOf: b)
            case .end: result.append(current ?? []); current = nil
            }
        }
        return result
    }
    var description: String {
        let e = events.map { event -> String in
            switch event {
            case .head(let h): return "head(\(h.method) \(h.target))"
            case .body(let b): return "body(\(b.count))"
            case .end: return "end"
            }
        }
        return "\(e) error=\(error.map(String.init(describing:)) ?? "nil") partial=\(partial)"
    }
}

/// Feeds `chunks` one after another, draining events after each; `bodyLimit` is set after
/// every `.head` as a server would from the matched route.
func parse(chunks: [[UInt8]], limits: HTTPParserLimits = .init(), bodyLimit: Int? = nil) -> ParseOutcome {
    var parser = HTTPRequestParser(limits: limits)
    var outcome = ParseOutcome()
    feeding: for chunk in chunks {
        parser.append(chunk)
        while true {
            do {
                guard let event = try parser.next() else { break }
                if case .body(let b) = event, case .body(let previous)? = outcome.events.last {
                    outcome.events[outcome.events.count - 1] = .body(previous + b)
                } else {
                    outcome.events.append(event)
                }
                if case .head = event, let bodyLimit { parser.setBodyLimit(bodyLimit) }
            } catch {
                outcome.error = error
                break feeding
            }
        }
    }
    outcome.partial = parser.hasPartialMessage
    return outcome
}

/// Parses `text` whole, split at every byte position, and one byte at a time; fails unless
/// every way gives the identical outcome, and returns it.
@discardableResult
func parseEverySplit(_ text: String, limits: HTTPParserLimits = .init(), bodyLimit: Int? = nil,
                     file: StaticString = #filePath, line: UInt = #line) -> ParseOutcome {
    parseEverySplit(Array(text.utf8), limits: limits, bodyLimit: bodyLimit, file: file, line: line)
}

@discardableResult
func parseEverySplit(_ bytes: [UInt8], limits: HTTPParserLimits = .init(), bodyLimit: Int? = nil,
                     file: StaticString = #filePath, line: UInt = #line) -> ParseOutcome {
    let whole = parse(chunks: [bytes], limits: limits, bodyLimit: bodyLimit)
    for cut in 0...bytes.count {
        let split = parse(chunks: [Array(bytes[..<cut]), Array(bytes[cut...])], limits: limits, bodyLimit: bodyLimit)
        if split != whole {
            XCTFail("split at \(cut) gave \(split), whole gave \(whole)", file: file, line: line)
            return whole
        }
    }
    let single = parse(chunks: bytes.map { [$0] }, limits: limits, bodyLimit: bodyLimit)
    XCTAssertEqual(single, whole, "one byte at a time differs", file: file, line: line)
    return whole
}

/// Asserts `text` is rejected with `status` (whole and at every split) and returns the reason.
@discardableResult
func assertRejected(_ text: String, _ status: Int, limits: HTTPParserLimits = .init(), bodyLimit: Int? = nil,
                    file: StaticString = #filePath, line: UInt = #line) -> String? {
    let outcome = parseEverySplit(text, limits: limits, bodyLimit: bodyLimit, file: file, line: line)
    XCTAssertEqual(outcome.error?.status.code, status, "\(outcome)", file: file, line: line)
    return outcome.error?.reason
}

/// Parses one complete request that must succeed (at every split) and returns its head and body.
func parseOne(_ text: String, limits: HTTPParserLimits = .init(), bodyLimit: Int? = nil,
              file: StaticString = #filePath, line: UInt = #line) -> (head: HTTPRequestHead, body: String)? {
    let outcome = parseEverySplit(text, limits: limits, bodyLimit: bodyLimit, file: file, line: line)
    XCTAssertNil(outcome.error, "\(outcome)", file: file, line: line)
    XCTAssertEqual(outcome.heads.count, 1, "\(outcome)", file: file, line: line)
    XCTAssertEqual(outcome.events.last, .end, "\(outcome)", file: file, line: line)
    guard let head = outcome.heads.first, let body = outcome.bodies.first else { return nil }
    return (head, String(decoding: body, as: UTF8.self))
}
