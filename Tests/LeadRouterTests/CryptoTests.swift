import XCTest
@testable import Cryptography
@testable import Essentials
@testable import HTTPAPI
@testable import JSONCoding
@testable import LeadRouterService

final class CryptoTests: XCTestCase {
    func testSHA256KnownVectors() {
        XCTAssertEqual(Hex.encode(Crypto.sha256(Array("".utf8))),
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(Hex.encode(Crypto.sha256(Array("abc".utf8))),
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func testHMACSHA256RFC4231Case2() {
        let mac = Crypto.hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        XCTAssertEqual(Hex.encode(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    func testRandomBytesAreFreshEachCall() {
        let a = Crypto.randomBytes(32), b = Crypto.randomBytes(32)
        XCTAssertEqual(a.count, 32)
        XCTAssertNotEqual(a, b)
    }

    func testHexRoundTripAndRejects() {
        XCTAssertEqual(Hex.decode("00ff10AB"), [0x00, 0xff, 0x10, 0xab])
        XCTAssertEqual(Hex.encode([0x00, 0xff, 0x10, 0xab]), "00ff10ab")
        XCTAssertNil(Hex.decode("abc"))
        XCTAssertNil(Hex.decode("zz"))
    }

    func testConstantTimeEquals() {
        XCTAssertTrue(Crypto.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        XCTAssertFalse(Crypto.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        XCTAssertFalse(Crypto.constantTimeEquals([1, 2], [1, 2, 3]))
    }
}

final class SignatureSchemeTests: XCTestCase {
    let secret = Array("whsec_test".utf8)
    let body = Array(#"{"id":"evt_1"}"#.utf8)

    func testSignMatchesTheDocumentedFormula() {
        let header = SignatureScheme.sign(body: body, secret: secret, timestamp: 1_700_000_000)
        let expected = Hex.encode(Crypto.hmacSHA256(key: secret, message: Array("1700000000.".utf8) + body))
        XCTAssertEqual(header, "t=1700000000,v1=\(expected)")
    }

    func testVerifyAcceptsWithinToleranceAndAnyOfSeveralV1() throws {
        let header = SignatureScheme.sign(body: body, secret: secret, timestamp: 1000)
        try SignatureScheme.verify(header: header, body: body, secret: secret, now: 1200, toleranceSeconds: 300)
        let rotated = "t=1000,v1=\(String(repeating: "0", count: 64)),\(header.split(separator: ",")[1])"
        try SignatureScheme.verify(header: rotated, body: body, secret: secret, now: 1000, toleranceSeconds: 300)
    }

    func testVerifyRefusals() {
        let header = SignatureScheme.sign(body: body, secret: secret, timestamp: 1000)
        func failure(_ h: String?, body b: [UInt8]? = nil, now: Int = 1000) -> SignatureScheme.Failure? {
            do { try SignatureScheme.verify(header: h, body: b ?? body, secret: secret, now: now, toleranceSeconds: 300) }
            catch { return error }
            return nil
        }
        XCTAssertEqual(failure(nil), .missing)
        XCTAssertEqual(failure("garbage"), .malformed)
        XCTAssertEqual(failure("t=1000"), .malformed)
        XCTAssertEqual(failure("t=1000,v1=xyz"), .malformed)
        XCTAssertEqual(failure(header, now: 1301), .timestampOutsideTolerance(skewSeconds: 301, toleranceSeconds: 300))
        XCTAssertEqual(failure(header, body: Array(#"{"id":"evt_2"}"#.utf8)), .mismatch)
        XCTAssertNil(failure(header))
    }
}
