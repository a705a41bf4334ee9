/// Everything the rules know about a lead, stored on the lead's row between events. The service
/// sets the profile fields (email, geography, company, traits); the engine maintains the rest.
public struct LeadState: Sendable, Equatable, Codable {
    /// Firmographics for B2B rules (`lead.company.*`).
    public struct Company: Sendable, Equatable, Codable {
        /// Company web domain, e.g. `acme.com`.
        public var domain: String?
        /// Number of employees.
        public var size: Double?
        /// Industry label.
        public var industry: String?
        /// Technologies the company uses.
        public var techStack: [String]
        /// Creates a company profile.
        public init(domain: String? = nil, size: Double? = nil, industry: String? = nil, techStack: [String] = []) {
            self.domain = domain; self.size = size; self.industry = industry; self.techStack = techStack
        }
        /// Decodes with `tech_stack` optional.
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(domain: try c.decodeIfPresent(String.self, forKey: .domain),
                      size: try c.decodeIfPresent(Double.self, forKey: .size),
                      industry: try c.decodeIfPresent(String.self, forKey: .industry),
                      techStack: try c.decodeIfPresent([String].self, forKey: .techStack) ?? [])
        }
        enum CodingKeys: String, CodingKey { case domain, size, industry, techStack = "tech_stack" }
    }

    /// A derived acquisition channel and the event time it was derived from.
    public struct Touch: Sendable, Equatable, Codable {
        /// Channel name from the ruleset's `sources`, e.g. `paid_search`.
        public var channel: String
        /// Occurrence time of the event that showed it.
        public var at: Timestamp
        /// Creates a touch.
        public init(channel: String, at: Timestamp) { self.channel = channel; self.at = at }
    }

    /// Lead email (`lead.email`); `lead.email_domain` is derived from it.
    public var email: String?
    /// The site's user id.
    public var userId: String?
    /// Country code, e.g. `DE`.
    public var country: String?
    /// Region or state.
    public var region: String?
    /// Region goods ship to (can matter more than billing).
    public var shipToRegion: String?
    /// Company profile.
    public var company: Company
    /// Free-form traits from `identify` (`lead.traits.<key>`).
    public var traits: [String: Value]
    /// Funnel stage set by the ordered stage rules.
    public var stage: String?
    /// CRM status (`new` until an event or the CRM moves it).
    public var status: String
    /// Occurrence time of the event (or CRM change) that set `status`; older late events do not move it.
    public var statusAt: Timestamp?
    /// True once the status has been `converted`; never goes back.
    public var customer: Bool
    /// Score at `scoreAt` (decays with the ruleset's half-life).
    public var score: Double
    /// When `score` was last computed.
    public var scoreAt: Timestamp?
    /// Per scoring rule (by rule key) its contribution at `scoreAt`, so caps apply per rule.
    public var scoreParts: [String: Double]
    /// Score band (its action name) at the last evaluation.
    public var band: String?
    /// Current segment memberships: segment name → entered at.
    public var memberships: [String: Timestamp]
    /// First touch channel.
    public var firstSource: Touch?
    /// Last touch channel (latest by occurrence time).
    public var lastSource: Touch?
    /// Occurrence times the ruleset's counts need; see `SignalState`.
    public var signals: SignalState
    /// Earliest event time seen.
    public var firstSeen: Timestamp?
    /// Latest event time seen.
    public var lastEventAt: Timestamp?
    /// Decayed product-view counts per category and product (`lead.interest.*`).
    public var interest: InterestState = InterestState()
    /// The lead's IANA time zone, from the latest event's `context.timezone` (for `send_at`).
    public var timezone: String?
    /// Channel → what was sent on it, for `caps:`.
    public var sent: [String: SentLog] = [:]
    /// Segment → the member's score in it (`score:` of a segment).
    public var segmentScores: [String: SegmentScoreState] = [:]
    /// The lead's id as the service knows it (lower-case UUID text), for experiment assignment;
    /// set when the row is read, never stored in the state's columns (see `LeadKey`).
    public var id = LeadKey()

    /// An empty state, for what a state moved out leaves behind (`take()`): copying this one
    /// costs the retains of its empty collections, where `LeadState()` built each of them from a
    /// literal and then copied and destroyed the whole state once more (≈ 1 400 instructions,
    /// twice an evaluation in a backtest; docs/benchmarks/backtest.md). Equal to `LeadState()`.
    public static let vacant = LeadState()

    /// This state, moved out and `vacant` left behind: what an evaluation is handed rather than
    /// a copy, so it owns the series and changes them in place (a backtest's replay handing its
    /// state to each evaluation; the evaluation's own environment moves its lead out without
    /// leaving anything behind, `EvalEnv.takeLead`).
    @inlinable
    public mutating func take() -> LeadState {
        var out = LeadState.vacant
        swap(&out, &self)
        return out
    }

    /// A new lead with no history.
    public init(email: String? = nil, userId: String? = nil, country: String? = nil, region: String? = nil,
                shipToRegion: String? = nil, company: Company = Company(), traits: [String: Value] = [:]) {
        self.email = email; self.userId = userId; self.country = country; self.region = region
        self.shipToRegion = shipToRegion; self.company = company; self.traits = traits
        self.stage = nil; self.status = "new"; self.statusAt = nil; self.customer = false
        self.score = 0; self.scoreAt = nil; self.scoreParts = [:]; self.band = nil
        self.memberships = [:]; self.firstSource = nil; self.lastSource = nil
        self.signals = SignalState(); self.firstSeen = nil; self.lastEventAt = nil
    }

    /// Sets the status from a CRM (any value); `converted` makes the lead a customer for good.
    public mutating func setStatus(_ status: String, at: Timestamp) {
        self.status = status
        self.statusAt = at
        if status == "converted" { customer = true }
    }

    /// The part of the email after `@`, lower-cased.
    var emailDomain: String? {
        guard let email, let at = email.lastIndex(of: "@") else { return nil }
        return String(email[email.index(after: at)...]).lowercased()
    }

    /// Decodes a stored state; missing keys take their new-lead defaults, so rows written by an
    /// older version (or with only profile fields) still load.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(email: try c.decodeIfPresent(String.self, forKey: .email),
                  userId: try c.decodeIfPresent(String.self, forKey: .userId),
                  country: try c.decodeIfPresent(String.self, forKey: .country),
                  region: try c.decodeIfPresent(String.self, forKey: .region),
                  shipToRegion: try c.decodeIfPresent(String.self, forKey: .shipToRegion),
                  company: try c.decodeIfPresent(Company.self, forKey: .company) ?? Company(),
                  traits: try c.decodeIfPresent([String: Value].self, forKey: .traits) ?? [:])
        stage = try c.decodeIfPresent(String.self, forKey: .stage)
        status = try c.decodeIfPresent(String.self, forKey: .status) ?? "new"
        statusAt = try c.decodeIfPresent(Timestamp.self, forKey: .statusAt)
        customer = try c.decodeIfPresent(Bool.self, forKey: .customer) ?? false
        score = try c.decodeIfPresent(Double.self, forKey: .score) ?? 0
        scoreAt = try c.decodeIfPresent(Timestamp.self, forKey: .scoreAt)
        scoreParts = try c.decodeIfPresent([String: Double].self, forKey: .scoreParts) ?? [:]
        band = try c.decodeIfPresent(String.self, forKey: .band)
        memberships = try c.decodeIfPresent([String: Timestamp].self, forKey: .memberships) ?? [:]
        firstSource = try c.decodeIfPresent(Touch.self, forKey: .firstSource)
        lastSource = try c.decodeIfPresent(Touch.self, forKey: .lastSource)
        signals = try c.decodeIfPresent(SignalState.self, forKey: .signals) ?? SignalState()
        firstSeen = try c.decodeIfPresent(Timestamp.self, forKey: .firstSeen)
        lastEventAt = try c.decodeIfPresent(Timestamp.self, forKey: .lastEventAt)
        interest = try c.decodeIfPresent(InterestState.self, forKey: .interest) ?? InterestState()
        timezone = try c.decodeIfPresent(String.self, forKey: .timezone)
        sent = try c.decodeIfPresent([String: SentLog].self, forKey: .sent) ?? [:]
        segmentScores = try c.decodeIfPresent([String: SegmentScoreState].self, forKey: .segmentScores) ?? [:]
    }

    enum CodingKeys: String, CodingKey {
        case email, userId = "user_id", country, region, shipToRegion = "ship_to_region", company, traits
        case stage, status, statusAt = "status_at", customer, score, scoreAt = "score_at", scoreParts = "score_parts"
        case band, memberships, firstSource = "first_source", lastSource = "last_source", signals
        case firstSeen = "first_seen", lastEventAt = "last_event_at", interest, timezone, sent, segmentScores = "segment_scores"
    }
}
