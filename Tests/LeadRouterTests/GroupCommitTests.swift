import Foundation
import XCTest
@testable import Ingest

/// Group commit: the messages of a request are spread over lanes by identity, and each lane
/// applies what it took in ONE transaction — rows written together share their `xmin`.
final class GroupCommitTests: XCTestCase {
    func testABatchIsCommittedInOneTransactionPerLane() throws {
        let service = try TestService(test: self) { $0.ingestLanes = 4 }
        var batch: [[String: Any]] = []
        for i in 0..<100 {
            batch.append(["type": "track", "userId": "g-\(i % 20)", "event": "Product Viewed", "messageId": "g-\(i)",
                          "properties": ["n": i], "timestamp": iso(service.clock.now.addingTimeInterval(Double(i)))])
        }
        let r = try service.client().json("POST", "/v1/batch", key: service.ingestKey, ["batch": batch])
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 100)
        let lanesUsed = Set((0..<20).map { service.app.pipeline.laneIndex(for: try! SegmentMessageDecoder().decodeSingle(
            Array(#"{"userId": "g-\#($0)", "event": "x"}"#.utf8), kind: .track, receivedAt: Date())) }).count
        XCTAssertEqual(try service.count("SELECT count(DISTINCT xmin::text) FROM events"), lanesUsed,
                       "one transaction per lane for the whole batch")
        XCTAssertEqual(try service.count("SELECT count(DISTINCT xmin::text) FROM decisions"), lanesUsed)
        // Every lead got its five views, each counted once (3 points each).
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads WHERE abs(score - 15) < 0.01"), 20)
    }
}
