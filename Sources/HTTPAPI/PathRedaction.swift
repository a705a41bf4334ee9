/// Secrets that travel in a path, blanked before the path is logged (`LogPrivacy.redactPath`):
/// Segment SDKs fetch their settings from `/v1/projects/{writeKey}/settings`, so the segment
/// after `projects` is a write key.
public enum PathRedaction {
    @Sendable public static func redactWriteKey(_ path: String) -> String {
        guard path.contains("/projects/") else { return path }
        var parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        for i in parts.indices.dropLast() where parts[i] == "projects" { parts[i + 1] = "-" }
        return parts.joined(separator: "/")
    }
}
