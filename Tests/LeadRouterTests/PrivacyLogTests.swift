import Foundation
import HTTPServer
import Logging
import XCTest
@testable import HTTPAPI

/// Log lines carry no personal data by default (issue 17): no peer address, no query values,
/// no write key in a path; `logging.personal_data` turns them back on for debugging.
final class PrivacyLogTests: XCTestCase {
    func testTargetsLoseQueryValuesAndWriteKeysUnlessPersonalDataIsOn() {
        let privacy = LogPrivacy(redactPath: PathRedaction.redactWriteKey)
        XCTAssertEqual(privacy.target("/v1/leads?email=ana@acme.io&limit=5"), "/v1/leads?email=-&limit=-")
        XCTAssertEqual(privacy.target("/v1/projects/lr_secretkey/settings"), "/v1/projects/-/settings")
        XCTAssertEqual(privacy.target("/v1/leads/8c0e"), "/v1/leads/8c0e")
        XCTAssertEqual(privacy.peer("203.0.113.9:5000"), [:])
        let debugging = LogPrivacy(personalData: true, redactPath: PathRedaction.redactWriteKey)
        XCTAssertEqual(debugging.target("/v1/leads?email=ana@acme.io"), "/v1/leads?email=ana@acme.io")
        XCTAssertEqual(debugging.peer("203.0.113.9:5000"), ["peer": "203.0.113.9:5000"])
    }

    /// Through a real server: the request lines of a lead lookup by email and of ingest say
    /// nothing of the email, the client address or the key; with the switch on, the address is
    /// logged (query strings never are: the request line logs the path alone).
    func testServedRequestsLogNoPersonalDataByDefault() throws {
        for personal in [false, true] {
            let captured = CapturedLog()
            var logger = Logger(label: "t") { _ in captured.handler() }
            logger.logLevel = .info
            let service = try TestService(test: self, logger: logger) { $0.server.logPrivacy.personalData = personal }
            let client = try service.client()
            XCTAssertEqual(try client.json("POST", "/v1/identify", key: service.ingestKey,
                                           ["userId": "u-log", "traits": ["email": "log.person@example.org"]]).status, 200)
            XCTAssertEqual(try client.json("GET", "/v1/leads?email=log.person@example.org", key: service.readKey).status, 200)
            XCTAssertEqual(try client.json("GET", "/v1/leads?user_id=u-log&writeKey=\(service.ingestKey)", key: service.readKey).status, 200)
            let lines: [String] = {
                let deadline = Date().addingTimeInterval(5)
                while Date() < deadline {
                    let lines = captured.lines.filter { $0.contains(" request ") }
                    if lines.count >= 3 { return lines }
                    Thread.sleep(forTimeInterval: 0.02)
                }
                XCTFail("request lines not logged")
                return captured.lines
            }()
            let text = lines.joined(separator: "\n")
            XCTAssertEqual(text.contains("peer=127.0.0.1"), personal, "the client address only with personal_data:\n\(text)")
            for secret in ["log.person@example.org", "u-log", service.ingestKey] {
                XCTAssertFalse(text.contains(secret), "\(secret) in request lines with personal_data=\(personal):\n\(text)")
            }
        }
    }
}
