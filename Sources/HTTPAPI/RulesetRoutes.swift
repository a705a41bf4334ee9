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
        }
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
        switch try admin.activate(number, by: by) {
        case .notFound: throw Self.noVersion
        case .alreadyActive(let stored):
            return .json(RulesetVersionView(stored, withYAML: false, activation: .some(nil)))
        case .activated(var stored, let activation):
            stored.active = true
            stored.activatedAt = activation.activatedAt
            return .json(RulesetVersionView(stored, withYAML: false, activation: .some(activation)))
        }
    }
}
