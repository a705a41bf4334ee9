import Foundation

/// What a lead looked at, for `lead.interest.*`: decayed counts of viewed products per category
/// and per product. Counts all decay with one half-life, so their order never changes between
/// events: `top_category` and `top_product` only move when an event arrives, while the counts
/// themselves shrink with time. Bounded: at most `InterestSpec.maxEntries` categories and as many
/// products (the weakest is forgotten first), so the lead row stays small.
public struct InterestState: Sendable, Equatable, Codable {
    /// The instant the counts were last decayed to (nil: nothing counted yet).
    public var at: Timestamp?
    /// Category → decayed count of views at `at`.
    public var categories: [String: Double]
    /// Product id → decayed count of views at `at`.
    public var products: [String: Double]

    public init(at: Timestamp? = nil, categories: [String: Double] = [:], products: [String: Double] = [:]) {
        self.at = at; self.categories = categories; self.products = products
    }

    public var isEmpty: Bool { categories.isEmpty && products.isEmpty }

    /// The entry with the highest count (ties: first by name).
    static func top(_ counts: [String: Double]) -> String? {
        var best: (String, Double)?
        for (k, v) in counts where best.map({ v > $0.1 || (v == $0.1 && k < $0.0) }) ?? true { best = (k, v) }
        return best?.0
    }

    /// The count of `key` decayed to `now` (0 when never seen or forgotten).
    func count(_ counts: [String: Double], _ key: String, now: Int64, halfLife: Int64?) -> Double {
        guard let c = counts[key] else { return 0 }
        return c * InterestState.factor(halfLife, from: at?.milliseconds, to: now)
    }

    static func factor(_ halfLife: Int64?, from: Int64?, to: Int64) -> Double { Decay.factor(halfLife, from: from, to: to) }

    /// Decays everything to `now` (never upwards when `now` is earlier), then adds one view at
    /// `occurredAt`, itself decayed by its age, as a late event's score points are.
    mutating func record(category: String?, product: String?, occurredAt: Int64, now: Int64, spec: InterestSpec) {
        let hl = spec.halfLife?.milliseconds
        let f = InterestState.factor(hl, from: at?.milliseconds, to: now)
        if f != 1 {
            InterestState.decay(&categories, by: f)
            InterestState.decay(&products, by: f)
        }
        if at.map({ now > $0.milliseconds }) ?? true { at = Timestamp(milliseconds: now) }
        let points = InterestState.factor(hl, from: occurredAt, to: at!.milliseconds)
        if let category { InterestState.add(points, to: category, in: &categories) }
        if let product { InterestState.add(points, to: product, in: &products) }
    }

    /// Multiplies every count by `f` in place (no rehashing), then forgets those below
    /// `forgetBelow`, which a decay rarely produces.
    private static func decay(_ counts: inout [String: Double], by f: Double) {
        let forget = counts.scaleValues(by: f) { !($0 >= InterestSpec.forgetBelow) }
        if forget { counts = counts.filter { $0.value >= InterestSpec.forgetBelow } }
    }

    private static func add(_ points: Double, to key: String, in counts: inout [String: Double]) {
        if counts[key] == nil, counts.count >= InterestSpec.maxEntries {
            // Forget the weakest (ties: the last by name) to make room.
            var weakest: (String, Double)?
            for (k, v) in counts where weakest.map({ v < $0.1 || (v == $0.1 && k > $0.0) }) ?? true { weakest = (k, v) }
            if let w = weakest { counts.removeValue(forKey: w.0) }
        }
        counts[key, default: 0] += points
    }
}

/// `interest:`: which event counts as a product view and which of its properties name the
/// category and the product. Active when the section is present or any rule or template reads
/// `lead.interest.*`.
public struct InterestSpec: Sendable {
    /// The canonical event type of a product view (`product_viewed`).
    public var event: String = "product_viewed"
    /// The `event.properties` key with the category (`category`).
    public var categoryProperty: String = "category"
    /// The `event.properties` key with the product id (`product_id`).
    public var productProperty: String = "product_id"
    /// Counts halve every `halfLife` (14 days by default); nil: no decay.
    public var halfLife: Duration? = Duration(milliseconds: 14 * 86_400_000)

    /// Categories and products kept per lead.
    public static let maxEntries = 16
    /// Counts that decayed below this are forgotten.
    static let forgetBelow = 0.001

    /// A property value as a key: text as is, a number as written (product ids are often numbers).
    static func key(_ v: Value?) -> String? {
        switch v {
        case .string(let s)? where !s.isEmpty: return s
        case .number(let n)?: return Expr.formatNumber(n)
        default: return nil
        }
    }
}
