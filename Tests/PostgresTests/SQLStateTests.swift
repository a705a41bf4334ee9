import Foundation
import Postgres
import XCTest

/// Named SQLSTATEs and their classes, and how errors are classified by them.
final class SQLStateTests: XCTestCase {
    func testNamesAreTheServersCodes() {
        XCTAssertEqual(SQLState.uniqueViolation.rawValue, "23505")
        XCTAssertEqual(SQLState.checkViolation.rawValue, "23514")
        XCTAssertEqual(SQLState.queryCanceled.rawValue, "57014")
        XCTAssertEqual(SQLState.serializationFailure.rawValue, "40001")
        XCTAssertEqual(SQLState.deadlockDetected.rawValue, "40P01")
        XCTAssertEqual(SQLState.featureNotSupported.rawValue, "0A000")
        XCTAssertEqual(SQLState.adminShutdown.rawValue, "57P01")
        XCTAssertEqual(SQLState.tooManyConnections.rawValue, "53300")
        XCTAssertEqual(SQLState(rawValue: "23505"), .uniqueViolation)
        XCTAssertEqual("23505" as SQLState, .uniqueViolation)
        XCTAssertNotEqual(SQLState.uniqueViolation, .checkViolation)
        XCTAssertEqual("\(SQLState.uniqueViolation)", "23505")
    }

    func testClasses() {
        XCTAssertEqual(SQLState.uniqueViolation.class, "23")
        XCTAssertTrue(SQLState.connectionFailure.isConnectionException)
        XCTAssertTrue(SQLState("08P01").isConnectionException)
        XCTAssertFalse(SQLState.adminShutdown.isConnectionException)
        XCTAssertTrue(SQLState.diskFull.isInsufficientResources)
        XCTAssertTrue(SQLState.tooManyConnections.isInsufficientResources)
        XCTAssertFalse(SQLState.queryCanceled.isInsufficientResources)
        XCTAssertTrue(SQLState.invalidTextRepresentation.isDataException)
        XCTAssertTrue(SQLState.numericValueOutOfRange.isDataException)
        XCTAssertFalse(SQLState.uniqueViolation.isDataException)
        XCTAssertTrue(SQLState.programLimitExceeded.isProgramLimitExceeded)
        XCTAssertTrue(SQLState("54001").isProgramLimitExceeded)  // statement too complex
        XCTAssertTrue(SQLState.foreignKeyViolation.isIntegrityConstraintViolation)
        XCTAssertTrue(SQLState.deadlockDetected.isTransactionRollback)
        XCTAssertTrue(SQLState.queryCanceled.isOperatorIntervention)
    }

    func error(_ state: SQLState) -> PostgresError { PostgresError(code: .queryFailed, sqlState: state, message: "x") }

    func error(code: PostgresError.Code) -> PostgresError { PostgresError(code: code, message: "x") }

    func testErrorClassification() {
        XCTAssertTrue(error(.serializationFailure).isTransactionRetryable)
        XCTAssertTrue(error(.deadlockDetected).isTransactionRetryable)
        XCTAssertFalse(error(.uniqueViolation).isTransactionRetryable)

        for state: SQLState in [.connectionFailure, .connectionDoesNotExist, "08P01", .adminShutdown, .crashShutdown, .cannotConnectNow, .readOnlySQLTransaction] {
            XCTAssertTrue(error(state).isConnectionError, state.rawValue)
        }
        XCTAssertFalse(error(.syntaxError).isConnectionError)
        XCTAssertTrue(error(code: .commitOutcomeUnknown).isConnectionError)

        // Unavailable: the database is unreachable or overloaded, not the request wrong.
        for code: PostgresError.Code in [.connectionFailed, .connectionLost, .commitOutcomeUnknown, .acquireTimeout, .closed, .timeout] {
            XCTAssertTrue(error(code: code).isUnavailable, code.rawValue)
        }
        for state: SQLState in [.queryCanceled, .tooManyConnections, .diskFull, .outOfMemory, .insufficientResources, .connectionFailure, .adminShutdown, .readOnlySQLTransaction] {
            XCTAssertTrue(error(state).isUnavailable, state.rawValue)
        }
        for state: SQLState in [.uniqueViolation, .checkViolation, .syntaxError, .invalidTextRepresentation, .programLimitExceeded, .serializationFailure] {
            XCTAssertFalse(error(state).isUnavailable, state.rawValue)
        }
        for code: PostgresError.Code in [.decoding, .invalidConfiguration, .migration, .protocolViolation] {
            XCTAssertFalse(error(code: code).isUnavailable, code.rawValue)
        }
    }

    /// Data exceptions are recognised by class for redaction, whatever the code in the class.
    func testDataExceptionsAreRedactedByClass() {
        let e = PostgresError(code: .queryFailed, sqlState: .numericValueOutOfRange, message: #"value "123456789012" is out of range"#)
        XCTAssertEqual(e.description, #"postgres queryFailed [22003]: value "…" is out of range"#)
        let other = PostgresError(code: .queryFailed, sqlState: .uniqueViolation, message: #"duplicate key value violates unique constraint "k""#)
        XCTAssertTrue(other.description.contains(#""k""#))
    }
}
