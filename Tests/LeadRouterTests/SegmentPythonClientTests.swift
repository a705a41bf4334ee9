import Foundation
import XCTest

/// The official `segment-analytics-python` client from PyPI (`pip install segment-analytics-python`),
/// pointed at leadrouter, delivers unchanged: gzip batches, Basic auth with the write key,
/// writeKey in the body, sentAt clock correction.
final class SegmentPythonClientTests: XCTestCase {
    static let script = #"""
        import sys
        import segment.analytics as analytics
        from segment.analytics import Client

        errors = []
        client = Client(write_key=sys.argv[2], host=sys.argv[1], gzip=True, sync_mode=True, max_retries=0,
                        on_error=lambda error, items: errors.append(repr(error)))
        client.identify("py-user-1", {"email": "Py.User@Example.com", "name": "Py User", "address": {"country": "CH"}},
                        message_id="py-identify-1")
        for i in range(3):
            client.track("py-user-1", "Product Viewed", {"product_id": "p%d" % i, "category": "skincare-sets"},
                         message_id="py-track-%d" % i)
        client.page("py-user-1", "Docs", "Shipping", {"path": "/shipping", "url": "https://shop.example.com/shipping"},
                    message_id="py-page-1")
        client.group("py-user-1", "acct-9", {"website": "https://example.com", "employees": 250, "industry": "retail"},
                     message_id="py-group-1")
        client.track(anonymous_id="py-anon-1", event="Product Added", properties={"price": 600, "quantity": 1},
                     message_id="py-track-anon")
        client.alias("py-anon-1", "py-user-1", message_id="py-alias-1")
        client.flush()
        # A message as RudderStack's browser and mobile SDKs send it (originalTimestamp, no
        # timestamp), queued offline an hour ago; the client's own transport (Basic auth, gzip,
        # its sentAt) carries it: the service must date it an hour before receipt.
        from datetime import datetime, timedelta, timezone
        from segment.analytics.request import post
        an_hour_ago = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
        post(sys.argv[2], sys.argv[1], gzip=True, batch=[{"type": "track", "event": "Offline Note", "userId": "py-user-1",
             "messageId": "py-offline-1", "originalTimestamp": an_hour_ago}])
        if errors:
            print("\n".join(errors))
            sys.exit(1)
        print("sent", analytics.VERSION)
        """#

    func testOfficialPythonClientDeliversUnchanged() throws {
        try requirePythonModule("segment.analytics", package: "segment-analytics-python")
        let service = try TestService(test: self)
        try runPythonClient(Self.script, against: service)

        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 9)
        XCTAssertEqual(try service.count("SELECT count(*) FROM processed_messages WHERE message_id LIKE 'py-%'"), 9)
        try assertDatedAnHourBeforeReceipt("py-offline-1", service: service)
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads WHERE merged_into IS NULL"), 1, "alias merged the anonymous lead")
        let client = try service.client()
        let lead = try client.json("GET", "/v1/leads?email=py.user@example.com", key: service.readKey).json
        XCTAssertEqual(lead["user_id"] as? String, "py-user-1")
        XCTAssertEqual(lead["country"] as? String, "CH")
        XCTAssertEqual(lead["anonymous_ids"] as? [String], ["py-anon-1"])
        XCTAssertEqual((lead["company"] as? [String: Any])?["domain"] as? String, "example.com")
        XCTAssertEqual((lead["company"] as? [String: Any])?["size"] as? Double, 250)
        // Three views (browser, skincare sets), the shipping page while browsing (comparer), a 600 cart
        // sent anonymously and merged by alias (big cart).
        XCTAssertEqual(lead["segments"] as? [String], ["consideration.mid-intent.browser", "consideration.mid-intent.comparer",
                                                       "consideration.mid-intent.skincare-sets", "decision.high-intent.big-cart"])
        XCTAssertEqual(try service.storedEvents(where: "type = 'page_viewed'").filter {
            ($0.message["properties"] as? [String: Any])?["category"] as? String == "Docs"
        }.count, 1)
    }
}
