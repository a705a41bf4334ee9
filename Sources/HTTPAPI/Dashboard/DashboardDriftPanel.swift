import Insight
import LeadStore
import Segmentation

/// The overview's drift alerts panel: the alerts of the report `GET /v1/drift` answers with (the
/// same `DriftMonitor.report()`), each with the segments and owners that read what drifted, so a
/// marketer sees which of their segments a tracking change is about to starve.
struct DashboardDriftPanel: Sendable {
    let monitor: DriftMonitor
    /// Where the page reads (the dashboard's read routing: a fresh enough replica).
    let reader: any ReadPoolChoosing

    /// The `driftAlerts` partial's values: one row per alert, newest report.
    func context() throws -> [String: Any] {
        let report = try monitor.report(reader: reader)
        let alerts: [[String: Any]] = report.alerts.map { alert in
            let kind = alert.kind.rawValue.replacingOccurrences(of: "_", with: " ")
            return [
                "kind": alert.window.map { "\(kind), last \($0)" } ?? kind, "subject": alert.subject, "detail": alert.detail,
                "segments": alert.readers.segments.map { ["name": $0] },
                "owners": alert.readers.owners.isEmpty ? "–" : alert.readers.owners.joined(separator: ", "),
            ]
        }
        return ["driftAlerts": alerts, "driftAt": Timestamp(report.generatedAt).description]
    }
}
