import Foundation

/// What ingest saw in one applied message, for the drift counters (`Insight`): its canonical
/// event type, or the raw name when it maps to none, and which of the watched fields the lead
/// holds once the message is applied. Told by `IngestService` while it stages the message (so
/// a batch that then fails to commit was counted; a retry counts it again — drift compares
/// volumes, a rare double count does not move them).
package struct MessageObservation: Sendable, Equatable {
    /// When the message was received (the service clock): the hour it is counted in.
    package var at: Date
    /// The canonical event type (`product_viewed`, `identify`, …) when the name maps to one.
    package var eventType: String?
    /// The name as sent, when it maps to no event type of the ruleset.
    package var unmappedName: String?
    package var captured: FieldCaptures
    /// How the message changed the lead's followed fields (`InventoryFields`), for the data inventory.
    package var fields: FieldChanges

    package init(at: Date, eventType: String?, unmappedName: String?, captured: FieldCaptures, fields: FieldChanges = FieldChanges()) {
        self.at = at; self.eventType = eventType; self.unmappedName = unmappedName; self.captured = captured; self.fields = fields
    }
}

/// What one message did to the lead's followed fields: the lead is new; fields it now has and
/// did not (`gained`), had and no longer has (`lost`); fields it set or changed, each with the
/// JSON type of its new value (`set`: the field was seen).
package struct FieldChanges: Sendable, Equatable {
    package var newLead = false
    /// Leads merged into this one by the message: gone, with their fields (counted in `lost`).
    package var mergedLeads = 0
    package var gained: [String] = []
    package var lost: [String] = []
    package var set: [(name: String, type: String)] = []

    package init(newLead: Bool = false, gained: [String] = [], lost: [String] = [], set: [(name: String, type: String)] = []) {
        self.newLead = newLead; self.gained = gained; self.lost = lost; self.set = set
    }

    package static func == (a: FieldChanges, b: FieldChanges) -> Bool {
        a.newLead == b.newLead && a.mergedLeads == b.mergedLeads && a.gained == b.gained && a.lost == b.lost && a.set.map(\.name) == b.set.map(\.name)
            && a.set.map(\.type) == b.set.map(\.type)
    }
}

/// The fields whose capture rate drift watches.
package struct FieldCaptures: OptionSet, Sendable, Equatable {
    package let rawValue: UInt8
    package init(rawValue: UInt8) { self.rawValue = rawValue }

    /// A syntactically valid email address (`lead.email`; invalid ones stay traits).
    package static let validEmail = FieldCaptures(rawValue: 1)
    /// A first-touch source that matched a `sources` rule (not the fallback `unknown`).
    package static let knownSource = FieldCaptures(rawValue: 2)
    package static let country = FieldCaptures(rawValue: 4)
    package static let companyDomain = FieldCaptures(rawValue: 8)

    /// Each field with its name in reports and the lead field rules read it as (for lineage).
    package static let watched: [(field: FieldCaptures, name: String, leadField: String)] = [
        (.validEmail, "valid_email", "email"), (.knownSource, "known_source", "source"),
        (.country, "country", "country"), (.companyDomain, "company_domain", "company.domain"),
    ]
}

/// Told of every applied message (see `MessageObservation`). Called on lane threads: keep it cheap.
package protocol IngestObserving: Sendable {
    func observed(_ observation: MessageObservation)
}
