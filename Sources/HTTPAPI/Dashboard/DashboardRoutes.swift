import Foundation
import HTTPServer
import Ingest
import Insight
import LeadStore
import SalesQueues
import Segmentation

/// `/dashboard`: server-rendered HTML (no JavaScript), scope `read` (docs/dashboard.md). Each
/// handler reads through the existing reads (`LeadReads`, `SegmentMetricsReads`, `QueueReads`),
/// builds a plain context and renders a Mustache template. The wiring gives every one of them
/// the read routing, so the pages read a fresh enough replica (docs/scale-out.md#read-replicas);
/// login and the session check stay on the primary (keys are read there, `APIKeyDirectory`).
package struct DashboardRoutes: Sendable {
    /// The active ruleset version (follows an activation without a restart).
    let rules: ActiveEngine
    let reads: LeadReads
    let metrics: SegmentMetricsReads
    let queues: QueueReads
    /// The drift use case behind `GET /v1/drift`, for the overview's alerts panel.
    let drift: DriftMonitor
    let session: DashboardSession
    let clock: @Sendable () -> Date
    /// Days of history the overview's sparklines and the detail chart cover.
    static let days = 30
    /// Entries and exits the segment page lists (newest first).
    static let changeLimit = 20

    package init(rules: ActiveEngine, reads: LeadReads, metrics: SegmentMetricsReads, queues: QueueReads, drift: DriftMonitor,
                 session: DashboardSession = DashboardSession(), clock: @escaping @Sendable () -> Date) {
        self.rules = rules; self.reads = reads; self.metrics = metrics; self.queues = queues; self.drift = drift
        self.session = session; self.clock = clock
    }

    package func install(into root: inout RouterGroup<APIContext>, _ api: APIMiddleware, authenticator: Authenticator) {
        root.group("/dashboard", middleware: api.common) { dashboard in
            dashboard.get("/login") { _, _ in DashboardPage.render("login", [:]) }
            dashboard.post("/login", maxBodyBytes: 4096) { request, _ in try login(request, authenticator: authenticator) }
            dashboard.post("/logout", maxBodyBytes: 4096) { request, _ in
                try SameOrigin.check(request)
                var response = DashboardPage.redirect("/dashboard/login")
                response.headers.add("Set-Cookie", session.setCookie(nil))
                return response
            }
            dashboard.group(middleware: [DashboardAuth(authenticator: authenticator, session: session, clock: clock)]) { pages in
                pages.get { _, _ in try overview() }
                pages.get("/segments/{name}") { request, _ in try segment(request.pathParameters["name"] ?? "") }
                pages.get("/leads") { request, _ in try DashboardLeadLookup(reads: reads).page(request) }
            }
        }
    }

    /// Checks the posted key (scope `read`) and sets the session cookie; a wrong key re-shows the form (401).
    func login(_ request: HTTPRequest, authenticator: Authenticator) throws -> HTTPResponse {
        try SameOrigin.check(request)
        let text = HTTPQuery.parse(String(decoding: request.body, as: UTF8.self)).first { $0.name == "key" }?.value ?? ""
        do {
            guard !text.isEmpty, let key = try authenticator.keys.key(presented: text) else {
                throw Authenticator.unauthorized("the API key is not valid")
            }
            let granted = try authenticator.granted(key, scope: .read, allowPublic: false)
            var response = DashboardPage.redirect("/dashboard")
            response.headers.add("Set-Cookie", session.setCookie(session.token(keyID: granted.id, now: clock())))
            return response
        } catch let error as HTTPError {
            var page = DashboardPage.render("login", ["error": error.detail ?? "login refused"])
            page.status = error.status
            return page
        }
    }

    /// The range the charts cover: `days` whole days up to now.
    func report(_ name: String) throws -> SegmentMetricsReads.Report {
        let now = clock()
        return try metrics.report(segment: name, from: now.addingTimeInterval(-Double(Self.days) * 86_400), to: now, interval: .day)
    }

    func overview() throws -> HTTPResponse {
        // One ruleset for the whole page, so an activation mid-request cannot mix two versions.
        let ruleset = rules.engine.ruleset
        let sizes = try reads.segmentSizes()
        let now = clock()
        // Every segment's 30 days in one statement (was one pipeline per segment).
        let reports = try metrics.overview(segments: ruleset.segments.map(\.name),
                                           from: now.addingTimeInterval(-Double(Self.days) * 86_400), to: now)
        var stages: [(stage: String, segments: [[String: Any]])] = []
        for s in ruleset.segments {
            guard let r = reports[s.name] else { continue }
            let stage = String(s.name.split(separator: ".").first ?? "")
            let conversion = s.goal != nil && r.totals.entries > 0
                ? String(format: "%.1f %%", Double(r.totals.goalReached) / Double(r.totals.entries) * 100) : "–"
            let row: [String: Any] = [
                "name": s.name, "owner": s.owner ?? "–", "size": sizes[s.name] ?? 0,
                "chart": SVGChart.line(r.steps.map(\.size), label: "size of \(s.name) per day"),
                "entries": r.totals.entries, "exits": r.totals.exits, "conversion": conversion,
            ]
            if let i = stages.firstIndex(where: { $0.stage == stage }) { stages[i].segments.append(row) } else { stages.append((stage, [row])) }
        }
        let queueRows: [[String: Any]] = try queues.knownQueues().map { name in
            let q = try queues.stats(queue: name)
            return ["name": name, "open": q.open, "claimed": q.claimed, "breached": q.breachedOpen,
                    "median": q.medianSecondsToClaim.map { String(Int($0)) } ?? "–"]
        }
        var context: [String: Any] = [
            "title": "Overview", "rulesetVersion": ruleset.version, "days": Self.days,
            "stages": stages.map { ["stage": $0.stage, "segments": $0.segments] as [String: Any] }, "queues": queueRows,
            "funnel": try stageFunnel(ruleset),
        ]
        context.merge(try DashboardDriftPanel(monitor: drift, reader: reads.routing).context()) { $1 }
        return DashboardPage.render("overview", context)
    }

    func segment(_ name: String) throws -> HTTPResponse {
        guard let s = rules.engine.ruleset.segments.first(where: { $0.name == name }) else {
            throw HTTPError(.notFound, detail: "no segment named '\(name)' in the active ruleset")
        }
        let r = try report(name)
        let steps: [[String: Any]] = r.steps.map {
            ["day": String(Timestamp($0.start).description.prefix(10)), "size": $0.size, "entries": $0.counts.entries, "exits": $0.counts.exits]
        }
        var context: [String: Any] = [
            "title": name, "name": name, "description": s.description ?? "", "owner": s.owner ?? "–",
            "size": try reads.segmentSizes()[name] ?? 0, "enter": s.enter.text, "days": Self.days, "steps": steps,
            "chart": SVGChart.line(r.steps.map(\.size), width: 640, height: 160, label: "size of \(name) per day"),
        ]
        context["changeLimit"] = Self.changeLimit
        context["changes"] = try reads.recentChanges(of: name, limit: Self.changeLimit).map { c -> [String: Any] in
            var row: [String: Any] = [
                "at": Timestamp(c.occurredAt).description, "lead": c.leadId.uuidString.lowercased(), "change": c.change,
                "cause": c.eventType.map { type in c.eventName.map { "“\($0)” (\(type))" } ?? type } ?? "time passed (sweeper)",
                "summary": DashboardLeadLookup.summary(c.reason), "reason": c.reason.map(DashboardLeadLookup.pretty) ?? "–",
            ]
            if let seq = c.decisionSeq { row["decisionRef"] = "decision #\(seq)" }
            return row
        }
        if let exit = s.exit { context["exit"] = exit.text }
        if let goal = s.goal { context["goal"] = "\(goal.when.text) within \(goal.within.description)" }
        return DashboardPage.render("segment", context)
    }
}

/// HTML responses of the dashboard: never cached, no scripts allowed (CSP), not framable. The
/// templates declare an empty `data:` icon, so browsers ask no `/favicon.ico` (a 404 in the console).
enum DashboardPage {
    static func render(_ template: String, _ context: [String: Any]) -> HTTPResponse {
        let html = DashboardTemplates.library.render(context, withTemplate: template) ?? ""
        return HTTPResponse(status: .ok, headers: [
            "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'",
            "X-Content-Type-Options": "nosniff",
        ], body: Array(html.utf8))
    }

    static func redirect(_ location: String) -> HTTPResponse {
        HTTPResponse(status: HTTPStatus(303, "See Other"), headers: ["Location": location, "Cache-Control": "no-store"])
    }
}
