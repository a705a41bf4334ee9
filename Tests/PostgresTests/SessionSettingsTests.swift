import Postgres
import XCTest

/// A configuration's session settings hold for every connection it opens, whether they go in the
/// startup packet or, when the URL brings its own `options`, as SETs after connecting.
final class SessionSettingsTests: XCTestCase {
    func testSessionSettingsApplyWithAndWithoutTheURLsOwnOptions() throws {
        let url = try TestDatabase.url()
        let separator = url.contains("?") ? "&" : "?"
        for candidate in [url, url + separator + "options=-c%20statement_timeout%3D60000"] {
            let configuration = PostgresConfiguration(url: candidate, sessionSettings: [("synchronous_commit", "off")])
            let connection = try PostgresConnection(configuration: configuration, logger: TestDatabase.logger)
            let value = try connection.query("SHOW synchronous_commit").first?.decode(String.self, at: 0)
            XCTAssertEqual(value, "off", candidate)
            let zone = try connection.query("SHOW TimeZone").first?.decode(String.self, at: 0)
            XCTAssertEqual(zone, "UTC", "the service's own settings still hold: \(candidate)")
        }
        let plain = try PostgresConnection(configuration: PostgresConfiguration(url: url), logger: TestDatabase.logger)
        XCTAssertEqual(try plain.query("SHOW synchronous_commit").first?.decode(String.self, at: 0), "on")
    }
}
