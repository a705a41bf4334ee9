import Foundation
import XCTest
@testable import Cryptography
@testable import HTTPAPI
@testable import JSONCoding
@testable import LeadRouterService

final class GzipInflaterTests: XCTestCase {
    // gzip of {"type":"track","event":"Product Added"} (made with Python's gzip, mtime 0).
    let message: [UInt8] = [31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 171, 86, 42, 169, 44, 72, 85, 178, 82, 42, 41, 74, 76,
        206, 86, 210, 81, 74, 45, 75, 205, 43, 1, 242, 3, 138, 242, 83, 74, 147, 75, 20, 28, 83, 82, 82, 83, 148,
        106, 1, 209, 44, 27, 214, 40, 0, 0, 0]
    // Two members: "hello " then "world".
    let twoMembers: [UInt8] = [31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 203, 72, 205, 201, 201, 87, 0, 0, 246, 249, 129, 237,
        6, 0, 0, 0, 31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 43, 207, 47, 202, 73, 1, 0, 67, 17, 119, 58, 5, 0, 0, 0]

    func testInflatesAMessage() throws {
        let out = try GzipInflater.inflate(message, maxOutputBytes: 1024)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), #"{"type":"track","event":"Product Added"}"#)
    }

    func testInflatesConcatenatedMembers() throws {
        XCTAssertEqual(String(decoding: try GzipInflater.inflate(twoMembers, maxOutputBytes: 1024), as: UTF8.self),
                       "hello world")
    }

    func testRefusesTruncatedAndGarbage() {
        XCTAssertThrowsError(try GzipInflater.inflate(Array(message.prefix(20)), maxOutputBytes: 1024)) {
            XCTAssertEqual($0 as? GzipInflater.Failure, .truncated)
        }
        XCTAssertThrowsError(try GzipInflater.inflate(Array("not gzip at all".utf8), maxOutputBytes: 1024)) {
            guard case .invalidData = $0 as? GzipInflater.Failure else { return XCTFail("\($0)") }
        }
    }

    func testStopsABombAtTheLimit() throws {
        // 10 MB of zeros compresses to ~10 KB; the limit must stop inflation, not allocate 10 MB.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "head -c 10000000 /dev/zero | gzip -c"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let bomb = [UInt8](pipe.fileHandleForReading.readDataToEndOfFile())
        process.waitUntilExit()
        XCTAssertLessThan(bomb.count, 20_000)
        XCTAssertThrowsError(try GzipInflater.inflate(bomb, maxOutputBytes: 500_000)) {
            XCTAssertEqual($0 as? GzipInflater.Failure, .tooLarge(limit: 500_000))
        }
        XCTAssertEqual(try GzipInflater.inflate(bomb, maxOutputBytes: 10_000_000).count, 10_000_000)
    }
}
