import Foundation
import GRDB
import SyncCapture
import SyncCore

/// A dealer DMS database in a temporary directory, written the way a real DMS writes it:
/// through its own plain connection (GRDB with default settings, foreign keys on), never
/// through dealersync's.
public final class TestDMS: @unchecked Sendable {
    public let directory: TemporaryDirectory
    public let path: String
    /// The DMS's own connection.
    public let dms: DatabaseQueue

    public init(schemaSQL: String, label: String = "dms") throws {
        directory = TemporaryDirectory(label)
        path = directory.file("dms.sqlite")
        // Like a real DMS, it waits for the agent's short write transactions instead of failing.
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        dms = try DatabaseQueue(path: path, configuration: configuration)
        try dms.write { db in try db.execute(sql: schemaSQL) }
    }

    /// Runs SQL on the DMS's own connection.
    public func execute(_ sql: String, _ arguments: StatementArguments = StatementArguments()) throws {
        try dms.write { db in try db.execute(sql: sql, arguments: arguments) }
    }

    public func rows(_ sql: String, _ arguments: StatementArguments = StatementArguments()) throws -> [Row] {
        try dms.read { db in try Row.fetchAll(db, sql: sql, arguments: arguments) }
    }

    public func count(_ sql: String) throws -> Int { try dms.read { db in try Int.fetchOne(db, sql: sql) ?? 0 } }

    /// `sqlite_schema` as (type, name, sql), for before/after comparisons.
    public func schemaListing() throws -> [String] {
        try dms.read { db in
            try Row.fetchAll(db, sql: "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name").map { "\($0)" }
        }
    }

    public func open(node: String = "DLR-1", maxLockMillis: Int = 200, batchRows: Int = 5_000, hashKey: ColumnHashKey? = nil) throws -> DealerDatabase {
        try DealerDatabase(
            settings: CaptureSettings(databasePath: path, node: node, maxLockMillis: maxLockMillis, batchRows: batchRows, hashKey: hashKey))
    }

    /// Decodes every batch in the outbox, oldest first.
    public static func outboxBatches(_ database: DealerDatabase) throws -> [Batch] {
        try database.outbox(limit: 10_000).map { try Batch(decoding: Gzip.decompress($0.body, maxOutputBytes: 1 << 30)) }
    }
}
