import Foundation
import LeadStore
import Segmentation
import Essentials

/// A field error of a queue API body: JSON pointer (`/limit`, or `""` for the body) and what is wrong.
public typealias QueueFieldError = FieldError

/// Reads a JSON object body field by field, collecting every error (so one 400 lists them all).
package struct JSONFields {
    let object: [String: Value]
    package var errors: [QueueFieldError] = []

    /// Parses `body` (empty = `{}`); a body that is not a JSON object is one error at "".
    package init(_ body: [UInt8]) {
        if body.isEmpty { object = [:]; return }
        if case let .object(parsed)? = try? JSONDecoder().decode(Value.self, from: Data(body)) { object = parsed } else {
            object = [:]; errors.append(QueueFieldError(pointer: "", detail: "the body must be a JSON object"))
        }
    }

    mutating func int(_ key: String, default value: Int, in range: ClosedRange<Int>) -> Int {
        guard let raw = object[key], raw != .null else { return value }
        guard case let .number(number) = raw, number == number.rounded(), number >= Double(range.lowerBound),
              number <= Double(range.upperBound) else {
            errors.append(QueueFieldError(pointer: "/\(key)", detail: "must be an integer from \(range.lowerBound) to \(range.upperBound)"))
            return value
        }
        return Int(number)
    }

    package mutating func string(_ key: String, pattern: String? = nil, required: Bool = false) -> String? {
        guard let raw = object[key], raw != .null else {
            if required { errors.append(QueueFieldError(pointer: "/\(key)", detail: "is required")) }
            return nil
        }
        guard case let .string(text) = raw, !text.isEmpty, text.count <= 200,
              pattern.map({ text.range(of: $0, options: .regularExpression) != nil }) ?? true else {
            errors.append(QueueFieldError(pointer: "/\(key)", detail: pattern == nil ? "must be a non-empty string" : "must match \(pattern!)"))
            return nil
        }
        return text
    }

    package mutating func bool(_ key: String, required: Bool) -> Bool? {
        guard let raw = object[key], raw != .null else {
            if required { errors.append(QueueFieldError(pointer: "/\(key)", detail: "is required")) }
            return nil
        }
        guard case let .bool(flag) = raw else {
            errors.append(QueueFieldError(pointer: "/\(key)", detail: "must be true or false"))
            return nil
        }
        return flag
    }

    /// Free text up to `maxLength` characters (empty: nil).
    mutating func text(_ key: String, maxLength: Int) -> String? {
        guard let raw = object[key], raw != .null else { return nil }
        guard case let .string(text) = raw, text.count <= maxLength else {
            errors.append(QueueFieldError(pointer: "/\(key)", detail: "must be text of at most \(maxLength) characters"))
            return nil
        }
        return text.isEmpty ? nil : text
    }

    /// A claim order (`sla` or `priority`), default `sla`.
    package mutating func order(_ key: String) -> ClaimOrder {
        guard let text = string(key) else { return .urgency }
        guard let order = ClaimOrder(rawValue: text) else {
            errors.append(QueueFieldError(pointer: "/\(key)", detail: "must be sla or priority"))
            return .urgency
        }
        return order
    }

    mutating func uuid(_ key: String) -> UUID? {
        guard let text = string(key, required: true) else { return nil }
        guard let id = UUID(uuidString: text) else {
            errors.append(QueueFieldError(pointer: "/\(key)", detail: "must be a UUID"))
            return nil
        }
        return id
    }
}

/// `POST /v1/queues/{queue}/claim` body.
public struct ClaimRequest: Sendable, Equatable {
    /// Claim as this owner: their items and unassigned ones (nil: any item).
    public var ownerId: String?
    /// Most items to claim at once.
    public var limit: Int
    /// How long the claim holds an item unless extended.
    public var leaseSeconds: Int
    /// Long poll: answer as soon as an item appears, or empty after this many seconds.
    public var waitSeconds: Int
    /// `sla` (default: the SLA due soonest, then score) or `priority` (score first).
    public var order: ClaimOrder = .urgency

    /// Bounds that keep one claim short and a lease from outliving a working day.
    public static let maxLimit = 100
    public static let maxLeaseSeconds = 86_400
    public static let maxWaitSeconds = 60

    /// Parses and checks a body; throws every field error at once.
    public static func parse(_ body: [UInt8]) throws(QueueRequestError) -> ClaimRequest {
        var f = JSONFields(body)
        let request = ClaimRequest(ownerId: f.string("owner_id"), limit: f.int("limit", default: 1, in: 1...maxLimit),
                                   leaseSeconds: f.int("lease_seconds", default: 300, in: 1...maxLeaseSeconds),
                                   waitSeconds: f.int("wait_seconds", default: 0, in: 0...maxWaitSeconds),
                                   order: f.order("order"))
        if !f.errors.isEmpty { throw QueueRequestError(errors: f.errors) }
        return request
    }

    /// The claim an owner-bound key makes: as its `owner` (nil: any key, unchanged). A claim
    /// naming another owner is refused with the reason (a 403 for the sender).
    public func bound(to owner: String?) -> Result<ClaimRequest, OwnerBindingError> {
        guard let owner else { return .success(self) }
        if let ownerId, ownerId != owner {
            return .failure(OwnerBindingError(detail: "this key is bound to owner '\(owner)' and cannot claim as '\(ownerId)'"))
        }
        var bound = self
        bound.ownerId = owner
        return .success(bound)
    }
}

/// An owner-bound key asked to act as another owner.
public struct OwnerBindingError: Error, Sendable, Equatable {
    public var detail: String
}

/// `ack`, `release` and `extend` bodies: the claim token and the operation.
public struct LeaseRequest: Sendable, Equatable {
    /// The `claim_token` the claim answered with.
    public var token: UUID
    /// What the claimer wants done.
    public var operation: LeaseOperation
    /// An ack's free text (what the rep wrote), kept on the item.
    public var note: String? = nil
    /// Most characters of a note.
    public static let maxNoteLength = 4000

    /// Status names as the ruleset spells them (the `leadrouter_name` shape).
    static let statusPattern = "^[a-z0-9][a-z0-9_.-]{0,127}$"

    /// Parses the body of `/ack` (`outcome` defaults to `contacted`; the service checks it
    /// against the ruleset's `sales.outcomes`; `note` is free text), `/release` or `/extend`
    /// (`lease_seconds`, default 300).
    public static func parse(_ body: [UInt8], verb: String) throws(QueueRequestError) -> LeaseRequest {
        var f = JSONFields(body)
        let token = f.uuid("claim_token")
        let operation: LeaseOperation
        var note: String?
        switch verb {
        case "ack":
            operation = .ack(outcome: f.string("outcome") ?? SalesOutcome.defaultName)
            note = f.text("note", maxLength: maxNoteLength)
        case "extend": operation = .extend(seconds: f.int("lease_seconds", default: 300, in: 1...ClaimRequest.maxLeaseSeconds))
        default: operation = .release
        }
        guard let token, f.errors.isEmpty else { throw QueueRequestError(errors: f.errors) }
        return LeaseRequest(token: token, operation: operation, note: note)
    }
}

/// A queue API body that does not pass: every field error.
public struct QueueRequestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Every field error, in body order.
    public var errors: [QueueFieldError]

    package init(errors: [QueueFieldError]) {
        self.errors = errors
    }
    public var description: String { errors.map { "\($0.pointer.isEmpty ? "body" : $0.pointer) \($0.detail)" }.joined(separator: "; ") }
}
