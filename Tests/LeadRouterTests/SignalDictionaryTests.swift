import Foundation
import Postgres
import Segmentation
import XCTest
@testable import LeadStore

/// `leads.signal_state` packed with its ruleset's empty state as a preset dictionary
/// (migrations/0103): the node stores the dictionary when it loads the version, rows name it by
/// id, and a node that does not hold it (another node, a restart) reads it from the table; a
/// row naming a dictionary the table lacks is undecodable, not a crash; an id taken by other
/// bytes leaves the version packing without a dictionary.
final class SignalDictionaryTests: XCTestCase {
    @discardableResult
    func view(_ service: TestService, _ user: String) throws -> UUID {
        service.clock.advance(30)
        let r = try service.client().json("POST", "/v1/events", key: service.ingestKey, [
            "userId": user, "event": "Product Viewed", "properties": ["category": "running-shoes", "product_id": "shoe-1"]])
        XCTAssertEqual(r.status, 200, r.text)
        return try XCTUnwrap(UUID(uuidString: try XCTUnwrap(r.json["lead_id"] as? String)))
    }

    func storedState(_ service: TestService, _ id: UUID) throws -> [UInt8] {
        Array(try service.connection().query("SELECT signal_state FROM leads WHERE id = \(id)").scalar(Data.self))
    }

    func testAStateIsPackedWithItsRulesetsDictionaryAndANodeWithoutItReadsIt() throws {
        let service = try TestService(test: self)
        let id = try view(service, "dict")
        try view(service, "dict")
        let stored = try storedState(service, id)
        let dictionary = SignalDictionaries.dictionary(of: service.app.rules.engine.ruleset)
        XCTAssertEqual(stored.first, PackedSignals.dictionaryMarker)
        XCTAssertEqual(PackedSignals.dictionaryId(stored), dictionary.id)
        XCTAssertEqual(try service.count("SELECT count(*) FROM signal_dictionaries"), 1, "stored when the version was loaded")
        let encoded = try PackedSignals.unpack(stored)
        let withoutDictionary = PackedSignals.pack(encoded)
        XCTAssertEqual(withoutDictionary.first, PackedSignals.marker)
        XCTAssertLessThan(stored.count * 4, withoutDictionary.count,
                          "\(stored.count) B with the dictionary, \(withoutDictionary.count) B without, \(encoded.count) B raw")
        let before = try XCTUnwrap(try Store(service.connection()).lead(id))
        XCTAssertGreaterThan(before.state.signals.signalCount, 0)

        // A process holding no dictionary, as a second node or a restart: the reads fetch it.
        SignalDictionaries.shared.forgetAll()
        let fresh = try XCTUnwrap(try Store(service.connection()).lead(id))
        XCTAssertEqual(fresh.state.signals, before.state.signals)
        SignalDictionaries.shared.forgetAll()
        let r = try service.client().json("GET", "/v1/leads/\(id.uuidString.lowercased())", key: service.readKey)
        XCTAssertEqual(r.status, 200, r.text)
        // The lane's batch read (locked leads of the message's identities) too: the third view counts.
        SignalDictionaries.shared.forgetAll()
        try view(service, "dict")
        let after = try XCTUnwrap(try Store(service.connection()).lead(id))
        XCTAssertGreaterThan(after.state.signals.encode().count, before.state.signals.encode().count,
                             "the stored times were read and the view's added to them")
        XCTAssertEqual(try service.count("SELECT count(*) FROM quarantined_leads"), 0)
        // Forgotten, the version packs without its dictionary until a node stores it again.
        XCTAssertEqual(try storedState(service, id).first, PackedSignals.marker)
        try service.app.pool.storeSignalDictionary(of: service.app.rules.engine.ruleset)
        try view(service, "dict")
        XCTAssertEqual(try storedState(service, id).first, PackedSignals.dictionaryMarker)
        XCTAssertEqual(try service.count("SELECT count(*) FROM signal_dictionaries"), 1, "stored again: idempotent")
    }

    /// Each version's states are packed with its own dictionary, stored when it is activated; after
    /// a rollback, a node that holds none reads the rows of both versions.
    func testEachVersionPacksWithItsOwnDictionaryAndARollbackReadsBoth() throws {
        let service = try TestService(test: self, rulesYAML: RulesetFixtures.a)
        let client = try service.client()
        let pushed = try client.json("POST", "/v1/rulesets", key: service.adminKey, ["yaml": RulesetFixtures.b, "note": "carters"])
        XCTAssertEqual(pushed.status, 201, pushed.text)
        let first = try view(service, "v1")
        let v1 = SignalDictionaries.dictionary(of: service.app.rules.engine.ruleset).id
        XCTAssertEqual(try client.json("POST", "/v1/rulesets/2/activate", key: service.adminKey, [:]).status, 200)
        let second = try view(service, "v2")
        let v2 = SignalDictionaries.dictionary(of: service.app.rules.engine.ruleset).id
        XCTAssertNotEqual(v1, v2, "the versions count different signals")
        XCTAssertEqual(PackedSignals.dictionaryId(try storedState(service, first)), v1)
        XCTAssertEqual(PackedSignals.dictionaryId(try storedState(service, second)), v2)
        XCTAssertEqual(try service.count("SELECT count(*) FROM signal_dictionaries"), 2)

        XCTAssertEqual(try client.json("POST", "/v1/rulesets/1/activate", key: service.adminKey, [:]).status, 200)
        SignalDictionaries.shared.forgetAll()
        for id in [first, second] {
            let r = try client.json("GET", "/v1/leads/\(id.uuidString.lowercased())", key: service.readKey)
            XCTAssertEqual(r.status, 200, r.text)
        }
        let records = try Store(service.connection()).leadStates([first, second])
        XCTAssertEqual(records.count, 2, "the backtest's read of stored states decodes both")
        XCTAssertTrue(records.values.allSatisfy { $0.signals.signalCount > 0 })
    }

    func testARowNamingADictionaryTheTableLacksIsUndecodable() throws {
        let service = try TestService(test: self)
        let id = try view(service, "lost")
        try service.connection().execute("UPDATE leads SET signal_state = '\\xfe7fffff00ff'::bytea WHERE id = \(id)")
        XCTAssertThrowsError(try Store(service.connection()).lead(id)) { error in
            guard let undecodable = error as? UndecodableLead else { return XCTFail("\(error)") }
            XCTAssertTrue(undecodable.reason.contains("signal_state"), undecodable.reason)
        }
    }

    func testAnIdTakenByOtherBytesLeavesTheVersionPackingWithoutADictionary() throws {
        let service = try TestService(test: self)
        let ruleset = service.app.rules.engine.ruleset
        let dictionary = SignalDictionaries.dictionary(of: ruleset)
        let conn = try service.connection()
        try conn.execute("DELETE FROM signal_dictionaries")
        try conn.execute("INSERT INTO signal_dictionaries (id, dictionary) VALUES (\(dictionary.id), '\\x0102'::bytea)")
        SignalDictionaries.shared.forgetAll()
        try service.app.pool.storeSignalDictionary(of: ruleset)
        let id = try view(service, "taken")
        XCTAssertEqual(try storedState(service, id).first, PackedSignals.marker)
        XCTAssertNotNil(try Store(service.connection()).lead(id))
        XCTAssertEqual(try conn.query("SELECT dictionary FROM signal_dictionaries").scalar(Data.self), Data([1, 2]), "left as it was")
    }
}
