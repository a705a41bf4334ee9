import Foundation
import XCTest
@testable import LeadRouterService

/// `leadrouter serve` settings: defaults < file < flags < LEADROUTER_* environment.
final class ServiceConfigurationTests: XCTestCase {
    private func file(_ yaml: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lr-config-\(UUID().uuidString).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func testDefaultsWithoutAnySource() throws {
        let c = try ServiceConfiguration.resolve(file: nil, flags: [:], environment: [:])
        XCTAssertEqual(c, ServiceConfiguration())
        XCTAssertEqual(c.server.host, "127.0.0.1")
        XCTAssertEqual(c.server.port, 8080)
        XCTAssertNil(c.server.httpServerConfiguration.tls)
    }

    func testPrecedenceFileThenFlagsThenEnvironment() throws {
        let path = try file("""
            server:
              host: 0.0.0.0
              port: 9000
              idle_timeout: 2m
              limits:
                max_body_bytes: 2048
            logging:
              level: debug
            """)
        let fileOnly = try ServiceConfiguration.resolve(file: path, flags: [:], environment: [:])
        XCTAssertEqual(fileOnly.server.host, "0.0.0.0")
        XCTAssertEqual(fileOnly.server.port, 9000)
        XCTAssertEqual(fileOnly.server.idleTimeout, 120)
        XCTAssertEqual(fileOnly.server.maxBodyBytes, 2048)
        XCTAssertEqual(fileOnly.logLevel, "debug")

        let flagged = try ServiceConfiguration.resolve(file: path, flags: ["port": "9100", "host": "::1"], environment: [:])
        XCTAssertEqual(flagged.server.port, 9100)
        XCTAssertEqual(flagged.server.host, "::1")
        XCTAssertEqual(flagged.server.idleTimeout, 120, "untouched by flags")

        let all = try ServiceConfiguration.resolve(
            file: path, flags: ["port": "9100"],
            environment: ["LEADROUTER_PORT": "9200", "LEADROUTER_IDLE_TIMEOUT": "500ms", "PATH": "/bin",
                          "LEADROUTER_DATABASE_URL": "owned by a later issue"])
        XCTAssertEqual(all.server.port, 9200)
        XCTAssertEqual(all.server.idleTimeout, 0.5)
        XCTAssertEqual(all.server.host, "0.0.0.0")
        let server = all.server.httpServerConfiguration
        XCTAssertEqual(server.port, 9200)
        XCTAssertEqual(server.parserLimits.maxBodyBytes, 2048)
    }

    func testTLSAndThreadCountsMapToTheServer() throws {
        let c = try ServiceConfiguration.resolve(
            file: nil, flags: ["tls-certificate": "/c.pem", "tls-key": "/k.pem", "event-loops": "3", "worker-threads": "7"],
            environment: [:])
        let server = c.server.httpServerConfiguration
        XCTAssertEqual(server.tls?.certificatePath, "/c.pem")
        XCTAssertEqual(server.tls?.keyPath, "/k.pem")
        XCTAssertEqual(server.eventLoopCount, 3)
        XCTAssertEqual(server.workerThreads, 7)
    }

    func testCORSOriginsFromTheFileOrTheEnvironment() throws {
        XCTAssertEqual(try ServiceConfiguration.resolve(file: nil, flags: [:], environment: [:]).corsAllowedOrigins, .none)
        let listed = try ServiceConfiguration.resolve(file: nil, flags: [:],
                                                      environment: ["LEADROUTER_CORS_ALLOWED_ORIGINS": "https://Shop.example.com, http://localhost:3000"])
        XCTAssertEqual(listed.corsAllowedOrigins.origins, ["http://localhost:3000", "https://shop.example.com"])
        XCTAssertTrue(listed.corsAllowedOrigins.allows("https://shop.example.com"))
        XCTAssertFalse(listed.corsAllowedOrigins.allows("https://shop.example.com.evil.net"))
        let any = try ServiceConfiguration.resolve(file: try file("ingest:\n  cors_allowed_origins: \"*\"\n"), flags: [:], environment: [:])
        XCTAssertTrue(any.corsAllowedOrigins.allows("https://anything.example"))
        for bad in ["ftp://x.example", "https://x.example/", "*,https://x.example", "https://x .example"] {
            XCTAssertThrowsError(try ServiceConfiguration.resolve(file: nil, flags: [:], environment: ["LEADROUTER_CORS_ALLOWED_ORIGINS": bad]), bad)
        }
    }

    func testUnknownKeysAndBadValuesAreClearErrors() throws {
        let typo = try file("server:\n  prot: 1\n")
        XCTAssertThrowsError(try ServiceConfiguration.resolve(file: typo, flags: [:], environment: [:])) { error in
            XCTAssertEqual(error as? ConfigurationError,
                           ConfigurationError(source: "\(typo):2:3", key: "server.prot", message: "unknown key"))
        }
        let badPort = try file("server:\n  port: 70000\n")
        XCTAssertThrowsError(try ServiceConfiguration.resolve(file: badPort, flags: [:], environment: [:])) { error in
            XCTAssertEqual((error as? ConfigurationError)?.message, "70000 is out of range 0…65535")
            XCTAssertEqual((error as? ConfigurationError)?.source, "\(badPort):2:9")
        }
        XCTAssertThrowsError(try ServiceConfiguration.resolve(file: nil, flags: [:], environment: ["LEADROUTER_PORT": "http"])) { error in
            XCTAssertEqual("\(error)", #"LEADROUTER_PORT: server.port: expected a whole number, got "http""#)
        }
        XCTAssertThrowsError(try ServiceConfiguration.resolve(file: nil, flags: [:], environment: ["LEADROUTER_PROT": "1", "LEADROUTER_PORTS": "1"])) { error in
            XCTAssertEqual((error as? ConfigurationError)?.message, "unknown setting")
        }
        XCTAssertThrowsError(try ServiceConfiguration.resolve(file: nil, flags: ["log-level": "loud"], environment: [:]))
        XCTAssertThrowsError(try ServiceConfiguration.resolve(file: nil, flags: [:], environment: ["LEADROUTER_IDLE_TIMEOUT": "0s"]))
        let section = try file("server: 5\n")
        XCTAssertThrowsError(try ServiceConfiguration.resolve(file: section, flags: [:], environment: [:]))
        XCTAssertThrowsError(try ServiceConfiguration.resolve(file: "/nonexistent.yaml", flags: [:], environment: [:]))
    }

    func testTheShippedConfigFileHoldsEveryKeyWithItsDefault() throws {
        let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/leadrouter.yaml").path
        let c = try ServiceConfiguration.resolve(file: shipped, flags: [:], environment: [:])
        XCTAssertEqual(c, ServiceConfiguration())
        let text = try String(contentsOfFile: shipped, encoding: .utf8)
        for key in ConfigurationKey.all {
            XCTAssertTrue(text.contains(key.path.split(separator: ".").last! + ":"), "\(key.path) missing")
            XCTAssertTrue(text.contains(key.environment), "\(key.environment) not documented")
        }
    }
}
