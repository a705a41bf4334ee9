import Foundation
import Postgres
import XCTest

/// The hand-written UUID formatter of the write path must print exactly what
/// `uuidString.lowercased()` prints, for any UUID (documents and answers keep their bytes).
final class UUIDTextTests: XCTestCase {
    func testLowercasedTextEqualsFoundationsFormatting() {
        let fixed = [UUID(uuidString: "00000000-0000-0000-0000-000000000000")!, UUID(uuidString: "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF")!,
                     UUID(uuidString: "0A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9")!]
        for id in fixed + (0..<1000).map({ _ in UUID() }) {
            XCTAssertEqual(id.lowercasedText, id.uuidString.lowercased())
        }
        XCTAssertEqual(fixed[2].lowercasedText, "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9")
    }

    func testAppendsAfterExistingBytesAndBindsTheSameText() {
        let id = UUID(uuidString: "0A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9")!
        var bytes = Array("id=".utf8)
        id.appendLowercasedText(to: &bytes)
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), "id=0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9")
        XCTAssertEqual(id.postgresEncoded(), Array("0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9".utf8))
    }
}
