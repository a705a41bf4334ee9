import Essentials
import Foundation
import JSONCoding
import Postgres
import Segmentation

/// A lead row: the engine's `LeadState` plus what only the service knows (id, merge pointer,
/// ruleset version, owner, timestamps). Mapped column by column so SQL can filter and index
/// the profile, while the state still round-trips exactly.
public struct LeadRecord: Sendable {
    public var id: UUID
    public var state: LeadState
    public var primarySegment: String?
    public var ownerId: String?
    public var rulesetVersion: Int?
    public var nextEvaluationAt: Date?
    public var mergedInto: UUID?
    public var createdAt: Date
    public var updatedAt: Date
    /// How many decisions the lead has: the next one gets `decisionSeq + 1` (per-lead order,
    /// kept on the row every decision writer holds locked).
    public var decisionSeq: Int

    /// The columns `init(row:)` reads, in result order: every SELECT of a lead lists them through
    /// `columns`, so the row is decoded by position (finding 32 columns by name cost hundreds of
    /// `strcmp`s per row, a visible share of a lane batch).
    enum Column: Int, CaseIterable {
        case id, email, userId, country, region, shipToRegion, companyDomain, companySize, companyIndustry
        case companyTechStack, traits, sourceFirst, sourceLast, firstSeenAt, lastEventAt, stage, status
        case statusAt, score, scoreAt, scoreParts, band, customer, segmentEntered, signalState, rulesetVersion
        case nextEvaluationAt, mergedInto, createdAt, updatedAt, ownerId, primarySegment, decisionSeq, actionState, actionPacked

        /// The column's SQL name (snake case of the case name).
        var name: String {
            String(String(describing: self).unicodeScalars.flatMap { c in
                c.properties.isUppercase ? ["_", Character(c).lowercased().unicodeScalars.first!] : [c]
            }.map(Character.init))
        }
    }

    /// The select list of a lead row, in `Column` order.
    static let columns = Column.allCases.map(\.name).joined(separator: ", ")

    /// A lead that does not exist yet (its INSERT goes out with its first writes).
    package init(newLeadAt now: Date) {
        id = UUID.random(); state = LeadState(); state.status = "new"; state.id = LeadKey(id.lowercasedText)
        primarySegment = nil; ownerId = nil; rulesetVersion = nil; nextEvaluationAt = nil; mergedInto = nil
        createdAt = now; updatedAt = now; decisionSeq = 0
    }

    init(row: PostgresRow) throws {
        id = try row.decode(UUID.self, at: Column.id.rawValue)
        var s = LeadState()
        s.email = try row.decode(String?.self, at: Column.email.rawValue)
        s.userId = try row.decode(String?.self, at: Column.userId.rawValue)
        s.country = try row.decode(String?.self, at: Column.country.rawValue)
        s.region = try row.decode(String?.self, at: Column.region.rawValue)
        s.shipToRegion = try row.decode(String?.self, at: Column.shipToRegion.rawValue)
        s.company = LeadState.Company(
            domain: try row.decode(String?.self, at: Column.companyDomain.rawValue),
            size: try row.decode(String?.self, at: Column.companySize.rawValue).flatMap(Double.init),
            industry: try row.decode(String?.self, at: Column.companyIndustry.rawValue),
            // NULL: none (migration 0107; rows written before hold '{}').
            techStack: try row.decode([String]?.self, at: Column.companyTechStack.rawValue) ?? [])
        s.traits = try Self.object(row.decode(PostgresJSON.self, at: Column.traits.rawValue))
        s.firstSource = try row.decode(PostgresJSON?.self, at: Column.sourceFirst.rawValue).flatMap(Self.touch)
        // NULL: the same touch as the first (a new lead's row, migration 0100).
        s.lastSource = try row.decode(PostgresJSON?.self, at: Column.sourceLast.rawValue).flatMap(Self.touch) ?? s.firstSource
        s.lastEventAt = try row.decode(Date?.self, at: Column.lastEventAt.rawValue).map(Timestamp.init)
        // first_seen_at is NOT NULL (defaults to creation); the engine's firstSeen is the first event.
        s.firstSeen = s.lastEventAt == nil ? nil : Timestamp(try row.decode(Date.self, at: Column.firstSeenAt.rawValue))
        s.stage = try row.decode(String?.self, at: Column.stage.rawValue)
        s.status = try row.decode(String.self, at: Column.status.rawValue)
        s.statusAt = try row.decode(Date?.self, at: Column.statusAt.rawValue).map(Timestamp.init)
        s.customer = try row.decode(Bool.self, at: Column.customer.rawValue)
        s.score = try row.decode(Double.self, at: Column.score.rawValue)
        s.scoreAt = try row.decode(Date?.self, at: Column.scoreAt.rawValue).map(Timestamp.init)
        s.scoreParts = try Self.object(row.decode(PostgresJSON.self, at: Column.scoreParts.rawValue)).compactMapValues {
            if case .number(let n) = $0 { return n } else { return nil }
        }
        s.band = try row.decode(String?.self, at: Column.band.rawValue)
        s.memberships = try Self.object(row.decode(PostgresJSON.self, at: Column.segmentEntered.rawValue)).compactMapValues {
            $0.stringValue.flatMap(Timestamp.parse)
        }
        if let bytes = try row.decode(Data?.self, at: Column.signalState.rawValue) {
            s.signals = try SignalState(decoding: PackedSignals.unpack(Array(bytes)))
        }
        // Packed since migrations/0094; a row no write has touched since keeps its jsonb.
        let packed = try row.decode(Data?.self, at: Column.actionPacked.rawValue)
        if let json = try packed.map({ try PackedJSON.unpack(Array($0)) }) ?? row.decode(PostgresJSON?.self, at: Column.actionState.rawValue) {
            let state = try Self.object(json)
            s.interest = LeadJSON.interest(from: state)
            s.timezone = state["timezone"]?.stringValue
            s.sent = LeadJSON.sent(from: state)
            s.segmentScores = LeadJSON.segmentScores(from: state)
            // The parts are here once a packed state was written (`score_parts` then holds `{}`).
            if case .object(let parts)? = state["score_parts"] {
                s.scoreParts = parts.compactMapValues { if case .number(let n) = $0 { return n } else { return nil } }
            }
        }
        s.id = LeadKey(id.lowercasedText)
        state = s
        primarySegment = try row.decode(String?.self, at: Column.primarySegment.rawValue)
        ownerId = try row.decode(String?.self, at: Column.ownerId.rawValue)
        rulesetVersion = try row.decode(Int?.self, at: Column.rulesetVersion.rawValue)
        nextEvaluationAt = try row.decode(Date?.self, at: Column.nextEvaluationAt.rawValue)
        mergedInto = try row.decode(UUID?.self, at: Column.mergedInto.rawValue)
        createdAt = try row.decode(Date.self, at: Column.createdAt.rawValue)
        updatedAt = try row.decode(Date.self, at: Column.updatedAt.rawValue)
        decisionSeq = try row.decode(Int.self, at: Column.decisionSeq.rawValue)
    }
}

extension LeadRecord {
    /// A JSON object column, read with `JSONReader` (rows are read for every message; `JSONDecoder`
    /// was a visible cost).
    static func object(_ json: PostgresJSON) throws -> [String: Value] {
        guard case .object(let fields) = try JSONReader.parse(json.bytes) else {
            throw PostgresError(code: .queryFailed, message: "a lead JSON column is not an object")
        }
        return fields
    }

    /// A touch as stored in `source_first`/`source_last` (`{"channel": …, "at": …}`).
    static func touch(_ json: PostgresJSON) throws -> LeadState.Touch? {
        let fields = try object(json)
        guard let channel = fields["channel"]?.stringValue, let at = fields["at"]?.stringValue.flatMap(Timestamp.parse) else { return nil }
        return LeadState.Touch(channel: channel, at: at)
    }
}

extension SignalStateDecodingError: CustomStringConvertible {
    public var description: String { "stored signal state cannot be decoded (\(String(reflecting: self)))" }
}

/// A lead row the service cannot decode (a BC date stored before input validation, a row
/// corrupted by hand): thrown instead of the decoding error, naming the lead, so that callers
/// can quarantine it (`Store.quarantine`) and answer for it alone. `reason` says which column
/// and what kind of failure, never the stored value (no personal data).
public struct UndecodableLead: Error, Sendable, CustomStringConvertible {
    public var id: UUID
    public var reason: String

    package init(id: UUID, reason: String) { self.id = id; self.reason = reason }

    public var description: String { "lead \(id.uuidString.lowercased()) cannot be decoded: \(reason)" }
}

extension LeadRecord {
    /// Decodes a lead row; a row that does not decode throws `UndecodableLead`. A signal state
    /// naming a dictionary this process does not hold throws `MissingSignalDictionary` instead,
    /// unless `lastTry` (the dictionaries were just read: the row is then undecodable).
    static func decoded(_ row: PostgresRow, lastTry: Bool) throws -> LeadRecord {
        do {
            return try LeadRecord(row: row)
        } catch let missing as MissingSignalDictionary where !lastTry {
            throw missing
        } catch {
            // The id is the primary key (uuid, NOT NULL): if even it does not decode, the result is not a lead row.
            guard let id = try? row.decode(UUID.self, at: Column.id.rawValue) else { throw error }
            throw UndecodableLead(id: id, reason: Self.reason(error))
        }
    }

    /// Every row decoded, and the rows that do not decode set apart (a lane batch and the sweeper
    /// go on with the others). `Store.leadRecords` calls it.
    static func decodedEach(_ rows: PostgresRows, lastTry: Bool) throws -> (records: [LeadRecord], undecodable: [UndecodableLead]) {
        var records: [LeadRecord] = [], undecodable: [UndecodableLead] = []
        records.reserveCapacity(rows.count)
        for row in rows {
            do { records.append(try decoded(row, lastTry: lastTry)) } catch let failure as UndecodableLead { undecodable.append(failure) }
        }
        return (records, undecodable)
    }

    /// A decoding failure as text without the value: the decoders' messages name the column and
    /// the kind of failure only (`PostgresDecodingFailure` must not quote the value).
    static func reason(_ error: any Error) -> String {
        let text: String
        switch error {
        case let error as PostgresError: text = error.message
        case let error as JSONReader.Failure: text = "a lead JSON column is not valid JSON (\(error.description))"
        case let error as SignalStateDecodingError: text = error.description
        case let error as MissingSignalDictionary: text = "signal_state: \(error.description)"
        case let error as SmallDeflate.Damaged: text = "a packed column: \(error.description)"
        default: text = "cannot be decoded (\(String(describing: type(of: error))))"
        }
        return String(text.utf8.prefix(1000)) ?? "cannot be decoded"
    }
}
