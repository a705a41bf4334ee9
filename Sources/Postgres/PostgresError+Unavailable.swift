extension PostgresError {
    /// The database could not be reached or would not take the work now (connection failures,
    /// pool exhausted, statement timeout, insufficient resources): the transaction did not
    /// happen and the same request may be retried later. Callers answer 503, not 500.
    public var isUnavailable: Bool {
        switch code {
        case .connectionFailed, .connectionLost, .acquireTimeout, .closed, .timeout: return true
        default: return isConnectionError || sqlState == "57014" || sqlState?.hasPrefix("53") == true
        }
    }
}
