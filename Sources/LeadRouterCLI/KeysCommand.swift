import ArgumentParser
import Foundation
import LeadRouterService
import LeadStore
import Logging
import Postgres

/// `leadrouter keys …`: API keys (stored as SHA-256; the key itself is shown once).
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Manage API keys.",
        subcommands: [KeysCreateCommand.self, KeysListCommand.self, KeysRevokeCommand.self, KeysRotateCommand.self, KeysCORSCommand.self])
}

/// The database options every `keys` subcommand takes.
struct KeysDatabaseOptions: ParsableArguments {
    @Option(help: "Database URL (default: $DATABASE_URL).") var databaseURL: String?

    func connect() throws -> PostgresConnection {
        var logger = Logger(label: "leadrouter")
        logger.logLevel = .warning
        return try PostgresConnection(configuration: PostgresConfiguration(url: try url()), logger: logger)
    }

    /// `--database-url`, else `$DATABASE_URL`; exits 78 (configuration error) when neither is set.
    func url() throws -> String {
        guard let url = databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
            stderrLine("leadrouter: DATABASE_URL is not set")
            throw ExitCode(78)
        }
        return url
    }
}

/// A key id argument (a UUID).
func parseKeyID(_ text: String) throws -> UUID {
    guard let id = UUID(uuidString: text) else { throw ValidationError("'\(text)' is not a key id (a UUID, as `keys list` shows)") }
    return id
}

/// `leadrouter keys create --name N --scopes ingest[,read,…] [--public] [--owner ID]`: prints the new key alone on its last line.
struct KeysCreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create an API key; the key is printed once, alone on the last line.",
        discussion: """
            A key with scope ingest is a Segment write key. Scopes: ingest, read, write (lead changes), queue, admin (admin implies all).
            --public makes a browser/app write key: scope ingest only, the Segment-compatible endpoints only (not POST /v1/events).
            --owner binds a queue key to one owner: it claims, acks and releases only as that owner.
            """)

    @Option(help: "A name to recognise the key by.") var name: String
    @Option(help: "Comma-separated scopes: ingest, read, write (lead changes), queue, admin; e.g. ingest or read,write. Default with --public: ingest.")
    var scopes: String?
    @Option(help: "Require X-Leadrouter-Signature (HMAC-SHA256 with this secret) on POST /v1/events.")
    var signingSecret: String?
    @Flag(name: .customLong("public"), help: "A public (browser/app) write key: only the Segment-compatible endpoints.")
    var isPublic = false
    @Option(help: "Bind the key to this owner (e.g. rep_anna): it claims and acks queue items only as that owner.")
    var owner: String?
    @Option(help: "Browser origins allowed with this key instead of ingest.cors_allowed_origins: * or comma-separated https://host[:port].")
    var corsAllowedOrigins: String?
    @OptionGroup var database: KeysDatabaseOptions

    func run() throws {
        let parsed: Set<APIScope>
        switch scopes {
        case nil where isPublic: parsed = [.ingest]
        case nil: throw ValidationError("Missing expected argument '--scopes <scopes>'")
        case let text?: do { parsed = try APIScope.parseList(text) } catch { throw ValidationError("\(error)") }
        }
        let origins = try corsAllowedOrigins.map(parseOrigins)
        let settings = APIKeySettings(name: name, scopes: parsed, signingSecret: signingSecret, isPublic: isPublic, ownerId: owner,
                                      corsAllowedOrigins: origins)
        do { try settings.validate() } catch { throw ValidationError(error.description) }
        let created = try KeyAdmin.create(settings, on: try database.connect())
        var traits: [String] = []
        if isPublic { traits.append("public") }
        if let owner { traits.append("bound to owner \(owner)") }
        print("created key \(created.key.id.uuidString.lowercased()) '\(name)' with scopes \(parsed.sorted().map(\.rawValue).joined(separator: ","))"
              + (traits.isEmpty ? "" : " (\(traits.joined(separator: ", ")))"))
        print(created.plaintext)
    }
}

/// `leadrouter keys list`: one line per key, never a secret.
struct KeysListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List API keys (id, name, scopes, kind, CORS origins, created, last used, revoked/expires); never a secret.")

    @OptionGroup var database: KeysDatabaseOptions

    func run() throws {
        let keys = try Store(try database.connect()).apiKeys()
        func time(_ date: Date?) -> String { date.map(Self.time) ?? "-" }
        print(["id", "name", "prefix", "scopes", "kind", "cors_origins", "created_at", "last_used_at", "revoked_at", "expires_at"]
            .joined(separator: "\t"))
        for key in keys {
            var kind = key.isPublic ? "public" : key.ownerId.map { "owner:\($0)" } ?? "secret"
            if key.signed { kind += ",signed" }
            // `default`: ingest.cors_allowed_origins applies; `none`: the key's own list is empty.
            let origins = key.corsAllowedOrigins.map { $0.list.isEmpty ? "none" : $0.list.joined(separator: ",") } ?? "default"
            print([key.id.uuidString.lowercased(), key.name, key.prefix ?? "-", key.scopes.map(\.rawValue).joined(separator: ","), kind,
                   origins, time(key.createdAt), time(key.lastUsedAt), time(key.revokedAt), time(key.expiresAt)].joined(separator: "\t"))
        }
    }

    static func time(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }
}

/// `leadrouter keys revoke ID`.
struct KeysRevokeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "Revoke an API key.",
        discussion: "Running nodes stop accepting it within their key cache time (10 s).")

    @Argument(help: "The key id (keys list).") var id: String
    @OptionGroup var database: KeysDatabaseOptions

    func run() throws {
        let id = try parseKeyID(id)
        guard let revoked = try Store(try database.connect()).revokeAPIKey(id: id) else {
            stderrLine("leadrouter: no key \(id.uuidString.lowercased())")
            throw ExitCode(1)
        }
        print("revoked key \(revoked.id.uuidString.lowercased()) '\(revoked.name)'")
    }
}

/// `leadrouter keys rotate ID [--grace-seconds N]`: prints the new key alone on its last line.
struct KeysRotateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate", abstract: "Replace an API key by a new one with the same settings; the new key is printed once, alone on the last line.",
        discussion: "The old key keeps working for the grace period (default 86400 s = 24 h), then stops.")

    @Argument(help: "The key id (keys list).") var id: String
    @Option(help: "Seconds the old key keeps working (0 … 2592000).") var graceSeconds = KeyAdmin.defaultGraceSeconds
    @OptionGroup var database: KeysDatabaseOptions

    func validate() throws {
        guard (0...KeyAdmin.maxGraceSeconds).contains(graceSeconds) else {
            throw ValidationError("--grace-seconds must be from 0 to \(KeyAdmin.maxGraceSeconds)")
        }
    }

    func run() throws {
        let id = try parseKeyID(id)
        let connection = try database.connect()
        switch try connection.withTransaction({ try KeyAdmin.rotate(id, graceSeconds: graceSeconds, on: $0) }) {
        case .notFound:
            stderrLine("leadrouter: no key \(id.uuidString.lowercased())")
            throw ExitCode(1)
        case let .ended(why):
            stderrLine("leadrouter: cannot rotate: \(why)")
            throw ExitCode(1)
        case let .rotated(new, old):
            let until = old.expiresAt.map(KeysListCommand.time) ?? "-"
            print("rotated key \(id.uuidString.lowercased()): it works until \(until); new key \(new.key.id.uuidString.lowercased()) '\(new.key.name)'")
            print(new.plaintext)
        }
    }
}

/// `--cors-allowed-origins` text (`*` or comma-separated origins), or a usage error naming the bad one.
func parseOrigins(_ text: String) throws -> AllowedOrigins {
    do { return try AllowedOrigins.parse(text) } catch { throw ValidationError("--cors-allowed-origins \(error)") }
}

/// `leadrouter keys cors ID (ORIGINS | --default)`: a key's own CORS origins.
struct KeysCORSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cors", abstract: "Set the browser origins (CORS) allowed with a key, or --default to follow ingest.cors_allowed_origins.",
        discussion: "ORIGINS: * or comma-separated https://host[:port]. Running nodes see the change within their key cache time (10 s).")

    @Argument(help: "The key id (keys list).") var id: String
    @Argument(help: "* or comma-separated origins.") var origins: String?
    @Flag(name: .customLong("default"), help: "Drop the key's own list: ingest.cors_allowed_origins applies again.") var useDefault = false
    @OptionGroup var database: KeysDatabaseOptions

    func validate() throws {
        guard (origins == nil) == useDefault else { throw ValidationError("give either ORIGINS or --default") }
    }

    func run() throws {
        let id = try parseKeyID(id)
        let list = try origins.map(parseOrigins)
        guard let changed = try Store(try database.connect()).setCORSOrigins(id: id, list) else {
            stderrLine("leadrouter: no key \(id.uuidString.lowercased())")
            throw ExitCode(1)
        }
        print("key \(changed.id.uuidString.lowercased()) '\(changed.name)' CORS origins: "
              + (changed.corsAllowedOrigins.map { $0.list.isEmpty ? "none" : $0.list.joined(separator: ",") } ?? "the default (ingest.cors_allowed_origins)"))
    }
}
