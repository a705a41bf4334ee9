import ArgumentParser
import Embedded
import Foundation
import LeadRouterService

/// `leadrouter config print`: the configuration `serve` would run with — defaults, then the
/// `--config` file (or `LEADROUTER_CONFIG`), then the serve flags given here, then `LEADROUTER_*`
/// variables — one key per line with where its value came from, secrets redacted.
/// `leadrouter config reference`: the annotated reference file (`config/leadrouter.yaml`, built in).
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Show the effective configuration (secrets redacted) or the reference file.",
        subcommands: [Print.self, Reference.self])

    struct Print: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "print",
            abstract: "Print the effective configuration of `serve`, with each value's source; secrets redacted.",
            discussion: "Takes serve's settings flags; DATABASE_URL's password and webhook secrets are shown as <redacted>.")

        @OptionGroup var settings: ServiceFlags

        func run() throws {
            let environment = ProcessInfo.processInfo.environment
            let resolved = try settings.resolve(environment: environment)
            print(EffectiveConfiguration.render(resolved, reference: EmbeddedFiles.configurationReference,
                                                databaseURL: environment["DATABASE_URL"]), terminator: "")
        }
    }

    struct Reference: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reference",
            abstract: "Print config/leadrouter.yaml as built in: every key, its default and its environment variable.")

        func run() { print(EmbeddedFiles.configurationReference, terminator: "") }
    }
}
