import Foundation
import JSONCoding
import Postgres

/// Experiment assignments and conversions (`experiment_assignments`, migration 0040): staged with a
/// lane batch's other rows, read back as counts per arm for `/v1/experiments`.
package struct ExperimentWrites {
    /// A lead's arm as a decision shows it; only the first one per lead and experiment is kept.
    package struct Assignment {
        var leadId: UUID
        var experiment: String
        var arm: String
        var segment: String
        var at: Date
        package init(leadId: UUID, experiment: String, arm: String, segment: String, at: Date) {
            self.leadId = leadId; self.experiment = experiment; self.arm = arm; self.segment = segment; self.at = at
        }
    }

    /// A segment goal reached: converts the lead's assignments made by that segment's route.
    package struct Conversion {
        var leadId: UUID
        var segment: String
        var at: Date
        package init(leadId: UUID, segment: String, at: Date) { self.leadId = leadId; self.segment = segment; self.at = at }
    }

    package var assignments: [Assignment] = []
    package var conversions: [Conversion] = []

    var isEmpty: Bool { assignments.isEmpty && conversions.isEmpty }
}

/// Leads and goal conversions of one arm of one experiment.
public struct ExperimentArmCount: Sendable, Equatable {
    public var experiment: String
    public var arm: String
    public var leads: Int
    public var conversions: Int
}

extension Store {
    /// The statements of `w`: assignments first (a row already there is left alone, so an arm
    /// never changes), then conversions of assignments not yet converted and made no later than
    /// the goal.
    static func experimentQueries(_ w: ExperimentWrites) -> [PostgresQuery] {
        var queries: [PostgresQuery] = []
        if !w.assignments.isEmpty {
            let rows = rows(w.assignments) { j, f, a in
                j.member("l", first: &f); j.uuid(a.leadId)
                j.member("e", first: &f); j.string(a.experiment)
                j.member("a", first: &f); j.string(a.arm)
                j.member("s", first: &f); j.string(a.segment)
                j.member("t", first: &f); j.micros(a.at)
            }
            queries.append("""
                INSERT INTO experiment_assignments (lead_id, experiment, arm, segment, assigned_at)
                SELECT l, e, a, s, \(unsafeRaw: at("t")) FROM jsonb_to_recordset(\(rows)) AS x(l uuid, e text, a text, s text, t int8)
                ON CONFLICT DO NOTHING
                """)
        }
        if !w.conversions.isEmpty {
            let rows = rows(w.conversions) { j, f, c in
                j.member("l", first: &f); j.uuid(c.leadId)
                j.member("s", first: &f); j.string(c.segment)
                j.member("t", first: &f); j.micros(c.at)
            }
            queries.append("""
                UPDATE experiment_assignments x SET converted_at = c.at
                FROM (SELECT l, s, min(\(unsafeRaw: at("t"))) AS at FROM jsonb_to_recordset(\(rows)) AS r(l uuid, s text, t int8) GROUP BY l, s) c
                WHERE x.lead_id = c.l AND x.segment = c.s AND x.converted_at IS NULL AND x.assigned_at <= c.at
                """)
        }
        return queries
    }

    /// Leads and conversions per arm, of `experiment` or (nil) of every experiment, by name and arm.
    public func experimentCounts(_ experiment: String? = nil) throws -> [ExperimentArmCount] {
        let rows = try connection.query("""
            SELECT experiment, arm, count(*)::int8 AS leads, count(converted_at)::int8 AS conversions
            FROM experiment_assignments WHERE \(experiment)::text IS NULL OR experiment = \(experiment)
            GROUP BY experiment, arm ORDER BY experiment, arm
            """)
        return try rows.map { row in
            ExperimentArmCount(experiment: try row.decode(String.self, "experiment"), arm: try row.decode(String.self, "arm"),
                               leads: Int(try row.decode(Int64.self, "leads")), conversions: Int(try row.decode(Int64.self, "conversions")))
        }
    }
}
