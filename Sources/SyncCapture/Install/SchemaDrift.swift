import GRDB
import SyncCore

/// A synced table that cannot be captured or applied right now.
public struct TableProblem: Hashable, Sendable {
    public var table: String
    public var message: String
    public var hint: String
}

extension DealerDatabase {
    /// Compares each synced table with the live DMS schema, as the agent does every cycle.
    /// A column added by a DMS upgrade gets a change bit and the triggers are rebuilt, so the
    /// new column syncs from its next change on. A table that was dropped or renamed, or
    /// whose key changed, is reported (and shown by `status`); the others keep syncing.
    @discardableResult
    public func refreshCapture() throws -> [TableProblem] {
        try write { db in
            try requireInstalled(db)
            // A newer dealersync on an existing store adds its tables here, without a new `init`.
            try SyncTables.migrate(db)
            let schema = try SyncTransaction(db, node: node, wallMillis: 0).schema
            var problems: [TableProblem] = []
            for var registration in try TableRegistration.all(db) {
                guard let spec = schema.table(named: registration.name) else { continue }
                var problem: TableProblem?
                if let shape = try TableShape.read(db, table: registration.name) {
                    if shape.signature != registration.signature {
                        do {
                            try Self.register(db, table: spec)
                        } catch let error as CaptureError {
                            problem = TableProblem(table: registration.name, message: error.message, hint: error.hint)
                        }
                    }
                } else {
                    problem = TableProblem(
                        table: registration.name,
                        message: "synced table '\(registration.name)' is no longer in the DMS database (dropped or renamed)",
                        hint: "restore the table, or update the sync schema and run `dealersync init` again")
                }
                if let refreshed = try TableRegistration.named(db, registration.name) { registration = refreshed }
                if registration.problem != problem?.message {
                    registration.problem = problem?.message
                    try registration.save(db)
                }
                if let problem { problems.append(problem) }
            }
            return problems
        }
    }
}
