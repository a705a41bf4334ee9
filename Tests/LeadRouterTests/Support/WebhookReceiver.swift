import Foundation
import HTTPServer
import Logging
import Postgres
import XCTest
@testable import Essentials
@testable import Ingest
@testable import LeadStore
@testable import Webhooks

/// A webhook receiver on a real loopback socket (our own HTTPServer), whose answer to each
/// request a test chooses: 2xx, an error status, or hanging past the sender's timeout.
final class WebhookReceiver: @unchecked Sendable {
    enum Behaviour: Sendable { case ok, fail(Int), hang(Double), slow(Double) }

    /// One request as it arrived, and what it was answered.
    struct Request: Sendable {
        var eventId: String?
        var signature: String?
        var attempt: String?
        var body: [UInt8]
        var path: String
        var answered: Int  // 0 = hung
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
        var leadId: String? { (json["data"] as? [String: Any])?["lead_id"] as? String }
    }

    let server: HTTPServer
    private let log = Locked<[Request]>([])
    private let behaviour: Locked<@Sendable (Int) -> Behaviour>

    init(tls: TLSConfiguration? = nil, behaviour: @escaping @Sendable (Int) -> Behaviour = { _ in .ok }) throws {
        self.behaviour = Locked(behaviour)
        var configuration = HTTPServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.eventLoopCount = 1
        configuration.workerThreads = 16
        configuration.shutdownGracePeriod = 0.5
        configuration.tls = tls
        var router = HTTPRouter()
        let handler: @Sendable (HTTPRequest) throws -> HTTPResponse = { [log, behaviour = self.behaviour] request in
            let number = log.withLock { $0.count }
            let decision = behaviour.withLock { $0 }(number)
            var entry = Request(eventId: request.headers["X-Leadrouter-Event-Id"], signature: request.headers["X-Leadrouter-Signature"],
                                attempt: request.headers["X-Leadrouter-Delivery-Attempt"], body: request.body,
                                path: request.head.path, answered: 0)
            switch decision {
            case .ok: entry.answered = 204
            case let .slow(seconds): Thread.sleep(forTimeInterval: seconds); entry.answered = 204
            case let .fail(status): entry.answered = status
            case let .hang(seconds):
                log.withLock { $0.append(entry) }
                Thread.sleep(forTimeInterval: seconds)
                return HTTPResponse(status: .ok)  // too late: the sender gave up
            }
            log.withLock { $0.append(entry) }
            return HTTPResponse(status: HTTPStatus(entry.answered, entry.answered == 204 ? "No Content" : "Failed"))
        }
        router.add(.POST, "/hook", handler)
        router.add(.POST, "/hook/{name}", handler)
        var logger = Logger(label: "webhook-receiver")
        logger.logLevel = .critical
        server = HTTPServer(configuration: configuration, router: router, logger: logger)
        try server.start()
    }

    var port: Int { server.port! }
    var url: String { "http://127.0.0.1:\(port)/hook" }

    func setBehaviour(_ next: @escaping @Sendable (Int) -> Behaviour) { behaviour.withLock { $0 = next } }

    var requests: [Request] { log.withLock { $0 } }
    /// Requests answered 2xx, in arrival order.
    var accepted: [Request] { requests.filter { (200...299).contains($0.answered) } }

    func stop() { server.shutdown(); server.waitUntilStopped() }

    /// For each lead, `seq` of its accepted events in arrival order, and whether any attempt of a
    /// later event arrived before the one before it was accepted.
    static func perLeadOrder(_ requests: [Request]) -> (accepted: [String: [Int]], violations: [String]) {
        var accepted: [String: [Int]] = [:]
        var violations: [String] = []
        for request in requests {
            guard let lead = request.leadId, let seq = ((request.json["data"] as? [String: Any])?["seq"] as? String).flatMap(Int.init) else { continue }
            let done = accepted[lead, default: []]
            let next = (done.max() ?? -1) + 1
            if seq > next { violations.append("lead \(lead): event \(seq) attempted before \(next) was delivered") }
            if (200...299).contains(request.answered), !done.contains(seq) { accepted[lead, default: []].append(seq) }
        }
        return (accepted, violations)
    }

    /// Waits until `condition` holds (checked every 50 ms) or fails the test after `timeout`.
    static func eventually(timeout: Double = 60, _ what: String, file: StaticString = #filePath, line: UInt = #line,
                           _ condition: () throws -> Bool) rethrows {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTFail("timed out waiting for \(what)", file: file, line: line)
    }
}

/// Fast-moving webhook settings for tests: short polls, timeouts and backoff.
func testWebhookSettings(workers: Int = 4, responseTimeout: Double = 1, maxAttempts: Int = 50) -> WebhookSettings {
    var settings = WebhookSettings()
    settings.workers = workers
    settings.databaseConnections = 3
    settings.pollInterval = 0.05
    settings.timeouts = .init(connect: 1, response: responseTimeout)
    settings.backoffBase = 0.05
    settings.backoffCap = 0.4
    settings.maxAttempts = maxAttempts
    settings.allowPrivateNetworks = true  // the receivers of these tests listen on 127.0.0.1
    return settings
}

extension TestService {
    /// Writes outbox rows as EvaluationWriter does: `count` messages for each of `leads`, each
    /// payload carrying its lead and sequence number (to check per-lead order at the receiver).
    func writeOutbox(leads: [UUID], perLead count: Int, topic: OutboxTopic = .leadStatusChanged) throws {
        try writeTestOutbox(databaseURL: url, leads: leads, perLead: count, topic: topic)
    }

    /// Creates a subscription through the API and returns its JSON (with the secret).
    func subscribe(_ body: [String: Any]) throws -> [String: Any] {
        let response = try client().json("POST", "/v1/subscriptions", key: adminKey, body)
        XCTAssertEqual(response.status, 201, response.text)
        return response.json
    }
}

/// `TestService.writeOutbox` for any database.
func writeTestOutbox(databaseURL: String, leads: [UUID], perLead count: Int, topic: OutboxTopic = .leadStatusChanged) throws {
    let conn = try PostgresConnection(url: databaseURL, logger: TestDatabases.logger)
    try conn.withTransaction { conn in
        var messages: [OutboxMessage] = []
        for n in 0..<count {
            for lead in leads {
                messages.append(OutboxMessage(topic: topic, leadId: lead, payload: try PostgresJSON(encoding: [
                    "lead_id": lead.uuidString.lowercased(), "seq": String(n), "from": "a", "to": "b",
                ])))
            }
        }
        try Store(conn).appendOutbox(messages)
    }
}
