import Foundation
import Segmentation
import XCTest
@testable import LeadRouter

/// The pieces behind `HostileInputTests`, without a server: signature timestamps, content
/// problems in JSON, the event-time window, batch splitting, the write scope, configuration.
final class HostileInputUnitTests: XCTestCase {
    let received = Date(timeIntervalSince1970: 1_795_000_000)

    func testSignatureTimestampIsOneToTwelveDigitsAndSkewNeverTraps() {
        XCTAssertEqual(SignatureScheme.parseTimestamp("1700000000"), 1_700_000_000)
        XCTAssertEqual(SignatureScheme.parseTimestamp("999999999999"), 999_999_999_999)
        for bad in ["", "-1", "+1", "1234567890123", "-9223372036854775808", "9223372036854775807", "1e3", " 1", "١٢"] {
            XCTAssertNil(SignatureScheme.parseTimestamp(bad), bad)
        }
        let secret = Array("k".utf8), body = Array("{}".utf8)
        let mac = String(repeating: "0", count: 64)
        func failure(_ header: String, now: Int) -> SignatureScheme.Failure? {
            do { try SignatureScheme.verify(header: header, body: body, secret: secret, now: now, toleranceSeconds: 300) } catch { return error }
            return nil
        }
        XCTAssertEqual(failure("t=-9223372036854775808,v1=\(mac)", now: 1_700_000_000), .malformed)
        // Extreme clocks on the server side: no overflow either.
        XCTAssertEqual(failure("t=999999999999,v1=\(mac)", now: Int.min),
                       .timestampOutsideTolerance(skewSeconds: Int.max, toleranceSeconds: 300))
        XCTAssertEqual(failure("t=0,v1=\(mac)", now: Int.max),
                       .timestampOutsideTolerance(skewSeconds: Int.max, toleranceSeconds: 300))
        XCTAssertEqual(failure("t=1000,v1=\(mac)", now: 1000), .mismatch)
    }

    func testWriteScopeParsesAndAdminImpliesIt() throws {
        XCTAssertEqual(try APIScope.parseList("read,write"), [.read, .write])
        XCTAssertTrue(APIScope.write.isGranted(by: [.admin]))
        XCTAssertFalse(APIScope.write.isGranted(by: [.read, .ingest, .queue]))
        XCTAssertFalse(APIScope.read.isGranted(by: [.write]))
    }

}
