import Foundation
import Segmentation

/// `segmentation-bench --digest`: replays both workloads without timing and hashes every decision
/// (as `Decision.jsonEncoder` writes it) and every new lead state (sorted-key JSON). Two builds
/// of the engine that print the same digest gave byte-identical output on every evaluation; the
/// benchmark script compares the digest of the baseline build with the current one.
enum Digest {
    struct Hash {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        var count = 0
        mutating func add(_ bytes: Data) {
            for b in bytes { value ^= UInt64(b); value = value &* 0x100_0000_01b3 }
            value ^= 0xff; value = value &* 0x100_0000_01b3
            count += 1
        }
    }

    static func run(sample: Ruleset, leads: Int, eventsPerLead: Int) throws -> String {
        let encoder = Decision.jsonEncoder
        var hash = Hash()
        func add(_ evaluation: Evaluation) throws {
            hash.add(try encoder.encode(evaluation.decision))
            hash.add(try encoder.encode(evaluation.newState))
        }
        let engine = Engine(sample)
        for journey in SampleWorkload.journeys(count: leads, eventsPerLead: eventsPerLead, seed: 42) {
            var state = journey.profile
            for (event, received) in journey.events {
                let evaluation = engine.evaluate(state: state, event: event, now: received)
                try add(evaluation)
                state = evaluation.newState
                // A time-based re-evaluation a day later, on a copy: the path the sweeper takes.
                try add(engine.evaluate(state: state, event: nil, now: Timestamp(milliseconds: received.milliseconds + 86_400_000)))
            }
        }
        let sampleHash = hash
        hash = Hash()
        var factory = RandomRulesetFactory(rng: SeededGenerator(seed: 7))
        let generated = factory.ruleset(segments: 20)
        let generatedEngine = Engine(try Ruleset.load(yaml: generated.yaml, fileName: "generated.yaml").ruleset)
        for _ in 0..<leads {
            var state = LeadState()
            var now = SampleWorkload.start
            for _ in 0..<eventsPerLead {
                now += factory.gap() / 4 + 1_000
                let late = factory.rng.chance(0.1) ? Int64.random(in: 0...86_400_000, using: &factory.rng) : 0
                let event = factory.event(at: now - late)
                let engineEvent = Event(name: event.type, properties: GeneratedBench.properties(event), occurredAt: Timestamp(milliseconds: event.at))
                let evaluation = generatedEngine.evaluate(state: state, event: engineEvent, now: Timestamp(milliseconds: now))
                try add(evaluation)
                state = evaluation.newState
            }
        }
        return String(format: "digest: sample %016llx (%d outputs), generated %016llx (%d outputs)",
                      sampleHash.value, sampleHash.count, hash.value, hash.count)
    }
}
