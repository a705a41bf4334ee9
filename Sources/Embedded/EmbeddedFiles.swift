/// Files the `leadrouter` binary carries inside itself, so a binary copied alone (a container
/// image, a bare host) can `migrate`, `serve` the sample ruleset, print the configuration
/// reference and serve `/openapi.yaml`. The texts are generated at build time from the
/// repository's files by the target's plugin (`Sources/EmbedFilesPlugin`): no bundle to ship
/// beside the binary (SwiftPM's resource bundles sit next to the executable on Linux and are
/// lost when it is copied alone). `Tests/LeadRouterTests/EmbeddedFilesTests.swift` checks they
/// equal the files byte for byte.
public enum EmbeddedFiles {
    /// `migrations/*.sql` as (file name, SQL), in file-name order.
    public static var migrations: [(fileName: String, sql: String)] { migrationTexts }
    /// `config/segments.yaml`, the sample ruleset.
    public static var sampleRules: String { sampleRulesText }
    /// The name the sample ruleset is reported under.
    public static let sampleRulesName = "config/segments.yaml (built in)"
    /// `config/leadrouter.yaml`, every configuration key with its default and environment variable.
    public static var configurationReference: String { configurationReferenceText }
    /// `docs/openapi.yaml`, the OpenAPI 3.1 description of the HTTP API (`GET /openapi.yaml`).
    public static var openAPI: String { openAPIText }
}

/// The git revision the binary was built from (`leadrouter --version`), written before every
/// build by `scripts/lib/git-revision.sh`: 12 hex digits, "-dirty" when tracked files had
/// changes, `LEADROUTER_REVISION` when git is not there (the Docker build), else "unknown".
public enum BuildRevision {
    public static var revision: String { generated }
}
