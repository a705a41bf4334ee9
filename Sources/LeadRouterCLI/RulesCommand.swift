import ArgumentParser
import Foundation
import RulesTools
import Segmentation

/// `leadrouter rules …`: work on a ruleset before it goes live (check it loads, play test cases).
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Check a ruleset and run its test cases (docs/rules-cli.md); store, compare and activate versions (docs/rulesets.md).",
        subcommands: [RulesCheckCommand.self, RulesTestCommand.self, RulesPushCommand.self, RulesHistoryCommand.self,
                      RulesActivateCommand.self, RulesDiffCommand.self, RulesBacktestCommand.self]
    )
}

/// `leadrouter rules check FILE`: every problem as `FILE:LINE:COLUMN: message`, exit 1 on errors.
struct RulesCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Load a ruleset as the service would and print every error and warning.")

    @Argument(help: "The ruleset YAML file, e.g. config/segments.yaml.")
    var file: String

    func run() throws {
        let report = RulesCheckReport(yaml: try readText(file), fileName: file)
        for line in report.diagnostics { printError(line) }
        if report.exitCode == 0 { print(report.summary) } else { printError(report.summary) }
        throw ExitCode(report.exitCode)
    }
}

/// `leadrouter rules test RULES CASES...`: plays case files against the ruleset, prints a diff per
/// failed expectation and `N passed, M failed`; exit 1 when anything fails.
struct RulesTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run rules test cases (YAML journeys with expectations) against a ruleset.")

    @Argument(help: "The ruleset YAML file.")
    var rules: String

    @Argument(help: "Case files (YAML).")
    var cases: [String]

    @Flag(name: .shortAndLong, help: "Also list the cases that pass.")
    var verbose = false

    func validate() throws {
        if cases.isEmpty { throw ValidationError("give at least one case file") }
    }

    func run() throws {
        let check = RulesCheckReport(yaml: try readText(rules), fileName: rules)
        guard let loaded = check.loaded else {
            for line in check.diagnostics { printError(line) }
            printError(check.summary)
            throw ExitCode(1)
        }
        let runner = CaseRunner(ruleset: loaded.ruleset)
        var passed = 0
        var failed = 0
        for path in cases {
            let file: CaseFile
            do {
                file = try CaseFile.parse(yaml: try readText(path), fileName: path)
            } catch let diagnostic as CaseDiagnostic {
                printError(diagnostic.formatted(fileName: path))
                failed += 1
                continue
            }
            for testCase in file.cases {
                let outcome = runner.run(testCase)
                if outcome.passed { passed += 1 } else { failed += 1 }
                if verbose || !outcome.passed {
                    print(outcome.report(fileName: path).joined(separator: "\n"))
                }
            }
        }
        print("\(passed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(1) }
    }
}

/// The whole file as UTF-8 text; a missing or unreadable file ends the command with status 2.
func readText(_ path: String) throws -> String {
    do {
        return try String(contentsOfFile: path, encoding: .utf8)
    } catch {
        printError("\(path): cannot read the file: \((error as NSError).localizedDescription)")
        throw ExitCode(2)
    }
}

private func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
