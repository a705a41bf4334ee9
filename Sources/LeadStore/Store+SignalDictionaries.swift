import Foundation
import Postgres
import Segmentation

extension Store {
    /// Stores `ruleset`'s signal dictionary (idempotent: any node, any number of times), then packs
    /// the states of its version written through this database with it. Called when a node loads
    /// a version to serve it, before the first row it writes under it, and outside a transaction:
    /// the row must be committed before any lead row names it. If the id is taken by other bytes
    /// (a 32-bit collision between two rulesets' dictionaries), the version keeps packing without one.
    public func storeSignalDictionary(of ruleset: Ruleset) throws {
        precondition(!connection.isInTransaction, "a signal dictionary is stored in a transaction of its own")
        let dictionary = SignalDictionaries.dictionary(of: ruleset)
        let rows = try connection.pipeline(["""
            INSERT INTO signal_dictionaries (id, dictionary) VALUES (\(dictionary.id), \(Data(dictionary.bytes)))
            ON CONFLICT (id) DO NOTHING
            """, "SELECT dictionary FROM signal_dictionaries WHERE id = \(dictionary.id)"])[1]
        guard let stored = try rows.first?.decode(Data.self, at: 0), Array(stored) == dictionary.bytes else { return }
        SignalDictionaries.shared.usePacking(dictionary, database: connection.databaseKey, version: ruleset.version)
    }

    /// Reads every stored dictionary into this process (one per ruleset a node has served: a few).
    func loadSignalDictionaries() throws {
        let rows = try connection.query("SELECT id, dictionary FROM signal_dictionaries")
        SignalDictionaries.shared.remember(try rows.map {
            SignalDictionaries.Entry(id: try $0.decode(Int32.self, at: 0), bytes: Array(try $0.decode(Data.self, at: 1)))
        })
    }

    /// Lead rows decoded, the rows that do not decode set apart. A row whose signal state names a
    /// dictionary this process does not hold (stored by another node, or before a restart) makes
    /// it read the dictionaries once and decode again; a row naming one the table lacks is undecodable.
    func leadRecords(_ rows: PostgresRows) throws -> (records: [LeadRecord], undecodable: [UndecodableLead]) {
        do {
            return try LeadRecord.decodedEach(rows, lastTry: false)
        } catch is MissingSignalDictionary {
            try loadSignalDictionaries()
            return try LeadRecord.decodedEach(rows, lastTry: true)
        }
    }

    /// `leadRecords`, throwing the first row that does not decode (`UndecodableLead`).
    func leadRecordsOrThrow(_ rows: PostgresRows) throws -> [LeadRecord] {
        let (records, undecodable) = try leadRecords(rows)
        if let first = undecodable.first { throw first }
        return records
    }
}

extension PostgresPool {
    /// `Store.storeSignalDictionary` on a connection of its own (outside any transaction), for a
    /// node about to serve `ruleset`.
    public func storeSignalDictionary(of ruleset: Ruleset) throws {
        try withConnection { try Store($0).storeSignalDictionary(of: ruleset) }
    }
}
