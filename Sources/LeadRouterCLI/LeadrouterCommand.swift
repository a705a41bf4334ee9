import ArgumentParser
import Embedded

/// The `leadrouter` command line: one binary for the server and its operations.
@main
struct LeadrouterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leadrouter",
        abstract: "Turns tracking events into lead segments and routing decisions.",
        version: LeadrouterVersion.string,
        subcommands: [
            ServeCommand.self,
            MigrateCommand.self,
            RulesCommand.self,
            KeysCommand.self,
            AccountsCommand.self,
            LeadsCommand.self,
            DevCommand.self,
            ConfigCommand.self,
        ]
    )
}

/// The version printed by `--version` and reported by `/healthz`: the release number and the
/// git revision the binary was built from (`BuildRevision`: "-dirty" for uncommitted changes,
/// "unknown" when built without git and without `LEADROUTER_REVISION`).
enum LeadrouterVersion {
    static let number = "0.1.0"
    static let string = "\(number) (git \(BuildRevision.revision))"
}
