import HTTPServer
import Rulesets

/// `GET /v1/experiments` (every experiment of the active ruleset, and any other with recorded
/// leads) and `GET /v1/experiments/{name}`, scope `read`. Thin: ask `ExperimentReports`, encode.
/// See docs/rulesets.md "Experiments".
public struct ExperimentRoutes: Sendable {
    let reports: ExperimentReports

    package init(reports: ExperimentReports) { self.reports = reports }

    static let noExperiment = HTTPError(.notFound, detail: "no such experiment: the active ruleset does not define it and no lead was assigned to it")

    package func install(into v1: inout RouterGroup<APIContext>, _ api: APIMiddleware) {
        v1.group("/experiments", middleware: api.authenticated(.read)) { experiments in
            experiments.get { _, _ in .json(ExperimentListView(experiments: try reports.all().map(ExperimentView.init))) }
            experiments.get("/{name}") { request, _ in
                guard let name = request.pathParameters["name"], let report = try reports.report(name) else { throw Self.noExperiment }
                return .json(ExperimentView(report))
            }
        }
    }
}
