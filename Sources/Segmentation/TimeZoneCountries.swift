/// IANA time zones and countries, one table both ways: the country of a zone, for leads whose
/// only geography is `context.timezone` (what browsers and Segment's SDKs send; `Profiles`), and
/// a country's main zone, in which `send_at` is computed when a lead's own zone is unknown.
/// Zones shared by several countries (`UTC`, `Etc/*`) and zones not listed give nil: a guess is
/// worse than no country.
public enum TimeZoneCountries {
    public static func country(of zone: String) -> String? { table[zone] }

    /// The zone most of the country's people live in (ISO 3166 alpha-2), nil for a country not listed.
    public static func mainZone(of country: String) -> String? { mainZones[country] }

    /// Countries with one zone in `table` take it; those with several, the most populous.
    static let mainZones: [String: String] = {
        var zones: [String: [String]] = [:]
        for (zone, country) in table { zones[country, default: []].append(zone) }
        var out = zones.compactMapValues { $0.count == 1 ? $0[0] : nil }
        for (country, zone) in [("US", "America/New_York"), ("CA", "America/Toronto"), ("AU", "Australia/Sydney"), ("DE", "Europe/Berlin"),
                                ("ES", "Europe/Madrid"), ("UA", "Europe/Kyiv"), ("IN", "Asia/Kolkata")] { out[country] = zone }
        return out
    }()

    static let table: [String: String] = [
        // Europe
        "Europe/Berlin": "DE", "Europe/Busingen": "DE", "Europe/Vienna": "AT", "Europe/Zurich": "CH", "Europe/London": "GB",
        "Europe/Dublin": "IE", "Europe/Paris": "FR", "Europe/Madrid": "ES", "Atlantic/Canary": "ES", "Europe/Lisbon": "PT",
        "Europe/Rome": "IT", "Europe/Amsterdam": "NL", "Europe/Brussels": "BE", "Europe/Luxembourg": "LU", "Europe/Copenhagen": "DK",
        "Europe/Stockholm": "SE", "Europe/Oslo": "NO", "Europe/Helsinki": "FI", "Europe/Warsaw": "PL", "Europe/Prague": "CZ",
        "Europe/Bratislava": "SK", "Europe/Budapest": "HU", "Europe/Ljubljana": "SI", "Europe/Zagreb": "HR", "Europe/Athens": "GR",
        "Europe/Bucharest": "RO", "Europe/Sofia": "BG", "Europe/Tallinn": "EE", "Europe/Riga": "LV", "Europe/Vilnius": "LT",
        "Europe/Istanbul": "TR", "Europe/Kyiv": "UA", "Europe/Kiev": "UA", "Atlantic/Reykjavik": "IS", "Europe/Malta": "MT",
        "Asia/Nicosia": "CY", "Europe/Belgrade": "RS",
        // Americas
        "America/New_York": "US", "America/Chicago": "US", "America/Denver": "US", "America/Phoenix": "US",
        "America/Los_Angeles": "US", "America/Anchorage": "US", "Pacific/Honolulu": "US", "America/Detroit": "US",
        "America/Indiana/Indianapolis": "US", "America/Boise": "US", "America/Toronto": "CA", "America/Vancouver": "CA",
        "America/Edmonton": "CA", "America/Winnipeg": "CA", "America/Halifax": "CA", "America/St_Johns": "CA",
        "America/Mexico_City": "MX", "America/Sao_Paulo": "BR", "America/Argentina/Buenos_Aires": "AR", "America/Santiago": "CL",
        "America/Bogota": "CO", "America/Lima": "PE",
        // Asia, Oceania, Africa
        "Asia/Tokyo": "JP", "Asia/Seoul": "KR", "Asia/Shanghai": "CN", "Asia/Hong_Kong": "HK", "Asia/Singapore": "SG",
        "Asia/Kolkata": "IN", "Asia/Calcutta": "IN", "Asia/Dubai": "AE", "Asia/Jerusalem": "IL", "Asia/Bangkok": "TH",
        "Asia/Jakarta": "ID", "Asia/Manila": "PH", "Asia/Taipei": "TW", "Australia/Sydney": "AU", "Australia/Melbourne": "AU",
        "Australia/Brisbane": "AU", "Australia/Perth": "AU", "Australia/Adelaide": "AU", "Pacific/Auckland": "NZ",
        "Africa/Johannesburg": "ZA", "Africa/Lagos": "NG", "Africa/Cairo": "EG", "Africa/Nairobi": "KE",
    ]
}
