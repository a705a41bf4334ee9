/// The two delta tables of migration 0070, by name: what `Store.reclaimFoldedRollupDeltas`
/// vacuums, and the only text it puts into its statements.
package enum RollupDeltaTable: String, CaseIterable, Sendable {
    case segment = "segment_rollup_deltas"
    case stage = "stage_rollup_deltas"
}

/// What one fold did (`Store.foldRollupDeltas`): the delta rows it folded and deleted, and the
/// delta tables that held a row again right after it — deltas committed since the fold's
/// snapshot. The others were left empty, so their pages can go back to the file system.
package struct RollupFold: Sendable, Equatable {
    package var folded: Int
    package var refilled: [RollupDeltaTable]

    package init(folded: Int, refilled: [RollupDeltaTable]) {
        self.folded = folded; self.refilled = refilled
    }

    /// The delta tables the fold left empty.
    package var emptied: [RollupDeltaTable] { RollupDeltaTable.allCases.filter { !refilled.contains($0) } }
}
