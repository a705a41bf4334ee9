import Foundation
import Segmentation

/// The sample ruleset through the engine, and through the full-history reference: the same engine
/// rules, but every signal recomputed from all of the lead's events for every new event (what a
/// service without a compact signal state would do: `backfill` from the event history, then
/// evaluate).
enum SampleBench {
    struct Result {
        var engine = Samples()
        var reference = Samples()
        var signalBytes: [Int] = []
        var maxSignalBytes = 0
        var stateJSONBytesP50 = 0
    }

    static func run(ruleset: Ruleset, journeys: [SampleJourney], withReference: Bool = true) -> Result {
        let engine = Engine(ruleset)
        var result = Result()
        var warmup = Samples()
        for journey in journeys.prefix(20) { _ = replay(engine, journey, into: &warmup) }
        var jsonSizes: [Int] = []
        var maxBytes = 0
        for journey in journeys {
            let state = replay(engine, journey, into: &result.engine) { state in
                maxBytes = max(maxBytes, state.signals.encode().count)
            }
            result.signalBytes.append(state.signals.encode().count)
            jsonSizes.append((try? JSONEncoder().encode(state).count) ?? 0)
        }
        if withReference {
            for journey in journeys.prefix(20) { _ = replayFromHistory(engine, journey, into: &warmup) }
            for journey in journeys { replayFromHistory(engine, journey, into: &result.reference) }
        }
        result.maxSignalBytes = maxBytes
        result.stateJSONBytesP50 = jsonSizes.sorted()[jsonSizes.count / 2]
        return result
    }

    @discardableResult
    static func replay(_ engine: Engine, _ journey: SampleJourney, into samples: inout Samples,
                       observe: (LeadState) -> Void = { _ in }) -> LeadState {
        var state = journey.profile
        for (event, received) in journey.events {
            let evaluation = samples.measure { engine.evaluate(state: state, event: event, now: received) }
            state = evaluation.newState
            observe(state)
        }
        return state
    }

    /// The reference: keeps every event; per new event, rebuilds all signals from the history.
    @discardableResult
    static func replayFromHistory(_ engine: Engine, _ journey: SampleJourney, into samples: inout Samples) -> LeadState {
        var state = journey.profile
        var history: [Event] = []
        for (event, received) in journey.events {
            let evaluation = samples.measure { () -> Evaluation in
                var fresh = state
                fresh.signals = SignalState()
                fresh = engine.backfill(state: fresh, events: history, now: received)
                return engine.evaluate(state: fresh, event: event, now: received)
            }
            history.append(event)
            state = evaluation.newState
        }
        return state
    }
}
