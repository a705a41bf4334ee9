import Foundation
import LeadStore
import RulesTools
import Segmentation

/// A stored version as the API shows it; the YAML only where one version is asked for.
/// An activation's answer adds `activation` (null when the version was already active).
struct RulesetVersionView: Encodable {
    let stored: RulesetVersion
    let withYAML: Bool
    let activation: RulesetActivation??

    init(_ stored: RulesetVersion, withYAML: Bool, activation: RulesetActivation?? = .none) {
        self.stored = stored; self.withYAML = withYAML; self.activation = activation
    }

    enum CodingKeys: String, CodingKey {
        case version, author, note, checksum, active, yaml, activation
        case createdAt = "created_at", activatedAt = "activated_at", deactivatedAt = "deactivated_at"
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(stored.version, forKey: .version); try c.encode(stored.author, forKey: .author)
        try c.encode(stored.note, forKey: .note); try c.encode(stored.checksum, forKey: .checksum)
        try c.encode(stored.active, forKey: .active); try c.encode(Timestamp(stored.createdAt), forKey: .createdAt)
        try c.encode(stored.activatedAt.map(Timestamp.init), forKey: .activatedAt)
        try c.encode(stored.deactivatedAt.map(Timestamp.init), forKey: .deactivatedAt)
        if withYAML { try c.encode(stored.yaml, forKey: .yaml) }
        if case .some(let activation) = activation { try c.encode(activation.map(ActivationView.init), forKey: .activation) }
    }
}

/// One activation and how far the background re-evaluation of the leads has come.
struct ActivationView: Encodable {
    let activation: RulesetActivation

    init(_ activation: RulesetActivation) { self.activation = activation }

    enum CodingKeys: String, CodingKey {
        case id, version, previousVersion = "previous_version", activatedBy = "activated_by", activatedAt = "activated_at"
        case reevaluation
    }
    enum ProgressKeys: String, CodingKey {
        case status, leadsTotal = "leads_total", reevaluated, changed, progress, finishedAt = "finished_at"
    }

    func encode(to encoder: Encoder) throws {
        let a = activation
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(a.id, forKey: .id); try c.encode(a.version, forKey: .version)
        try c.encode(a.previousVersion, forKey: .previousVersion); try c.encode(a.activatedBy, forKey: .activatedBy)
        try c.encode(Timestamp(a.activatedAt), forKey: .activatedAt)
        var p = c.nestedContainer(keyedBy: ProgressKeys.self, forKey: .reevaluation)
        let status = a.superseded ? "superseded" : a.finishedAt == nil ? "running" : "done"
        try p.encode(status, forKey: .status); try p.encode(a.leadsTotal, forKey: .leadsTotal)
        try p.encode(a.reevaluated, forKey: .reevaluated); try p.encode(a.changed, forKey: .changed)
        let share = a.finishedAt != nil && !a.superseded ? 1 : a.leadsTotal == 0 ? 0 : min(1, Double(a.reevaluated) / Double(a.leadsTotal))
        try p.encode((share * 1000).rounded() / 1000, forKey: .progress)
        try p.encode(a.finishedAt.map(Timestamp.init), forKey: .finishedAt)
    }
}

/// `GET /v1/rulesets`.
struct RulesetHistoryView: Encodable {
    let versions: [RulesetVersion]
    let activations: [RulesetActivation]

    enum CodingKeys: String, CodingKey { case activeVersion = "active_version", data, activations }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(versions.first(where: \.active)?.version, forKey: .activeVersion)
        try c.encode(versions.map { RulesetVersionView($0, withYAML: false) }, forKey: .data)
        try c.encode(activations.map(ActivationView.init), forKey: .activations)
    }
}

/// `GET /v1/rulesets/{from}/diff/{to}`: `changes` in `RulesetDiff`'s order.
struct RulesetDiffView: Encodable {
    let from: Int
    let to: Int
    let diff: RulesetDiff

    enum CodingKeys: String, CodingKey { case from, to, changes }
    enum ChangeKeys: String, CodingKey { case kind, name, change, old, new }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(from, forKey: .from); try c.encode(to, forKey: .to)
        var list = c.nestedUnkeyedContainer(forKey: .changes)
        for change in diff.changes {
            var item = list.nestedContainer(keyedBy: ChangeKeys.self)
            try item.encode(change.kind, forKey: .kind); try item.encode(change.name, forKey: .name)
            try item.encode(change.change, forKey: .change); try item.encode(change.old, forKey: .old)
            try item.encode(change.new, forKey: .new)
        }
    }
}

/// A job as `GET /v1/jobs/{id}` shows it; `result` is the stored document as it is.
struct JobView: Encodable {
    let job: JobRecord

    init(_ job: JobRecord) { self.job = job }

    enum CodingKeys: String, CodingKey {
        case id, kind, status, progress, params, result, error, createdBy = "created_by", createdAt = "created_at"
        case startedAt = "started_at", finishedAt = "finished_at"
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(job.id.uuidString.lowercased(), forKey: .id); try c.encode(job.kind, forKey: .kind)
        try c.encode(job.status, forKey: .status); try c.encode((job.progress * 1000).rounded() / 1000, forKey: .progress)
        try c.encode(try job.params.decode(Value.self), forKey: .params)
        try c.encode(try job.result?.decode(Value.self), forKey: .result)
        try c.encode(job.error, forKey: .error); try c.encode(job.createdBy, forKey: .createdBy)
        try c.encode(Timestamp(job.createdAt), forKey: .createdAt)
        try c.encode(job.startedAt.map(Timestamp.init), forKey: .startedAt)
        try c.encode(job.finishedAt.map(Timestamp.init), forKey: .finishedAt)
    }
}
