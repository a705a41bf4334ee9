import Foundation
import HTTPServer
import LeadStore
import Rulesets
import Segmentation

/// Ruleset versions, scope `admin`: `POST /v1/rulesets` (store a checked text as a new version;
/// does not activate), `GET /v1/rulesets` (history and recent activations with their
/// re-evaluation progress), `GET /v1/rulesets/{version}` (text and metadata),
/// `GET /v1/rulesets/{version}/diff/{to}` (what changes from one to the other) and
/// `POST /v1/rulesets/{version}/activate` (rollback = activating an older one). Thin: decode, call
/// `RulesetAdmin`, encode. See docs/rulesets.md.
public struct RulesetRoutes: Sendable {
    let admin: RulesetAdmin

    package init(admin: RulesetAdmin) { self.admin = admin }

    /// The largest ruleset text accepted (the shipped one is about 20 KiB).
    static let maxBodyBytes = 1024 * 1024

    package func install(into v1: inout RouterGroup<APIContext>, _ api: APIMiddleware) {
        v1.group("/rulesets", middleware: api.authenticated(.admin)) { rulesets in
            rulesets.get { _, _ in
                .json(RulesetHistoryView(versions: try admin.versions(), activations: try admin.activations()))
            }
            rulesets.post(maxBodyBytes: Self.maxBodyBytes) { request, context in
                try push(request, author: context.authenticatedKey().name)
            }
            rulesets.get("/{version}") { request, _ in
                guard let stored = try admin.version(try Self.number(request)) else { throw Self.noVersion }
                return .json(RulesetVersionView(stored, withYAML: true))
            }
            rulesets.get("/{version}/diff/{to}") { request, _ in
                let to = try Self.number(request, "to")
                guard let diff = try admin.diff(from: try Self.number(request), to: to) else { throw Self.noVersion }
                return .json(RulesetDiffView(from: try Self.number(request), to: to, diff: diff))
            }
            rulesets.post("/{version}/activate", maxBodyBytes: 4 * 1024) { request, context in
                try activate(request, by: context.authenticatedKey().name)
            }
            rulesets.post("/{version}/backtest", maxBodyBytes: 4 * 1024) { request, context in
                try backtest(request, by: context.authenticatedKey().name)
            }
        }
        v1.group("/jobs", middleware: api.authenticated(.admin)) { jobs in
            jobs.get("/{id}") { request, _ in
                guard let job = try admin.job(try Self.jobID(request)) else { throw Self.noJob }
                return .json(JobView(job))
            }
            jobs.delete("/{id}") { request, _ in
                guard let job = try admin.cancelJob(try Self.jobID(request)) else { throw Self.noJob }
                return .json(JobView(job))
            }
        }
    }

    static let noJob = HTTPError(.notFound, detail: "no such job")

    static func jobID(_ request: HTTPRequest) throws -> UUID {
        guard let id = request.pathParameters["id"].flatMap(UUID.init(uuidString:)) else { throw noJob }
        return id
    }

    /// `{from, to, sample?}`: RFC 3339 times, `from` before `to`; `sample` in (0, 1], default 1.
    func backtest(_ request: HTTPRequest, by: String) throws -> HTTPResponse {
        let number = try Self.number(request)
        let object = try KeyRoutes.object(request)
        var problems: [ProblemFieldError] = []
        for key in object.keys.sorted() where !["from", "to", "sample"].contains(key) {
            problems.append(.init(pointer: "/\(key)", detail: "is not a backtest field (from, to, sample)"))
        }
        func time(_ name: String) -> Date? {
            guard case let .string(text)? = object[name], let at = Timestamp.parse(text) else {
                problems.append(.init(pointer: "/\(name)", detail: "is required: an RFC 3339 time such as 2026-11-01T00:00:00Z"))
                return nil
            }
            return at.date
        }
        let from = time("from"), to = time("to")
        if let from, let to, from >= to { problems.append(.init(pointer: "/to", detail: "must be after from")) }
        var sample = 1.0
        switch object["sample"] {
        case nil, .null?: break
        case let .number(n)? where n > 0 && n <= 1: sample = n
        default: problems.append(.init(pointer: "/sample", detail: "must be a share of the leads, more than 0 and at most 1"))
        }
        guard problems.isEmpty, let from, let to else { throw Self.invalid(problems) }
        guard let job = try admin.backtest(number, from: from, to: to, sample: sample, by: by) else { throw Self.noVersion }
        return .json(JobView(job), status: .accepted)
    }

    static let noVersion = HTTPError(.notFound, detail: "no such ruleset version")

    static func number(_ request: HTTPRequest, _ parameter: String = "version") throws -> Int {
        guard let text = request.pathParameters[parameter], let number = Int(text), number > 0, number <= Int(Int32.max) else {
            throw noVersion
        }
        return number
    }

    /// `{yaml, note}`: both required strings; the text is checked as `rules check` checks a file.
    func push(_ request: HTTPRequest, author: String) throws -> HTTPResponse {
        let object = try KeyRoutes.object(request)
        var problems: [ProblemFieldError] = []
        for key in object.keys.sorted() where key != "yaml" && key != "note" {
            problems.append(.init(pointer: "/\(key)", detail: "is not a ruleset field (yaml, note)"))
        }
        guard case let .string(yaml)? = object["yaml"], !yaml.isEmpty else {
            throw Self.invalid(problems + [.init(pointer: "/yaml", detail: "is required: the ruleset's YAML text")])
        }
        guard case let .string(note)? = object["note"], !note.trimmingWhitespace().isEmpty else {
            throw Self.invalid(problems + [.init(pointer: "/note", detail: "is required: why this version (not only white space)")])
        }
        if !problems.isEmpty { throw Self.invalid(problems) }
        do {
            return .json(RulesetVersionView(try admin.push(yaml: yaml, note: note, author: author), withYAML: false), status: .created)
        } catch let invalid as RulesetAdmin.Invalid {
            throw HTTPError(.unprocessableContent, title: "Invalid ruleset", detail: invalid.summary,
                            errors: invalid.diagnostics.map {
                                ProblemFieldError(pointer: "/yaml", detail: $0.description, line: $0.line, column: $0.column)
                            })
        }
    }

    static func invalid(_ problems: [ProblemFieldError]) -> HTTPError {
        HTTPError(.unprocessableContent, title: "Invalid ruleset version", detail: problems.first?.detail, errors: problems)
    }

    /// `{}` or `{confirm: true}` (the guard for large routing changes, see docs/rulesets.md).
    func activate(_ request: HTTPRequest, by: String) throws -> HTTPResponse {
        let number = try Self.number(request)
        let object = try KeyRoutes.object(request)
        for key in object.keys.sorted() where key != "confirm" {
            throw Self.invalid([.init(pointer: "/\(key)", detail: "is not an activation field (confirm)")])
        }
        var confirm = false
        switch object["confirm"] {
        case nil: break
        case let .bool(flag)?: confirm = flag
        default: throw Self.invalid([.init(pointer: "/confirm", detail: "must be true or false")])
        }
        switch try admin.activate(number, by: by, confirm: confirm) {
        case .notFound: throw Self.noVersion
        case .needsConfirmation(let share):
            throw HTTPError(.conflict, title: "Confirmation needed",
                            detail: "the last backtest of version \(number) moves \(Int((share * 100).rounded())) % of the leads' routing: "
                                + "activate with {\"confirm\": true}")
        case .alreadyActive(let stored):
            return .json(RulesetVersionView(stored, withYAML: false, activation: .some(nil)))
        case .activated(var stored, let activation):
            stored.active = true
            stored.activatedAt = activation.activatedAt
            return .json(RulesetVersionView(stored, withYAML: false, activation: .some(activation)))
        }
    }
}
