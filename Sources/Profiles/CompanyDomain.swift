import Essentials
/// Derives a lead's company domain from its email, the B2B link between a form fill and a CRM
/// account — except for free-mail providers, where the domain says nothing about an employer.
public struct FreeMailDomains: Sendable {
    /// Domains never taken as a company (lower case).
    public let domains: Set<String>

    public init(_ domains: some Sequence<String>) {
        self.domains = Set(domains.map { $0.trimmingWhitespace().lowercased() })
    }

    /// The list used when the config names none: the large consumer providers.
    public static let `default` = FreeMailDomains([
        "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de", "ymail.com",
        "hotmail.com", "hotmail.co.uk", "hotmail.fr", "hotmail.de", "outlook.com", "outlook.de", "live.com",
        "msn.com", "aol.com", "icloud.com", "me.com", "mac.com", "proton.me", "protonmail.com", "pm.me",
        "gmx.de", "gmx.net", "gmx.at", "gmx.ch", "web.de", "t-online.de", "freenet.de", "mail.com",
        "mail.ru", "yandex.ru", "yandex.com", "zoho.com", "fastmail.com", "hey.com", "tutanota.com",
        "qq.com", "163.com", "126.com", "orange.fr", "free.fr", "laposte.net", "libero.it", "virgilio.it",
        "btinternet.com", "sky.com", "comcast.net", "verizon.net", "att.net", "bluewin.ch", "seznam.cz",
        "wp.pl", "o2.pl", "interia.pl",
    ])

    /// The company domain for `email`, or `nil` for a free-mail address.
    public func companyDomain(for email: EmailAddress) -> String? {
        let domain = String(email.domain)
        return domains.contains(domain) ? nil : domain
    }
}
