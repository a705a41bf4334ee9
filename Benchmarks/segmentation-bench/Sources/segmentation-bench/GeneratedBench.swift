import Foundation
import Segmentation

/// A generated 20-segment ruleset (the differential test's generator, fixed seed) through the
/// engine, and through the naive reference evaluator of Tests/SegmentationTests/Reference (shared
/// source), which keeps every event and recomputes every count, since and inactive from the full
/// list, plus the next membership change so both produce the same decision.
enum GeneratedBench {
    struct Result {
        var engine = Samples()
        var reference = Samples()
        var signalBytes: [Int] = []
    }

    static func run(segments: Int, leads: Int, eventsPerLead: Int, seed: UInt64, withReference: Bool = true) throws -> Result {
        var factory = RandomRulesetFactory(rng: SeededGenerator(seed: seed))
        let ruleset = factory.ruleset(segments: segments)
        let engine = Engine(try Ruleset.load(yaml: ruleset.yaml, fileName: "generated.yaml").ruleset)
        let reference = ReferenceEvaluator(ruleset: ruleset)
        var sequences: [[(RefEvent, Int64)]] = []
        for _ in 0..<leads {
            var now = SampleWorkload.start
            var sequence: [(RefEvent, Int64)] = []
            for _ in 0..<eventsPerLead {
                now += factory.gap() / 4 + 1_000
                let late = factory.rng.chance(0.1) ? Int64.random(in: 0...86_400_000, using: &factory.rng) : 0
                sequence.append((factory.event(at: now - late), now))
            }
            sequences.append(sequence)
        }
        var result = Result()
        var warmup = Samples()
        // Warm up on at most a quarter of the leads, so a small run still measures some.
        let warmupLeads = min(20, sequences.count / 4)
        for (index, sequence) in sequences.enumerated() {
            let state = index < warmupLeads ? runEngine(engine, sequence, into: &warmup) : runEngine(engine, sequence, into: &result.engine)
            if index >= warmupLeads { result.signalBytes.append(state.signals.encode().count) }
        }
        for (index, sequence) in sequences.enumerated() where withReference {
            if index < warmupLeads { runReference(reference, sequence, into: &warmup) } else { runReference(reference, sequence, into: &result.reference) }
        }
        return result
    }

    static func runEngine(_ engine: Engine, _ sequence: [(RefEvent, Int64)], into samples: inout Samples) -> LeadState {
        var state = LeadState()
        for (event, now) in sequence {
            let engineEvent = Event(name: event.type, properties: properties(event), occurredAt: Timestamp(milliseconds: event.at))
            state = samples.measure { engine.evaluate(state: state, event: engineEvent, now: Timestamp(milliseconds: now)) }.newState
        }
        return state
    }

    static func runReference(_ reference: ReferenceEvaluator, _ sequence: [(RefEvent, Int64)], into samples: inout Samples) {
        var lead = RefLead()
        for (event, now) in sequence {
            _ = samples.measure { () -> Int64? in
                _ = reference.evaluate(&lead, event: event, now: now)
                return reference.nextChange(lead, now: now)
            }
        }
    }

    static func properties(_ event: RefEvent) -> [String: Value] {
        var out: [String: Value] = [:]
        for (key, value) in event.props {
            switch value {
            case let .string(text): out[key] = .string(text)
            case let .int(number): out[key] = .number(Double(number))
            }
        }
        return out
    }
}
