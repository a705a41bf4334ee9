import Foundation
import Segmentation

/// Applies what a message says about a person or their company to the lead's profile:
/// identify → traits (email, name, address and country, company), group → company (domain,
/// size, industry, tech stack). Data hygiene happens here: emails normalised, countries as
/// ISO 3166 alpha-2, company domain from the email unless it is a free-mail domain.
public struct ProfileUpdate: Sendable {
    public var freeMail: FreeMailDomains

    public init(freeMail: FreeMailDomains = .default) { self.freeMail = freeMail }

    /// Updates `state` from `message`; `identity` is the message's resolved identity.
    public func apply(_ message: SegmentMessage, identity: MessageIdentity, to state: inout LeadState) {
        if let user = message.userId, message.kind != .alias || state.userId == nil { state.userId = user }
        switch message.kind {
        case .identify:
            applyPersonTraits(message.traits, to: &state)
        case .group:
            applyCompany(message.traits, to: &state)
            if let groupId = message.groupId { state.traits["group_id"] = .string(groupId) }
        default:
            if case .object(let traits)? = message.context["traits"] { applyPersonTraits(traits, to: &state) }
        }
        if let email = identity.email {
            state.email = email.value
            if state.company.domain == nil { state.company.domain = freeMail.companyDomain(for: email) }
        } else if let invalid = identity.invalidEmail {
            state.traits["email"] = .string(invalid)
        }
    }

    func applyPersonTraits(_ traits: [String: Value], to state: inout LeadState) {
        for (key, value) in traits {
            switch key {
            case "email": continue  // handled through MessageIdentity (normalised or kept as trait)
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
            case "userId", "user_id", "status", "customer":
                continue  // identity and CRM status are not traits a sender can set
            default:
                state.traits[key] = value
            }
        }
    }

    func applyCompany(_ fields: [String: Value], to state: inout LeadState) {
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
