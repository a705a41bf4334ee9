import Foundation
import Logging
import XCTest
@testable import LeadRouterService

/// `GET /metrics`: scope `read` on the main port, the unauthenticated metrics port, and the
/// exposition read back by the official Prometheus parser (`prometheus-client` from PyPI), with
/// values computed by hand from a scripted history on the manual clock.
final class MetricsEndpointTests: XCTestCase {
    func testMetricsNeedAReadKeyOnTheMainPort() throws {
        let service = try TestService(test: self)
        let client = try service.client()
        XCTAssertEqual(try client.request("GET", "/metrics").status, 401)
        XCTAssertEqual(try client.json("GET", "/metrics", key: service.ingestKey).status, 403)
        let r = try client.json("GET", "/metrics", key: service.readKey)
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.header("content-type"), "text/plain; version=0.0.4; charset=utf-8")
        XCTAssertTrue(r.text.contains("leadrouter_ingest_events_total"), r.text)
    }

    func testTheMetricsPortServesOnlyMetricsWithoutAuthentication() throws {
        let service = try TestService(test: self) { $0.metricsPort = 0 }
        let port = try XCTUnwrap(service.app.metricsPort)
        XCTAssertNotEqual(port, service.port)
        let client = try TestHTTPClient(port: port)
        let r = try client.request("GET", "/metrics")
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertTrue(r.text.contains("leadrouter_sweeper_lag_seconds"), r.text)
        XCTAssertEqual(try client.request("GET", "/v1/segments").status, 404, "only /metrics on the metrics port")
        XCTAssertEqual(try client.request("GET", "/healthz").status, 404)
    }

    func testTheOfficialParserReadsHandComputedValues() throws {
        try requirePythonModule("prometheus_client", package: "prometheus-client")
        let service = try TestService(test: self) { $0.metricsCacheSeconds = 0 }
        // Three tracks from two people, then one batch with one valid and two invalid messages.
        for user in ["m-1", "m-2", "m-1"] {
            XCTAssertEqual(try service.send("/v1/track", ["userId": user, "event": "Product Viewed"]).status, 200)
        }
        let now = iso(service.clock.now)
        let batch = #"{"batch":[{"type":"track","userId":"m-3","event":"Product Viewed","messageId":"b-0","timestamp":"\#(now)"},"#
            + #"{"type":"track","event":"Product Viewed","messageId":"b-1"},"not an object"]}"#
        let answer = try service.client().request("POST", "/v1/batch", headers: [
            "Authorization": "Bearer \(service.ingestKey)", "Content-Type": "application/json",
        ], body: Array(batch.utf8))
        XCTAssertEqual(answer.status, 200, answer.text)
        // A due re-evaluation 120 s late, and a sales queue item open for 300 s, SLA breached.
        let connection = try service.connection()
        _ = try connection.execute(.init(unsafeRaw: "UPDATE leads SET next_evaluation_at = '\(iso(service.clock.now.addingTimeInterval(-120)))' WHERE user_id = 'm-1'"))
        _ = try connection.execute(.init(unsafeRaw: """
            INSERT INTO queue_items (queue, lead_id, created_at, sla_due_at, sla_breached_at)
            SELECT 'metrics-q', id, '\(iso(service.clock.now.addingTimeInterval(-300)))', '\(iso(service.clock.now.addingTimeInterval(-60)))',
                   '\(iso(service.clock.now.addingTimeInterval(-60)))'
            FROM leads WHERE user_id = 'm-2'
            """))
        let scrape = try service.client().json("GET", "/metrics", key: service.readKey)
        XCTAssertEqual(scrape.status, 200)
        let samples = try parseWithPrometheusClient(scrape.text)

        XCTAssertEqual(samples["leadrouter_ingest_events_total"], 4, "3 tracks and the batch's valid one")
        XCTAssertEqual(samples["leadrouter_ingest_rejected_messages_total"], 2)
        XCTAssertEqual(samples[#"leadrouter_ingest_rejected_messages_today{reason="/"}"#], 1)
        XCTAssertEqual(samples[#"leadrouter_ingest_rejected_messages_today{reason="/userId"}"#], 1)
        XCTAssertEqual(samples[#"leadrouter_http_request_duration_seconds_count{method="POST",route="/v1/track",status="200"}"#], 3)
        XCTAssertEqual(samples[#"leadrouter_http_request_duration_seconds_count{method="POST",route="/v1/batch",status="200"}"#], 1)
        // Lane transactions: at least one, and together they carried the 4 applied messages.
        XCTAssertEqual(samples["leadrouter_ingest_lane_batch_messages_sum"], 4)
        XCTAssertGreaterThanOrEqual(samples["leadrouter_ingest_lane_commit_seconds_count"] ?? 0, 1)
        XCTAssertEqual(samples["leadrouter_sweeper_due_leads"], 1)
        XCTAssertEqual(samples["leadrouter_sweeper_lag_seconds"], 120)
        XCTAssertEqual(samples[#"leadrouter_queue_open_items{queue="metrics-q"}"#], 1)
        XCTAssertEqual(samples[#"leadrouter_queue_oldest_open_age_seconds{queue="metrics-q"}"#], 300)
        XCTAssertEqual(samples[#"leadrouter_queue_sla_breached_items{queue="metrics-q"}"#], 1)
        XCTAssertEqual(samples[#"leadrouter_webhook_deliveries{status="dead"}"#], 0)
        XCTAssertEqual(samples["leadrouter_db_pool_waits_total"], 0, "never more than one request at a time here")
        let members = try service.count("SELECT count(*) FROM memberships")
        let reported = samples.filter { $0.key.hasPrefix("leadrouter_segment_members{") }.values.reduce(0, +)
        XCTAssertEqual(reported, Double(members))

        // The queue item closes and the clock moves on: the gauges follow, counters keep counting.
        _ = try connection.execute(.init(unsafeRaw: "UPDATE queue_items SET state = 'closed', close_reason = 'cancelled', closed_at = now()"))
        service.clock.advance(30)
        XCTAssertEqual(try service.send("/v1/track", ["userId": "m-2", "event": "Product Viewed"]).status, 200)
        let again = try parseWithPrometheusClient(try service.client().json("GET", "/metrics", key: service.readKey).text)
        XCTAssertEqual(again["leadrouter_ingest_events_total"], 5)
        XCTAssertEqual(again["leadrouter_sweeper_lag_seconds"], 150)
        XCTAssertEqual(again[#"leadrouter_queue_open_items{queue="metrics-q"}"#], 0, "a queue that emptied reads 0, not its last value")
        XCTAssertEqual(again[#"leadrouter_http_request_duration_seconds_count{method="GET",route="/metrics",status="200"}"#], 1,
                       "the first scrape, recorded once it answered")
    }

    /// The rollup fold's backlog (migration 0080): the delta rows waiting per delta table and how
    /// long the oldest has waited, by PostgreSQL's clock (the service's clock is a manual one
    /// here, far from it); both fall to 0 once a fold took them.
    func testTheRollupFoldBacklogIsReported() throws {
        try requirePythonModule("prometheus_client", package: "prometheus-client")
        // RollupDeltasTests' ruleset: a product view enters a segment and a stage.
        let service = try TestService(test: self, rulesYAML: RollupDeltasTests.rules) {
            $0.metricsCacheSeconds = 0; $0.rollupFoldInterval = nil
        }
        for user in ["f-1", "f-2", "f-1"] {
            XCTAssertEqual(try service.send("/v1/track", ["userId": user, "event": "Product Viewed"]).status, 200)
        }
        let segmentDeltas = try service.count("SELECT count(*) FROM segment_rollup_deltas")
        let stageDeltas = try service.count("SELECT count(*) FROM stage_rollup_deltas")
        XCTAssertGreaterThan(segmentDeltas, 0, "the tracks changed memberships")
        XCTAssertGreaterThan(stageDeltas, 0, "and stages")
        // The oldest delta written 90 s ago, the others now.
        _ = try service.connection().execute(.init(unsafeRaw: """
            UPDATE segment_rollup_deltas SET written_at = now() - interval '90 seconds'
            WHERE id = (SELECT min(id) FROM segment_rollup_deltas)
            """))
        let waiting = try parseWithPrometheusClient(try service.client().json("GET", "/metrics", key: service.readKey).text)
        XCTAssertEqual(waiting[#"leadrouter_rollup_deltas_unfolded{table="segment_rollup_deltas"}"#], Double(segmentDeltas))
        XCTAssertEqual(waiting[#"leadrouter_rollup_deltas_unfolded{table="stage_rollup_deltas"}"#], Double(stageDeltas))
        let age = try XCTUnwrap(waiting["leadrouter_rollup_deltas_oldest_age_seconds"])
        XCTAssertGreaterThanOrEqual(age, 90)
        XCTAssertLessThan(age, 90 + 60, "the time since it was written, not since the history row's time")

        XCTAssertEqual(try service.app.rollupFolder.foldOnce(), segmentDeltas + stageDeltas)
        let folded = try parseWithPrometheusClient(try service.client().json("GET", "/metrics", key: service.readKey).text)
        XCTAssertEqual(folded[#"leadrouter_rollup_deltas_unfolded{table="segment_rollup_deltas"}"#], 0)
        XCTAssertEqual(folded[#"leadrouter_rollup_deltas_unfolded{table="stage_rollup_deltas"}"#], 0)
        XCTAssertEqual(folded["leadrouter_rollup_deltas_oldest_age_seconds"], 0)
    }

    /// Every sample as `name{label="value",…}` (labels sorted) → value, as `prometheus_client`
    /// parsed the exposition; the parser fails the test on anything it rejects.
    private func parseWithPrometheusClient(_ text: String) throws -> [String: Double] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lr-metrics-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("scrape.txt"), script = dir.appendingPathComponent("parse.py")
        try text.write(to: input, atomically: true, encoding: .utf8)
        try """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            out = {}
            for family in text_string_to_metric_families(open(sys.argv[1]).read()):
                for s in family.samples:
                    labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
                    out[s.name + ("{" + labels + "}" if labels else "")] = s.value
            print(json.dumps(out))
            """.write(to: script, atomically: true, encoding: .utf8)
        let result = try runProcess("/usr/bin/env", ["python3", script.path, input.path])
        XCTAssertEqual(result.status, 0, result.output)
        let parsed = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Double]
        return try XCTUnwrap(parsed, result.output)
    }
}

/// `logging.format: json`: one JSON object per line with the text lines' fields.
final class JSONLogLinesTests: XCTestCase {
    func testEachEntryIsOneJSONObjectOnOneLine() throws {
        let lines = LockedLines()
        var handler = JSONLogHandler(label: "leadrouter", write: { lines.append($0) })
        handler.metadata = ["node": "a"]
        let logger = Logger(label: "leadrouter") { _ in handler }
        logger.warning("two\nlines \"quoted\"", metadata: ["error": "x\ty", "list": ["1", "2"]])
        logger.debug("below the level")
        let all = lines.all
        XCTAssertEqual(all.count, 1)
        let line = try XCTUnwrap(all.first)
        XCTAssertTrue(line.hasSuffix("}\n"))
        XCTAssertEqual(line.filter { $0 == "\n" }.count, 1, "one line: the newline in the message is escaped")
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(object["level"] as? String, "warning")
        XCTAssertEqual(object["label"] as? String, "leadrouter")
        XCTAssertEqual(object["message"] as? String, "two\nlines \"quoted\"")
        let metadata = try XCTUnwrap(object["metadata"] as? [String: Any])
        XCTAssertEqual(metadata["node"] as? String, "a")
        XCTAssertEqual(metadata["error"] as? String, "x\ty")
        XCTAssertEqual(metadata["list"] as? [String], ["1", "2"])
        let timestamp = try XCTUnwrap(object["timestamp"] as? String)
        XCTAssertNotNil(try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(timestamp), timestamp)
        XCTAssertTrue(timestamp.hasSuffix("Z"))
    }
}

private final class LockedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}
