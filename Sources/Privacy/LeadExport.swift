import Foundation
import LeadStore
import Postgres
import Segmentation

/// The access use case (`GET /v1/leads/{id}/export`): everything held about a person — the
/// lead rows of their merge group, identities, memberships and their history, stage changes,
/// experiment assignments, decisions with explanations, queue items with their history, webhook messages with their deliveries, and
/// every event — read from one snapshot in pages and handed to `sink` in pieces of about
/// `pieceSize` bytes, so memory stays bounded whatever the history's length.
public struct LeadExport: Sendable {
    /// One JSON document, or NDJSON: one `{"section": …, "data": …}` object per line.
    public enum Format: String, Sendable { case json, ndjson }

    /// The primary, or a read replica (`ReadRouting`) with its read-your-writes rule.
    let reader: any ReadPoolChoosing
    let clock: @Sendable () -> Date
    /// Bytes gathered before each call of the sink.
    static let pieceSize = 64 * 1024

    public init(pool: PostgresPool, clock: @escaping @Sendable () -> Date = Date.init) {
        self.init(reader: pool, clock: clock)
    }

    package init(reader: any ReadPoolChoosing, clock: @escaping @Sendable () -> Date = Date.init) {
        self.reader = reader; self.clock = clock
    }

    /// A lead of the group this node wrote too recently for the replica: read again on the primary.
    struct StaleOnReplica: Error {}

    /// Writes the export of lead `id` (or the lead it was merged into) to `sink`; returns the
    /// number of rows per section, or nil when there is no such lead. Throws
    /// `LeadErasedError`-like errors from `refuse` before anything is written.
    ///
    /// Read from a replica when `reader` says so, with two checks first: `refuse` on the primary
    /// (an erasure the replica has not applied yet must not leak), and the merge group against
    /// this node's recent writes (a lead merged into another, or the survivor, written here
    /// within the window: the whole export is read on the primary; nothing was sent yet).
    public func export(lead id: UUID, format: Format, refuse: (UUID, Store) throws -> Void = { _, _ in },
                       to sink: (_ bytes: [UInt8]) throws -> Void) throws -> [String: Int]? {
        let chosen = reader.pool(forLead: id)
        guard chosen !== reader.primary else { return try export(lead: id, from: chosen, format: format, refuse: refuse, to: sink) }
        try reader.primary.withConnection { try refuse(id, Store($0)) }
        do {
            return try export(lead: id, from: chosen, format: format, refuse: refuse, to: sink)
        } catch is StaleOnReplica {
            return try export(lead: id, from: reader.primary, format: format, refuse: refuse, to: sink)
        }
    }

    private func export(lead id: UUID, from pool: PostgresPool, format: Format, refuse: (UUID, Store) throws -> Void,
                        to sink: (_ bytes: [UInt8]) throws -> Void) throws -> [String: Int]? {
        try pool.withTransaction { conn in
            let store = Store(conn)
            try store.readOneSnapshot()
            try refuse(id, store)
            guard let group = try store.mergeGroup(of: id) else { return nil }
            if pool !== reader.primary, group.leadIds.contains(where: reader.wroteRecently) { throw StaleOnReplica() }
            var out = Output(format: format)
            out.begin(header: [("format", .string("leadrouter-export/1")), ("exported_at", .string(Timestamp(clock()).description)),
                               ("lead_id", .string(group.liveLeadId.uuidString.lowercased())),
                               ("lead_ids", .array(group.leadIds.map { .string($0.uuidString.lowercased()) }))])
            var counts: [String: Int] = [:]
            for section in ExportSection.allCases {
                out.beginSection(section.rawValue)
                var n = 0
                for lead in group.leadIds {
                    var cursor: ExportCursor? = .start
                    while let after = cursor {
                        let page = try store.exportRows(section, lead: lead, after: after)
                        for document in page.documents {
                            out.row(document)
                            if let piece = out.take() { try sink(piece) }
                        }
                        n += page.documents.count
                        cursor = page.next
                    }
                }
                out.endSection()
                counts[section.rawValue] = n
            }
            out.end(counts: counts)
            if let piece = out.take(atLeast: 0) { try sink(piece) }
            return counts
        }
    }

    /// Frames sections and rows for the format; bytes gather in `buffer` until the caller takes
    /// them (`take`).
    struct Output {
        let format: Format
        var buffer: [UInt8] = []
        /// What precedes each row of the current section (NDJSON: `{"section":"events","data":`).
        var rowPrefix: [UInt8] = []
        var firstRow = true

        init(format: Format) {
            self.format = format
            buffer.reserveCapacity(LeadExport.pieceSize + 4096)
        }

        mutating func begin(header: [(String, Value)]) {
            let fields = header.map { "\(Self.encode(.string($0.0))):\(Self.encode($0.1))" }.joined(separator: ",")
            switch format {
            case .json: append("{" + fields)
            case .ndjson: append(#"{"section":"export","data":{"# + fields + "}}\n")
            }
        }

        mutating func beginSection(_ name: String) {
            firstRow = true
            switch format {
            case .json: append(",\(Self.encode(.string(name))):[")
            case .ndjson: rowPrefix = Array((#"{"section":"# + Self.encode(.string(name)) + #","data":"#).utf8)
            }
        }

        mutating func row(_ document: [UInt8]) {
            switch format {
            case .json:
                if !firstRow { buffer.append(UInt8(ascii: ",")) }
                buffer.append(contentsOf: document)
            case .ndjson:
                buffer.append(contentsOf: rowPrefix)
                buffer.append(contentsOf: document)
                append("}\n")
            }
            firstRow = false
        }

        mutating func endSection() {
            if format == .json { append("]") }
        }

        mutating func end(counts: [String: Int]) {
            let fields = counts.sorted { $0.key < $1.key }.map { "\(Self.encode(.string($0.key))):\($0.value)" }.joined(separator: ",")
            switch format {
            case .json: append(#","counts":{"# + fields + "}}")
            case .ndjson: append(#"{"section":"counts","data":{"# + fields + "}}\n")
            }
        }

        mutating func append(_ text: String) { buffer.append(contentsOf: text.utf8) }

        /// The gathered bytes once there are `atLeast` of them (all of them with 0), emptying the buffer.
        mutating func take(atLeast: Int = LeadExport.pieceSize) -> [UInt8]? {
            guard !buffer.isEmpty, buffer.count >= atLeast else { return nil }
            defer { buffer.removeAll(keepingCapacity: true) }
            return buffer
        }

        /// Our own names and values (section names, ids, times) as JSON, through JSONEncoder.
        static func encode(_ value: Value) -> String {
            switch value {
            case .string(let s): return (try? String(decoding: JSONEncoder().encode(s), as: UTF8.self)) ?? "\"\""
            case .array(let items): return "[" + items.map(encode).joined(separator: ",") + "]"
            default: return "null"
            }
        }
    }
}
