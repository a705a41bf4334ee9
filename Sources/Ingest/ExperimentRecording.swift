import Foundation
import LeadStore
import Segmentation

/// What a decision tells experiment reports: the arm of each experiment it assigned (a variant's
/// action, or a holdout in `suppressed`) and the segment goals it reached. Staged with the
/// decision's other rows; the store keeps only a lead's first arm per experiment and its first
/// conversion after it, so repeating them at every decision changes nothing.
enum ExperimentRecording {
    static func stage(_ decision: Decision, goals: [Evaluation.GoalReached], leadId: UUID, at: Date, into w: inout ExperimentWrites) {
        for a in decision.actions {
            guard let experiment = a.experiment, let arm = a.variant else { continue }
            w.assignments.append(.init(leadId: leadId, experiment: experiment, arm: arm, segment: a.segment, at: at))
        }
        for s in decision.suppressed where s.reason == ExperimentAssignment.holdout {
            guard let experiment = s.experiment, let segment = s.segment else { continue }
            w.assignments.append(.init(leadId: leadId, experiment: experiment, arm: ExperimentAssignment.holdout, segment: segment, at: at))
        }
        for g in goals { w.conversions.append(.init(leadId: leadId, segment: g.segment, at: at)) }
    }
}
