import GRDB

extension CaptureError {
    /// A full or failing disk under the DMS database, said plainly: SQLite's own message
    /// ("database or disk is full - while executing …") names SQL, not what to do. Nil for
    /// any other error. The failed transaction rolled back, so nothing captured is lost.
    public static func storage(_ error: any Error, databasePath: String) -> CaptureError? {
        guard let error = error as? DatabaseError else { return nil }
        switch error.resultCode {
        case .SQLITE_FULL:
            return CaptureError(
                .databaseUnavailable, "the disk holding the DMS database \(databasePath) is full",
                hint: "free space on that disk; the agent retries by itself and loses nothing it captured")
        case .SQLITE_IOERR:
            return CaptureError(
                .databaseUnavailable, "the disk holding the DMS database \(databasePath) had an I/O error (\(error.extendedResultCode))",
                hint: "check the disk (dmesg, smartctl); the agent retries by itself and loses nothing it captured")
        default:
            return nil
        }
    }
}
