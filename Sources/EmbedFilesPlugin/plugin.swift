import Foundation
import PackagePlugin

/// Builds the `Embedded` target's generated Swift, so the binary carries what it needs to run
/// when copied alone (a container, a bare host): the migrations, the sample ruleset, the
/// configuration reference, the OpenAPI document, and the git revision for `--version`.
///
/// Two commands, both plain shell scripts in `scripts/` run by `/bin/sh` (no helper
/// executable to compile first):
/// - a build command for the files: SwiftPM reruns it when one of them (or the script) changes,
///   and this plugin lists `migrations/*.sql` each time the build is planned, so a new migration
///   is picked up without a step to remember;
/// - a prebuild command for the revision: it runs before every build (git's HEAD is no file
///   SwiftPM can watch) and rewrites its file only when the revision changed, so an unchanged
///   tree recompiles nothing. Without git (a source archive, a Docker build context without
///   `.git`) it takes `LEADROUTER_REVISION`, else "unknown".
@main
struct EmbedFilesPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL
        let work = context.pluginWorkDirectoryURL
        let shell = URL(fileURLWithPath: "/bin/sh")
        let migrationsDirectory = root.appending(path: "migrations")
        let migrations = try FileManager.default.contentsOfDirectory(atPath: migrationsDirectory.path)
            .filter { $0.hasSuffix(".sql") }.sorted().map { migrationsDirectory.appending(path: $0) }
        let embedScript = root.appending(path: "scripts/lib/embed-files.sh")
        let revisionScript = root.appending(path: "scripts/lib/git-revision.sh")
        let documents = ["config/segments.yaml", "config/leadrouter.yaml", "docs/openapi.yaml"].map { root.appending(path: $0) }
        let filesOutput = work.appending(path: "EmbeddedFiles+Generated.swift")
        let revisionDirectory = work.appending(path: "revision")
        let environment = ProcessInfo.processInfo.environment
        return [
            .buildCommand(
                displayName: "Embedding migrations, sample ruleset, configuration reference and OpenAPI document",
                executable: shell,
                arguments: [embedScript.path, filesOutput.path, root.path] + migrations.map(\.path),
                inputFiles: [embedScript] + documents + migrations,
                outputFiles: [filesOutput]),
            .prebuildCommand(
                displayName: "Embedding the git revision",
                executable: shell,
                arguments: [revisionScript.path, root.path, revisionDirectory.appending(path: "BuildRevision+Generated.swift").path],
                environment: ["LEADROUTER_REVISION": environment["LEADROUTER_REVISION"] ?? "", "PATH": environment["PATH"] ?? "/usr/bin:/bin"],
                outputFilesDirectory: revisionDirectory),
        ]
    }
}
