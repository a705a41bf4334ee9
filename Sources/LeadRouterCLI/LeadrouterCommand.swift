import ArgumentParser

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
        ]
    )
}

/// The version printed by `--version` and reported by `/healthz`.
enum LeadrouterVersion {
    static let string = "0.1.0"
}
