import ArgumentParser
import Foundation
import LeadStore
import Logging
import Postgres
import Privacy
import Profiles

/// `leadrouter leads …`: data-subject requests from the command line.
struct LeadsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leads", abstract: "Data-subject requests on leads.",
        subcommands: [LeadsEraseCommand.self, LeadsSuppressCommand.self, LeadsUnsuppressCommand.self])
}

/// The identity a `leads` subcommand names: exactly one of `--email`, `--user-id`, `--anonymous-id`.
struct IdentityOption: ParsableArguments {
    @Option(help: "An email (normalised as ingest normalises it).") var email: String?
    @Option(help: "A user id.") var userId: String?
    @Option(help: "An anonymous id.") var anonymousId: String?

    func validate() throws {
        guard [email, userId, anonymousId].compactMap({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --email, --user-id, --anonymous-id")
        }
        if let email, EmailAddress(email) == nil { throw ValidationError("'\(email)' is not a valid email address") }
    }

    var key: IdentityKey {
        if let email, let address = EmailAddress(email) { return IdentityKey(.email, address.value) }
        if let userId { return IdentityKey(.userId, userId) }
        return IdentityKey(.anonymousId, anonymousId ?? "")
    }
}

/// `leadrouter leads suppress --email E | --user-id U | --anonymous-id A`: adds an identity to the
/// suppression list by hand (only its hash is stored); messages carrying it are dropped.
struct LeadsSuppressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suppress", abstract: "Drop every future message carrying this identity (stores its SHA-256 hash only).")
    @OptionGroup var identity: IdentityOption
    @OptionGroup var database: KeysDatabaseOptions

    func run() throws {
        let added = try Store(try database.connect()).suppress(identity.key, at: Date())
        print(added ? "suppressed \(identity.key.kind.rawValue)" : "\(identity.key.kind.rawValue) was already suppressed")
    }
}

/// `leadrouter leads unsuppress …`: takes an identity off the suppression list.
struct LeadsUnsuppressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unsuppress", abstract: "Accept messages carrying this identity again (they start a new lead).")
    @OptionGroup var identity: IdentityOption
    @OptionGroup var database: KeysDatabaseOptions

    func run() throws {
        let removed = try Store(try database.connect()).unsuppress(identity.key)
        print(removed ? "unsuppressed \(identity.key.kind.rawValue)" : "\(identity.key.kind.rawValue) was not suppressed")
        if !removed { throw ExitCode(1) }
    }
}

/// `leadrouter leads erase --email E | --user-id U | --id ID [--no-suppress]`: what
/// `DELETE /v1/leads/{id}` does, for an operator with database access.
struct LeadsEraseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase",
        abstract: "Erase a person (the lead and every lead merged into it) and print the tombstone.",
        discussion: """
            One transaction removes the person's data from every table and keeps a tombstone (ids, time, counts).
            By default the email, user id and anonymous ids are suppressed: new messages carrying them are dropped.
            Exit status 0 when erased now or before, 1 when no lead matches.
            """)

    @Option(help: "The lead's email (normalised as ingest normalises it).") var email: String?
    @Option(help: "The lead's user id.") var userId: String?
    @Option(help: "The lead id (a UUID).") var id: String?
    @Flag(name: .customLong("no-suppress"), help: "Do not block the identities: a new message for them starts a new lead.")
    var noSuppress = false
    @OptionGroup var database: KeysDatabaseOptions

    func validate() throws {
        guard [email, userId, id].compactMap({ $0 }).count == 1 else { throw ValidationError("give exactly one of --email, --user-id, --id") }
        if let email, EmailAddress(email) == nil { throw ValidationError("'\(email)' is not a valid email address") }
        if let id, UUID(uuidString: id) == nil { throw ValidationError("'\(id)' is not a lead id (a UUID)") }
    }

    func run() throws {
        var logger = Logger(label: "leadrouter")
        logger.logLevel = .warning
        let pool = PostgresPool(configuration: PostgresConfiguration(url: try database.url()),
                                settings: .init(minConnections: 0, maxConnections: 1), logger: logger)
        defer { pool.close() }
        let erasure = LeadErasure(pool: pool, logger: logger)
        let suppress = !noSuppress
        let outcome: ErasureOutcome
        if let id, let uuid = UUID(uuidString: id) {
            outcome = try erasure.erase(lead: uuid, suppress: suppress)
        } else if let email, let address = EmailAddress(email) {
            outcome = try erasure.erase(identity: IdentityKey(.email, address.value), suppress: suppress)
        } else if let userId {
            outcome = try erasure.erase(identity: IdentityKey(.userId, userId), suppress: suppress)
        } else {
            outcome = .notFound
        }
        switch outcome {
        case .erased(let t, let ids):
            print("erased lead \(t.leadId.uuidString.lowercased()) (\(ids.count) lead row(s)), erasure \(t.erasureId.uuidString.lowercased()), "
                  + "suppressed: \(t.suppressed)")
            print(Self.describe(t.counts))
        case .alreadyErased(let t):
            print("lead \(t.leadId.uuidString.lowercased()) was already erased at \(t.erasedAt) (erasure \(t.erasureId.uuidString.lowercased()))")
        case .notFound:
            stderrLine("leadrouter: no lead matches")
            throw ExitCode(1)
        }
    }

    static func describe(_ counts: [String: Int]) -> String {
        counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }
}
