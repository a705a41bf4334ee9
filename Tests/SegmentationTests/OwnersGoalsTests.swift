import XCTest
@testable import Segmentation

/// `owners:`, a segment's `owner` checked against owners and teams, and `goal:` on segments and stages.
final class OwnersGoalsTests: XCTestCase {
    let head = """
    version: 1
    events:
      types: [viewed, carted, bought]
    teams:
      t1: { members: [ { id: rep_a } ] }
    owners: [marketing, crm]

    """

    func testOwnerMustBeDeclaredOwnerTeamOrMember() {
        for owner in ["marketing", "crm", "t1", "rep_a"] {
            let r = load(head + "segments:\n  - { name: decision.x.y, owner: \(owner), enter: 'true' }\n")
            XCTAssertEqual(r.owner(of: "decision.x.y"), owner)
            XCTAssertEqual(r.owners, ["marketing", "crm"])
        }
        XCTAssertEqual(loadErrors(head + "segments:\n  - { name: decision.x.y, owner: marketting, enter: 'true' }\n"), [
            "r.yaml:8:34: segment `decision.x.y` names owner `marketting`, which is not an owner or team of the ruleset (did you mean `marketing`?); declare it under `owners:` or name a team; owners are crm, marketing, rep_a, t1",
        ])
        XCTAssertEqual(loadErrors("version: 1\nsegments:\n  - name: decision.x.y\n    owner: sales\n    enter: 'true'\n"), [
            "r.yaml:4:12: segment `decision.x.y` names owner `sales`, which is not an owner or team of the ruleset; declare it with `owners: [sales]`",
        ])
        XCTAssertEqual(loadErrors("version: 1\nowners: [a, a]\nsegments:\n  - { name: decision.x.y, enter: 'true' }\n"),
                       ["r.yaml:2:9: owner `a` is listed twice under `owners:`"])
    }

    func testGoalsOnSegmentsAndStages() {
        let r = load(head + """
        stages:
          - { stage: decision, when: 'count(carted, 7d) >= 1', goal: { when: 'lead.customer', within: 30d } }
          - { stage: awareness, when: 'true' }
        segments:
          - name: decision.x.y
            enter: 'count(carted, 7d) >= 1'
            goal: { when: 'count(bought, 30d) >= 1 or lead.status == "converted"', within: 14d }
          - { name: awareness.x.y, enter: 'true' }

        """)
        XCTAssertEqual(r.segments[0].goal?.when.text, #"count(bought, 30d) >= 1 or lead.status == "converted""#)
        XCTAssertEqual(r.segments[0].goal?.within, Duration(milliseconds: 14 * 86_400_000))
        XCTAssertNil(r.segments[1].goal)
        XCTAssertEqual(r.stages[0].goal?.when.text, "lead.customer")
        XCTAssertEqual(r.stages[0].goal?.within.description, "30d")
        XCTAssertNil(r.stages[1].goal)
    }

    func testGoalErrorsHaveLineAndColumn() {
        let seg = "segments:\n  - name: decision.x.y\n    enter: 'true'\n"
        XCTAssertEqual(loadErrors(head + seg + "    goal: { when: 'count(bougt, 30d) >= 1', within: 30d }\n"), [
            "r.yaml:10:26: unknown event type `bougt` (did you mean `bought`?); known types are the alias targets, page_viewed, the keys of statuses.on_event and events.types",
        ])
        XCTAssertEqual(loadErrors(head + seg + "    goal: { when: 'lead.customer' }\n"),
                       ["r.yaml:10:11: the `goal` of segment `decision.x.y` needs a horizon `within`, e.g. 30d"])
        XCTAssertEqual(loadErrors(head + seg + "    goal: { within: 3d }\n"),
                       [#"r.yaml:10:11: the `goal` of segment `decision.x.y` needs a `when` rule, e.g. 'lead.status == "converted"'"#])
        XCTAssertEqual(loadErrors(head + seg + "    goal: { when: 'lead.customer', within: soon }\n"),
                       ["r.yaml:10:44: `within` `soon` is not a duration: write a whole number followed by s, m, h, d or w (e.g. 30s, 15m, 2h, 7d, 4w)"])
        let stageErrors = loadErrors(head + "stages:\n  - { stage: awareness, when: 'true', goal: { when: 'lead.score >', within: 3d } }\n" + seg)
        XCTAssertTrue(stageErrors.first?.hasPrefix("r.yaml:8:") ?? false, "\(stageErrors)")
    }

    /// The engine reports the goals that hold for a current membership, or one the evaluation
    /// ends, within the horizon of the entry; never for a non-member or after the horizon.
    func testEngineReportsGoalsReachedWithinTheHorizon() {
        let engine = Engine(load(head + """
        segments:
          - name: decision.x.y
            enter: 'count(viewed, 30d) >= 1'
            exit: 'count(bought, 1d) >= 1'
            goal: { when: 'count(carted, 30d) >= 1 or count(bought, 1d) >= 1', within: 2d }
          - { name: decision.x.z, enter: 'count(viewed, 30d) >= 5' }

        """))
        let entered = runEvents(engine, [ev("viewed", 0)])
        XCTAssertEqual(entered.goalsReached, [])
        let carted = runEvents(engine, [ev("carted", hour)], state: entered.newState)
        XCTAssertEqual(carted.goalsReached, [Evaluation.GoalReached(segment: "decision.x.y", enteredAt: at(0))])
        // Bought: the exit and the goal in one evaluation; the goal still counts for the membership it ends.
        let bought = engine.evaluate(state: entered.newState, event: ev("bought", day), now: at(day))
        XCTAssertEqual(bought.decision.segments.exited, ["decision.x.y"])
        XCTAssertEqual(bought.goalsReached, [Evaluation.GoalReached(segment: "decision.x.y", enteredAt: at(0))])
        // After the 2-day horizon the goal no longer counts.
        XCTAssertEqual(runEvents(engine, [ev("carted", 3 * day)], state: entered.newState).goalsReached, [])
        // Without goals the engine does not look.
        XCTAssertFalse(Engine(load(head + "segments:\n  - { name: decision.x.y, enter: 'true' }\n")).ruleset.hasGoals)
    }

    /// The sample ruleset names only declared owners and gives every segment and stage a goal.
    func testSampleRulesetHasOwnersAndGoals() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../config/segments.yaml")
        let r = load(try String(contentsOf: url, encoding: .utf8))
        XCTAssertEqual(r.owners, ["marketing", "sales", "crm"])
        XCTAssertTrue(r.segments.allSatisfy { $0.owner != nil && $0.goal != nil })
        XCTAssertTrue(r.stages.allSatisfy { $0.goal != nil })
    }
}
