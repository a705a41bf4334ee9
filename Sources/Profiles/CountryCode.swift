/// Countries as ISO 3166-1 alpha-2 codes, so that `lead.country == "DE"` and territory rules
/// match whatever the site sent: `de`, `DEU`, `Germany` and `Deutschland` all become `DE`.
public struct CountryCode: Hashable, Sendable, CustomStringConvertible {
    /// The upper-case alpha-2 code.
    public let alpha2: String
    public var description: String { alpha2 }

    /// `nil` when `raw` names no country (it is then kept as a trait and counted, not guessed).
    public init?(_ raw: String) {
        let key = Self.fold(raw)
        guard !key.isEmpty, let code = Self.index[key] else { return nil }
        alpha2 = code
    }

    /// Folded lookup key → alpha-2: codes and names, case- and punctuation-insensitive.
    private static let index: [String: String] = {
        var map: [String: String] = [:]
        for entry in ISO3166Table.entries {
            map[fold(entry.alpha2)] = entry.alpha2
            map[fold(entry.alpha3)] = entry.alpha2
            for name in entry.names { map[fold(name)] = entry.alpha2 }
        }
        return map
    }()

    /// Lower-cases and keeps only letters, so "United States", "united-states" and "UNITED STATES " agree.
    private static func fold(_ text: String) -> String {
        String(String.UnicodeScalarView(text.lowercased().unicodeScalars.filter { $0.properties.isAlphabetic }))
    }
}
