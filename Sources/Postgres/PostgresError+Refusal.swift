extension PostgresError {
    /// PostgreSQL refused a value of the request (SQLSTATE class 22, data exception, e.g. a date
    /// out of range; or 54, program limit exceeded, e.g. an index entry too large): the input's
    /// fault, not the service's. Validation refuses such input before it reaches a transaction;
    /// this is what is left when some still gets through.
    public var isRefusal: Bool {
        guard let state = sqlState else { return false }
        return state.isDataException || state.isProgramLimitExceeded
    }
}
