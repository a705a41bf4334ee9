import Foundation
import XCTest
@testable import Cryptography
@testable import HTTPAPI
@testable import JSONCoding
@testable import LeadRouterService
@testable import LeadStore

final class AuthPrimitivesTests: XCTestCase {
    func testGeneratedKeysHaveTheFormatAndHash() {
        let key = NewAPIKey.generate()
        XCTAssertTrue(key.plaintext.hasPrefix("lr_"))
        XCTAssertEqual(key.plaintext.count, 43)
        XCTAssertEqual(key.prefix, String(key.plaintext.prefix(11)))
        XCTAssertEqual(key.hash, Crypto.sha256(Array(key.plaintext.utf8)))
        XCTAssertNotEqual(key.plaintext, NewAPIKey.generate().plaintext)
    }

    func testScopesParseAndAdminImpliesAll() throws {
        XCTAssertEqual(try APIScope.parseList("ingest, READ"), [.ingest, .read])
        XCTAssertThrowsError(try APIScope.parseList("ingest,delete")) {
            XCTAssertEqual($0 as? APIKeyError, .unknownScope("delete"))
        }
        XCTAssertThrowsError(try APIScope.parseList(" , ")) { XCTAssertEqual($0 as? APIKeyError, .noScopes) }
        XCTAssertTrue(APIScope.queue.isGranted(by: [.admin]))
        XCTAssertFalse(APIScope.queue.isGranted(by: [.read, .ingest]))
    }

    func testAuthorizationHeaders() throws {
        XCTAssertNil(try CredentialParser.parse(authorization: nil))
        XCTAssertEqual(try CredentialParser.parse(authorization: "Bearer lr_abc"), .bearer("lr_abc"))
        let basic = "Basic " + Data("lr_write:".utf8).base64EncodedString()
        XCTAssertEqual(try CredentialParser.parse(authorization: basic), .basicUser("lr_write"))
        XCTAssertThrowsError(try CredentialParser.parse(authorization: "Digest abc")) {
            XCTAssertEqual($0 as? CredentialParser.Failure, .unsupportedScheme("Digest"))
        }
        XCTAssertThrowsError(try CredentialParser.parse(authorization: "Basic !!!")) {
            XCTAssertEqual($0 as? CredentialParser.Failure, .malformed)
        }
        XCTAssertThrowsError(try CredentialParser.parse(authorization: "Basic " + Data(":pw".utf8).base64EncodedString()))
    }
}
