import Foundation
import XCTest

/// The official `rudder-sdk-python` client from PyPI (`pip install rudder-sdk-python`; scripts/test.sh
/// installs it), pointed at leadrouter as its data plane, delivers unchanged: `/v1/batch`, gzip,
/// Basic auth with the write key, its `+00:00` microsecond times, sentAt clock correction.
final class RudderPythonClientTests: XCTestCase {
    static let script = #"""
        import sys
        from datetime import datetime, timedelta, timezone
        import rudderstack.analytics as rudder
        from rudderstack.analytics.client import Client
        from rudderstack.analytics.request import post

        errors = []
        client = Client(write_key=sys.argv[2], host=sys.argv[1], gzip=True, sync_mode=True, max_retries=0,
                        on_error=lambda error, items: errors.append(repr(error)))
        client.identify("rs-user-1", {"email": "RS.User@Example.com", "address": {"country": "AT"}}, message_id="rs-identify-1")
        client.track("rs-user-1", "Product Viewed", {"product_id": "p1", "category": "skincare-sets"}, message_id="rs-track-1")
        client.page("rs-user-1", "Docs", "Shipping", {"path": "/shipping"}, message_id="rs-page-1")
        client.flush()
        # As RudderStack's JS and mobile SDKs send a message queued offline: originalTimestamp,
        # no timestamp. Sent through the client's own transport (Basic auth, gzip, its sentAt).
        an_hour_ago = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
        post(sys.argv[2], sys.argv[1], gzip=True, batch=[{"type": "track", "event": "Offline Note", "userId": "rs-user-1",
             "messageId": "rs-offline-1", "originalTimestamp": an_hour_ago, "channel": "mobile"}])
        if errors:
            print("\n".join(errors))
            sys.exit(1)
        print("sent", rudder.VERSION)
        """#

    func testOfficialRudderPythonClientDeliversUnchanged() throws {
        try requirePythonModule("rudderstack.analytics", package: "rudder-sdk-python")
        let service = try TestService(test: self)
        try runPythonClient(Self.script, against: service)

        XCTAssertEqual(try service.count("SELECT count(*) FROM processed_messages WHERE message_id LIKE 'rs-%'"), 4)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 4)
        try assertDatedAnHourBeforeReceipt("rs-offline-1", service: service)
        let lead = try service.client().json("GET", "/v1/leads?email=rs.user@example.com", key: service.readKey).json
        XCTAssertEqual(lead["user_id"] as? String, "rs-user-1")
        XCTAssertEqual(lead["country"] as? String, "AT")
    }
}
