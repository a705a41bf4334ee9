import Foundation
import Ingest
import LeadStore
import Postgres
import Segmentation

/// `GET /v1/leads/{id}`: the lead as CRMs read it (DESIGN.md §6), snake_case keys.
struct LeadView: Encodable {
    struct Company: Encodable {
        var domain: String?
        var size: Double?
        var industry: String?
        var techStack: [String]
        enum CodingKeys: String, CodingKey { case domain, size, industry, techStack = "tech_stack" }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(domain, forKey: .domain); try c.encode(size, forKey: .size)
            try c.encode(industry, forKey: .industry); try c.encode(techStack, forKey: .techStack)
        }
    }
    struct Source: Encodable {
        var first: LeadState.Touch?
        var last: LeadState.Touch?
    }

    var id: String
    var email: String?
    var userId: String?
    var anonymousIds: [String]
    var stage: String?
    var status: String
    var score: Double
    var band: String?
    var customer: Bool
    var segments: [String]
    var primarySegment: String?
    var ownerId: String?
    var source: Source
    var country: String?
    var region: String?
    var shipToRegion: String?
    var company: Company
    var traits: [String: Value]
    var createdAt: Date
    var updatedAt: Date
    var nextEvaluationAt: Date?
    var mergedInto: String?
    /// Ids of leads merged into this one (old ids keep answering with this lead); `[]` when none.
    var mergedIds: [String]

    enum CodingKeys: String, CodingKey {
        case id, email, userId = "user_id", anonymousIds = "anonymous_ids", stage, status, score, band, customer, segments
        case primarySegment = "primary_segment", ownerId = "owner_id", source, country, region, shipToRegion = "ship_to_region"
        case company, traits, createdAt = "created_at", updatedAt = "updated_at", nextEvaluationAt = "next_evaluation_at"
        case mergedInto = "merged_into", mergedIds = "merged_ids"
    }

    init(_ found: LeadWithIdentities) {
        let lead = found.lead, identities = found.identities
        let s = lead.state
        id = lead.id.uuidString.lowercased()
        email = s.email
        userId = s.userId
        anonymousIds = identities.filter { $0.kind == .anonymousId }.map(\.value)
        stage = s.stage; status = s.status; score = round3(s.score); band = s.band; customer = s.customer
        segments = s.memberships.keys.sorted()
        primarySegment = lead.primarySegment; ownerId = lead.ownerId
        source = Source(first: s.firstSource, last: s.lastSource)
        country = s.country; region = s.region; shipToRegion = s.shipToRegion
        company = Company(domain: s.company.domain, size: s.company.size, industry: s.company.industry, techStack: s.company.techStack)
        traits = s.traits
        createdAt = lead.createdAt; updatedAt = lead.updatedAt; nextEvaluationAt = lead.nextEvaluationAt
        mergedInto = lead.mergedInto?.uuidString.lowercased()
        mergedIds = found.mergedIds.map { $0.uuidString.lowercased() }
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id); try c.encode(email, forKey: .email); try c.encode(userId, forKey: .userId)
        try c.encode(anonymousIds, forKey: .anonymousIds); try c.encode(stage, forKey: .stage); try c.encode(status, forKey: .status)
        try c.encode(score, forKey: .score); try c.encode(band, forKey: .band); try c.encode(customer, forKey: .customer)
        try c.encode(segments, forKey: .segments); try c.encode(primarySegment, forKey: .primarySegment)
        try c.encode(ownerId, forKey: .ownerId); try c.encode(source, forKey: .source); try c.encode(country, forKey: .country)
        try c.encode(region, forKey: .region); try c.encode(shipToRegion, forKey: .shipToRegion); try c.encode(company, forKey: .company)
        try c.encode(traits, forKey: .traits); try c.encode(Timestamp(createdAt), forKey: .createdAt)
        try c.encode(Timestamp(updatedAt), forKey: .updatedAt); try c.encode(nextEvaluationAt.map(Timestamp.init), forKey: .nextEvaluationAt)
        try c.encode(mergedInto, forKey: .mergedInto)
        try c.encode(mergedIds, forKey: .mergedIds)
    }
}

/// A stored JSON document re-emitted as it is inside a larger response.
struct PostgresJSONValue: Encodable {
    let value: Value
    init(_ json: PostgresJSON) throws { value = try json.decode(Value.self) }
    func encode(to encoder: Encoder) throws { try value.encode(to: encoder) }
}
