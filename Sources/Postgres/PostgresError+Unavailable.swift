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

extension PostgresError {
    /// PostgreSQL refused a value of the request (SQLSTATE class 22, data exception, e.g. a date
    /// out of range; or 54, program limit exceeded, e.g. an index entry too large): the input's
    /// fault, not the service's. Validation refuses such input before it reaches a transaction;
    /// this is what is left when some still gets through.
    public var isRefusal: Bool {
        guard let state = sqlState else { return false }
        return state.hasPrefix("22") || state.hasPrefix("54")
    }
}
