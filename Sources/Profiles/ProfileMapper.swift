import Essentials
import Foundation
import Segmentation

/// The one mapping from what a sender says about a person or their company to a lead's profile,
/// used by ingest (identify, group, a track's `context.traits`) and by `rules test` (a case's
/// `lead:` and its events' traits), so a journey decides in a case file as it does in production.
/// Data hygiene happens here: emails normalised, countries as ISO 3166 alpha-2, company domain
/// from the email unless it is a free-mail domain, industries lower-cased, sizes from ranges.
public struct ProfileMapper: Sendable {
    public var freeMail: FreeMailDomains

    public init(freeMail: FreeMailDomains = .default) { self.freeMail = freeMail }

    /// A normalised email: the lead's email, and its company domain unless one is known or the
    /// address is free mail.
    public func applyEmail(_ email: EmailAddress, to state: inout LeadState) {
        state.email = email.value
        if state.company.domain == nil { state.company.domain = freeMail.companyDomain(for: email) }
    }

    /// An email as sent: normalised when valid, else kept as `traits.email` (never an identity).
    public func applyEmail(text: String, to state: inout LeadState) {
        if let email = EmailAddress(text) { applyEmail(email, to: &state) } else { state.traits["email"] = .string(text) }
    }

    /// A person's traits (identify, or any message's `context.traits`). `email` is not read here:
    /// it is an identity key, resolved by the caller and applied with `applyEmail`. Identity and
    /// CRM status are not traits a sender can set.
    public func applyPersonTraits(_ traits: [String: Value], to state: inout LeadState) {
        for (key, value) in traits {
            switch key {
            case "email": continue
            case "country":
                setCountry(value, on: &state)
            case "address":
                guard case .object(let address) = value else { state.traits[key] = value; continue }
                if let country = address["country"] { setCountry(country, on: &state) }
                if case .string(let region)? = address["state"] ?? address["region"] { state.region = region }
                state.traits["address"] = value
            case "region", "state":
                if case .string(let region) = value { state.region = region }
            case "ship_to_region", "shipToRegion":
                if case .string(let region) = value { state.shipToRegion = region.uppercased() }
            case "company":
                if case .object(let company) = value { applyCompany(company, to: &state) } else { state.traits[key] = value }
            case "consent":
                applyConsent(value, to: &state)
            case "userId", "user_id", "status", "customer":
                continue
            default:
                state.traits[key] = value
            }
        }
    }

    /// A company's fields (a group call's traits, or a person's `company` trait).
    public func applyCompany(_ fields: [String: Value], to state: inout LeadState) {
        for (key, value) in fields {
            switch key {
            case "domain", "website":
                if case .string(let text) = value, let domain = Self.domain(text) { state.company.domain = domain }
            case "size", "employees", "employee_count", "employeeCount":
                if let size = Self.number(value) { state.company.size = size }
            case "industry":
                if case .string(let text) = value { state.company.industry = text.lowercased() }
            case "tech_stack", "techStack", "technologies":
                state.company.techStack = Self.list(value)
            case "name":
                if case .string(let name) = value { state.traits["company_name"] = .string(name) }
            default:
                continue
            }
        }
    }

    /// Geography from a message's `context` when the lead has no country yet (traits win, now
    /// and later): Segment's `context.location.country` (a code or a name), else the country of
    /// `context.timezone` (an IANA zone of `TimeZoneCountries`).
    public func applyContextGeography(_ context: [String: Value], to state: inout LeadState) {
        guard state.country == nil else { return }
        if case .object(let location)? = context["location"], case .string(let text)? = location["country"], let code = CountryCode(text) {
            state.country = code.alpha2
            return
        }
        if case .string(let zone)? = context["timezone"], let code = TimeZoneCountries.country(of: zone) { state.country = code }
    }

    /// Consent choices, kept on the lead as `traits.consent` (category → true/false, category
    /// names lower-cased), merged so that each category keeps its latest answer: Segment's
    /// `context.consent.categoryPreferences` (`applyContextConsent`) or an explicit `consent`
    /// trait. Values other than booleans are ignored (an unreadable answer is no answer).
    public func applyConsent(_ value: Value, to state: inout LeadState) {
        guard case .object(let categories) = value else { return }
        var kept: [String: Value] = [:]
        if case .object(let existing)? = state.traits["consent"] { kept = existing }
        var changed = false
        for (category, answer) in categories {
            guard case .bool = answer, !category.isEmpty, category.utf8.count <= 64 else { continue }
            let key = category.lowercased()
            if kept[key] != answer { kept[key] = answer; changed = true }
        }
        if changed || state.traits["consent"] == nil, !kept.isEmpty { state.traits["consent"] = .object(kept) }
    }

    /// Segment's consent object: `context.consent.categoryPreferences`.
    public func applyContextConsent(_ context: [String: Value], to state: inout LeadState) {
        guard case .object(let consent)? = context["consent"], let preferences = consent["categoryPreferences"] else { return }
        applyConsent(preferences, to: &state)
    }

    func setCountry(_ value: Value, on state: inout LeadState) {
        guard case .string(let text) = value else { return }
        if let code = CountryCode(text) { state.country = code.alpha2 } else { state.traits["country"] = value }
    }

    /// `https://www.Example.com/about` → `example.com`.
    static func domain(_ text: String) -> String? {
        var host = text.trimmingCharacters(in: .whitespaces).lowercased()
        if let scheme = host.range(of: "://") { host = String(host[scheme.upperBound...]) }
        host = String(host.prefix { $0 != "/" && $0 != "?" && $0 != "#" && $0 != ":" })
        if host.hasPrefix("www.") { host.removeFirst(4) }
        // A DNS name is at most 253 bytes; a longer text is no domain (and too long an index key).
        return host.contains(".") && !host.contains(" ") && host.utf8.count <= 253 ? host : nil
    }

    /// A number, or the lower bound of a range such as `"51-200"`, or `"1000+"`.
    static func number(_ value: Value) -> Double? {
        switch value {
        case .number(let n): return n
        case .string(let text):
            let digits = text.prefix { $0.isNumber || $0 == "." }
            return Double(digits)
        default: return nil
        }
    }

    static func list(_ value: Value) -> [String] {
        switch value {
        case .array(let items): return items.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
        case .string(let text): return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        default: return []
        }
    }
}
