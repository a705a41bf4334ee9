import Foundation
import HTTPServer
import LeadStore
import Segmentation

/// The key lifecycle, scope `admin`: `GET /v1/keys` (list; never a secret or hash),
/// `POST /v1/keys` (create; the key is answered once), `PATCH /v1/keys/{id}` (its CORS origins),
/// `DELETE /v1/keys/{id}` (revoke) and
/// `POST /v1/keys/{id}/rotate` (a new key with the same settings; the old one works for
/// `grace_seconds` more). Thin: decode, call `KeyAdmin`, encode.
public struct KeyRoutes: Sendable {
    let admin: KeyAdmin

    package init(admin: KeyAdmin) { self.admin = admin }

    package func install(into v1: inout RouterGroup<APIContext>, _ api: APIMiddleware) {
        v1.group("/keys", middleware: api.authenticated(.admin)) { keys in
            keys.get { _, _ in .json(KeyList(data: try admin.keys().map { KeyView($0) })) }
            keys.post(maxBodyBytes: 8 * 1024) { request, _ in try create(request) }
            keys.delete("/{id}") { request, _ in
                guard let revoked = try admin.revoke(try Self.keyID(request)) else { throw Self.noKey }
                return .json(KeyView(revoked))
            }
            keys.post("/{id}/rotate", maxBodyBytes: 4 * 1024) { request, _ in try rotate(request) }
            keys.patch("/{id}", maxBodyBytes: 16 * 1024) { request, _ in try update(request) }
        }
    }

    static let noKey = HTTPError(.notFound, detail: "no such key")

    static func keyID(_ request: HTTPRequest) throws -> UUID {
        guard let id = request.pathParameters["id"].flatMap(UUID.init(uuidString:)) else { throw noKey }
        return id
    }

    static func invalid(_ problems: [(pointer: String, detail: String)]) -> HTTPError {
        HTTPError(.unprocessableContent, title: "Invalid key", detail: problems.first?.detail,
                  errors: problems.map { ProblemFieldError(pointer: $0.pointer, detail: $0.detail) })
    }

    /// The body as a JSON object (empty: `{}`), else 400.
    static func object(_ request: HTTPRequest) throws -> [String: Value] {
        if request.body.isEmpty { return [:] }
        guard case let .object(object)? = try? JSONDecoder().decode(Value.self, from: Data(request.body)) else {
            throw HTTPError(.badRequest, detail: "the body must be a JSON object", errors: [.init(pointer: "", detail: "must be a JSON object")])
        }
        return object
    }

    /// `{name, scopes?, signing_secret?, public?, owner?}`; `scopes` may be left out for a
    /// public key (it is `["ingest"]`).
    func create(_ request: HTTPRequest) throws -> HTTPResponse {
        let object = try Self.object(request)
        var problems: [(pointer: String, detail: String)] = []
        let known: Set<String> = ["name", "scopes", "signing_secret", "public", "owner", "cors_allowed_origins"]
        for key in object.keys.sorted() where !known.contains(key) { problems.append(("/\(key)", "is not a key field")) }
        var name = ""
        switch object["name"] {
        case let .string(text)?: name = text
        default: problems.append(("/name", "is required (a string)"))
        }
        var isPublic = false
        switch object["public"] {
        case nil, .null?: break
        case let .bool(flag)?: isPublic = flag
        default: problems.append(("/public", "must be true or false"))
        }
        var scopes = Set<APIScope>()
        switch object["scopes"] {
        case nil where isPublic, .null? where isPublic: scopes = [.ingest]
        case let .array(list)?:
            for item in list {
                guard case let .string(text) = item, let scope = APIScope(rawValue: text) else {
                    problems.append(("/scopes", "unknown scope \(item): use any of \(APIScope.allCases.map(\.rawValue).joined(separator: ", "))"))
                    continue
                }
                scopes.insert(scope)
            }
            if list.isEmpty { problems.append(("/scopes", "a key needs at least one scope")) }
        default: problems.append(("/scopes", "is required: a list of ingest, read, write, queue, admin"))
        }
        let secret = optionalString(object, "signing_secret", &problems)
        let owner = optionalString(object, "owner", &problems)
        let origins = Self.origins(object, &problems)
        if !problems.isEmpty { throw Self.invalid(problems) }
        let settings = APIKeySettings(name: name, scopes: scopes, signingSecret: secret, isPublic: isPublic, ownerId: owner,
                                      corsAllowedOrigins: origins)
        let created: KeyAdmin.Created
        do { created = try admin.create(settings) } catch let error as APIKeySettingsError { throw Self.invalid(error.problems) }
        var view = KeyView(created.key)
        view.key = created.plaintext  // shown once, here
        return .json(view, status: .created)
    }

    /// `{grace_seconds?}` (0 … 30 days, default a day).
    func rotate(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try Self.keyID(request)
        var grace = KeyAdmin.defaultGraceSeconds
        switch try Self.object(request)["grace_seconds"] {
        case nil, .null?: break
        case let .number(n)? where n == n.rounded() && n >= 0 && n <= Double(KeyAdmin.maxGraceSeconds): grace = Int(n)
        default: throw Self.invalid([("/grace_seconds", "must be an integer from 0 to \(KeyAdmin.maxGraceSeconds)")])
        }
        switch try admin.rotate(id, graceSeconds: grace) {
        case .notFound: throw Self.noKey
        case let .ended(why): throw HTTPError(.conflict, detail: "\(why): create a new key instead")
        case let .rotated(new, old):
            var view = KeyView(new.key)
            view.key = new.plaintext  // shown once, here
            return .json(RotatedKeyView(key: view, replaced: KeyView(old)), status: .created)
        }
    }

    /// `{cors_allowed_origins}`: the key's own CORS origins (`["*"]`, a list of origins, or null
    /// for the global default again). The only setting that changes in place: the others define
    /// what the key is (rotate or create a key to change them).
    func update(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try Self.keyID(request)
        let object = try Self.object(request)
        var problems: [(pointer: String, detail: String)] = []
        for key in object.keys.sorted() where key != "cors_allowed_origins" { problems.append(("/\(key)", "cannot be changed: only cors_allowed_origins can")) }
        if object["cors_allowed_origins"] == nil { problems.append(("/cors_allowed_origins", "is required (null restores the default)")) }
        let origins = Self.origins(object, &problems)
        if !problems.isEmpty { throw Self.invalid(problems) }
        guard let changed = try admin.setCORSOrigins(id, origins) else { throw Self.noKey }
        return .json(KeyView(changed))
    }

    /// `cors_allowed_origins` of a body: absent or null → nil; else a list `AllowedOrigins` accepts.
    static func origins(_ object: [String: Value], _ problems: inout [(pointer: String, detail: String)]) -> AllowedOrigins? {
        switch object["cors_allowed_origins"] {
        case nil, .null?: return nil
        case let .array(items)?:
            let texts = items.compactMap(\.stringValue)
            guard texts.count == items.count else { problems.append(("/cors_allowed_origins", "must be a list of strings")); return nil }
            do { return try AllowedOrigins.parse(list: texts) } catch {
                problems.append(("/cors_allowed_origins", error.description)); return nil
            }
        default: problems.append(("/cors_allowed_origins", "must be a list such as [\"https://shop.example.com\"] or [\"*\"], or null")); return nil
        }
    }

    private func optionalString(_ object: [String: Value], _ key: String, _ problems: inout [(pointer: String, detail: String)]) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case let .string(text)?: return text
        default: problems.append(("/\(key)", "must be a string")); return nil
        }
    }
}

/// A key as the API shows it: never the hash or the signing secret; `key` (the plaintext) only
/// in the answer that created it.
struct KeyView: Encodable {
    var listing: APIKeyListing
    var key: String?

    init(_ listing: APIKeyListing) { self.listing = listing }

    enum CodingKeys: String, CodingKey {
        case id, name, prefix, scopes, `public`, owner, signed, createdAt = "created_at", lastUsedAt = "last_used_at"
        case revokedAt = "revoked_at", expiresAt = "expires_at", rotatedFrom = "rotated_from", key
        case corsAllowedOrigins = "cors_allowed_origins"
    }

    func encode(to encoder: Encoder) throws {
        func ts(_ date: Date?) -> Timestamp? { date.map { Timestamp($0) } }
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(listing.id.uuidString.lowercased(), forKey: .id); try c.encode(listing.name, forKey: .name)
        try c.encode(listing.prefix, forKey: .prefix); try c.encode(listing.scopes.map(\.rawValue), forKey: .scopes)
        try c.encode(listing.isPublic, forKey: .public); try c.encode(listing.ownerId, forKey: .owner)
        try c.encode(listing.signed, forKey: .signed); try c.encode(Timestamp(listing.createdAt), forKey: .createdAt)
        try c.encode(ts(listing.lastUsedAt), forKey: .lastUsedAt); try c.encode(ts(listing.revokedAt), forKey: .revokedAt)
        try c.encode(ts(listing.expiresAt), forKey: .expiresAt)
        try c.encode(listing.rotatedFrom?.uuidString.lowercased(), forKey: .rotatedFrom)
        try c.encode(listing.corsAllowedOrigins?.list, forKey: .corsAllowedOrigins)
        try c.encodeIfPresent(key, forKey: .key)
    }
}

/// A rotation's answer: the new key (with its plaintext) and, under `replaced`, the old one
/// with `expires_at`, the end of its grace period.
struct RotatedKeyView: Encodable {
    var key: KeyView
    var replaced: KeyView
    enum CodingKeys: String, CodingKey { case replaced }
    func encode(to encoder: Encoder) throws {
        try key.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(replaced, forKey: .replaced)
    }
}

struct KeyList: Encodable { var data: [KeyView] }
