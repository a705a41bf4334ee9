import Foundation
import Postgres
import XCTest
@testable import LeadRouterService
@testable import LeadStore

/// Keys across `leadrouter serve` processes and the `leadrouter keys` commands: a key revoked
/// through one node is refused there at once and on the other node within its key cache time
/// (10 s); `keys list|create|revoke|rotate` as an operator runs them.
final class KeyNodesTests: XCTestCase {
    private var binary: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("leadrouter")
    }

    /// Runs `leadrouter keys …`; returns exit status and standard output.
    private func keys(_ arguments: [String], _ databaseURL: String) throws -> (status: Int32, out: String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = ["keys"] + arguments
        process.environment = ["DATABASE_URL": databaseURL]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = Pipe()
        try process.run()
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, printed)
    }

    private func lastLine(_ text: String) -> String { text.split(separator: "\n").last.map(String.init) ?? "" }

    func testRevokeReachesTheOtherNodeWithinTheCacheTime() throws {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("leadrouter is not built next to the tests (run `swift build` first)")
        }
        let databaseURL = try TestDatabases.create()
        defer { TestDatabases.drop(databaseURL) }
        let nodes = try (0..<2).map { _ in try ServeNode.start(binary: binary, databaseURL: databaseURL) }
        defer { for node in nodes { node.process.terminate(); node.process.waitUntilExit() } }

        let admin = lastLine(try keys(["create", "--name", "ops", "--scopes", "admin"], databaseURL).out)
        let created = try keys(["create", "--name", "crm", "--scopes", "read"], databaseURL)
        XCTAssertEqual(created.status, 0)
        let key = lastLine(created.out)
        let a = try TestHTTPClient(port: nodes[0].port), b = try TestHTTPClient(port: nodes[1].port)
        XCTAssertEqual(try b.json("GET", "/v1/segments", key: key).status, 200)  // node B caches the key now
        XCTAssertEqual(try a.json("GET", "/v1/segments", key: key).status, 200)

        let listed = try a.json("GET", "/v1/keys", key: admin)
        let id = try XCTUnwrap((listed.json["data"] as? [[String: Any]])?.first { $0["name"] as? String == "crm" }?["id"] as? String)
        let revokedAt = Date()
        XCTAssertEqual(try a.json("DELETE", "/v1/keys/\(id)", key: admin).status, 200)
        XCTAssertEqual(try a.json("GET", "/v1/segments", key: key).status, 401, "refused at once on the node that revoked it")
        var status = 200
        while status == 200, Date().timeIntervalSince(revokedAt) < 15 {
            status = try b.json("GET", "/v1/segments", key: key).status
            if status == 200 { Thread.sleep(forTimeInterval: 0.2) }
        }
        XCTAssertEqual(status, 401)
        XCTAssertLessThanOrEqual(Date().timeIntervalSince(revokedAt), 10.5, "within the 10 s key cache time")
    }

    func testKeysCommands() throws {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("leadrouter is not built next to the tests (run `swift build` first)")
        }
        let databaseURL = try TestDatabases.create()
        defer { TestDatabases.drop(databaseURL) }
        _ = try Migrator(configuration: PostgresConfiguration(url: databaseURL), directory: repositoryRoot.appendingPathComponent("migrations"),
                         logger: TestDatabases.logger).migrate()

        let web = try keys(["create", "--name", "web", "--public", "--cors-allowed-origins", "https://Shop.Example.com,http://localhost:3000"], databaseURL)
        XCTAssertEqual(web.status, 0, web.out)
        XCTAssertTrue(web.out.contains("with scopes ingest (public)"), web.out)
        let anna = try keys(["create", "--name", "anna", "--scopes", "queue", "--owner", "rep_anna"], databaseURL)
        XCTAssertEqual(anna.status, 0, anna.out)
        XCTAssertTrue(anna.out.contains("(bound to owner rep_anna)"), anna.out)
        XCTAssertNotEqual(try keys(["create", "--name", "bad", "--scopes", "ingest,read", "--public"], databaseURL).status, 0)
        XCTAssertNotEqual(try keys(["create", "--name", "bad", "--scopes", "admin", "--owner", "rep_anna"], databaseURL).status, 0)

        let list = try keys(["list"], databaseURL)
        XCTAssertEqual(list.status, 0)
        let lines = list.out.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertEqual(lines.first, ["id", "name", "prefix", "scopes", "kind", "cors_origins", "created_at", "last_used_at", "revoked_at", "expires_at"])
        XCTAssertEqual(lines.dropFirst().map { [$0[1], $0[3], $0[4], $0[5]] },
                       [["web", "ingest", "public", "http://localhost:3000,https://shop.example.com"], ["anna", "queue", "owner:rep_anna", "default"]])
        XCTAssertFalse(list.out.contains(lastLine(web.out)), "never the key")
        let annaID = lines[2][0]

        let rotated = try keys(["rotate", annaID, "--grace-seconds", "60"], databaseURL)
        XCTAssertEqual(rotated.status, 0, rotated.out)
        let newKey = lastLine(rotated.out)
        XCTAssertTrue(newKey.hasPrefix("lr_") && newKey != lastLine(anna.out))
        let conn = try PostgresConnection(url: databaseURL, logger: TestDatabases.logger)
        let store = Store(conn)
        let stored = try XCTUnwrap(try store.apiKey(hash: APIKeyHash.of(newKey)))
        XCTAssertEqual(stored.ownerId, "rep_anna")
        XCTAssertEqual(stored.scopes, [.queue])
        let old = try XCTUnwrap(try store.apiKey(hash: APIKeyHash.of(lastLine(anna.out))), "works during the grace period")
        XCTAssertEqual(try XCTUnwrap(old.expiresAt).timeIntervalSinceNow, 60, accuracy: 10)
        XCTAssertNotEqual(try keys(["rotate", annaID, "--grace-seconds", "-5"], databaseURL).status, 0)

        let revoked = try keys(["revoke", annaID], databaseURL)
        XCTAssertEqual(revoked.status, 0)
        XCTAssertNil(try store.apiKey(hash: APIKeyHash.of(lastLine(anna.out))))

        // A key's own CORS origins: set at creation, replaced, dropped for the default; bad input changes nothing.
        let webID = lines[1][0], webKey = APIKeyHash.of(lastLine(web.out))
        XCTAssertEqual(try store.apiKey(hash: webKey)?.corsAllowedOrigins, AllowedOrigins(origins: ["http://localhost:3000", "https://shop.example.com"]))
        let any = try keys(["cors", webID, "*"], databaseURL)
        XCTAssertEqual(any.status, 0, any.out)
        XCTAssertTrue(any.out.contains("CORS origins: *"), any.out)
        XCTAssertEqual(try store.apiKey(hash: webKey)?.corsAllowedOrigins, AllowedOrigins(any: true))
        XCTAssertNotEqual(try keys(["cors", webID, "shop.example.com"], databaseURL).status, 0)
        XCTAssertNotEqual(try keys(["cors", webID], databaseURL).status, 0, "ORIGINS or --default")
        XCTAssertNotEqual(try keys(["create", "--name", "bad", "--public", "--cors-allowed-origins", "https://a.example/path"], databaseURL).status, 0)
        XCTAssertEqual(try store.apiKey(hash: webKey)?.corsAllowedOrigins, AllowedOrigins(any: true))
        XCTAssertEqual(try keys(["cors", webID, "--default"], databaseURL).status, 0)
        XCTAssertNil(try store.apiKey(hash: webKey)?.corsAllowedOrigins)
        XCTAssertNotEqual(try keys(["revoke", UUID().uuidString], databaseURL).status, 0)
        XCTAssertNotEqual(try keys(["rotate", annaID], databaseURL).status, 0, "a revoked key is not rotated")
        XCTAssertTrue(try keys(["list"], databaseURL).out.split(separator: "\n").contains { $0.hasPrefix(annaID) && !$0.hasSuffix("-\t-") })
    }
}
