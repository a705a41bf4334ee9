/// The country of an IANA time zone, for leads whose only geography is `context.timezone` (what
/// browsers and Segment's SDKs send). Zones shared by several countries (`UTC`, `Etc/*`) and
/// zones not listed give nil: a guess is worse than no country.
public enum TimeZoneCountries {
    public static func country(of zone: String) -> String? { table[zone] }

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
