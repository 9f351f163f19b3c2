import Foundation
import Hummingbird
import Logging
import SyncCore

/// `PUT /v1/dealers/{id}/shape`: a store reports its synced tables' columns and declared
/// types (`ShapeReport`), so HQ's SQL tables gain a column a DMS upgrade added without
/// anyone declaring it (docs/HQ-TABLES.md). The agent sends it whenever it changes, before
/// pushing rows that carry the new column.
///
/// Hostile reports are bounded: the body (`maxBodyBytes`), the tables (`ShapeReport.maxTables`),
/// the columns per table (`limits.max_table_columns`), and every name and type passes the
/// rule of declared columns, since types go into `CREATE TABLE`. Only tables of the sync
/// schema are kept, and a table whose columns the schema declares is never changed by a store.
public struct ShapeController<Store: SyncStore>: Sendable {
    let store: Store
    let schema: SyncSchema
    let limits: HQLimits
    /// Asked to fill a table that gained a column rows already carried.
    let filler: TablesFiller?
    let logger: Logger

    static var maxBodyBytes: Int { 256 << 10 }

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.put("/v1/dealers/{id}/shape") { request, context in
            let id = try context.parameters.require("id")
            let dealer = try await Authenticator(store: store).dealer(request, id: id)
            return try await record(request, dealer: dealer)
        }
    }

    func record(_ request: Request, dealer: NodeID) async throws -> Response {
        let bytes = try await RequestBody.collect(request, limit: Self.maxBodyBytes) {
            HQError.tooLarge("the shape report is over \(Self.maxBodyBytes) bytes", hint: "report only the tables of the sync schema")
        }
        let report: ShapeReport
        do {
            report = try JSONDecoder().decode(ShapeReport.self, from: Data(bytes))
        } catch {
            throw HQError.badRequest(
                "the body is not a shape report (\(HQWriteController<Store>.describe(error)))",
                hint: #"send {"tables": [{"name": ..., "key": [...], "columns": [{"name": ..., "type": ...}]}]}; see docs/HQ.md"#)
        }
        let (valid, refused) = try Self.validate(report, schema: schema, maxColumns: limits.maxTableColumns)
        var outcome = try await store.recordShape(dealer: dealer, report: valid, schema: schema, atMillis: Date.nowMillis)
        outcome.refused = refused + outcome.refused
        if !outcome.addedColumns.isEmpty {
            filler?.request()
            logger.info("HQ's SQL tables gained columns", metadata: ["dealer": "\(dealer)", "columns": "\(outcome.addedColumns.count)"])
        }
        return PushController<Store>.json(Array(try JSONEncoder.sorted.encode(outcome)))
    }

    /// The report's tables that HQ may learn from, and the schema tables it refuses (named in
    /// the answer, never logged). A malformed report as a whole is a 400.
    static func validate(_ report: ShapeReport, schema: SyncSchema, maxColumns: Int) throws -> (ShapeReport, [ShapeOutcome.Refusal]) {
        guard report.tables.count <= ShapeReport.maxTables else {
            throw HQError.badRequest(
                "the report lists \(report.tables.count) tables; at most \(ShapeReport.maxTables)", hint: "report only the tables of the sync schema")
        }
        var seen = Set<String>()
        var valid: [ShapeReport.Table] = []
        var refused: [ShapeOutcome.Refusal] = []
        for (index, table) in report.tables.enumerated() {
            guard !table.name.isEmpty, table.name.utf8.count <= 128, !table.name.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
                throw HQError.badRequest("tables[\(index)] has an empty, over-long or control-character name", hint: "report the DMS's table names")
            }
            guard seen.insert(table.name).inserted else {
                throw HQError.badRequest("tables[\(index)] repeats table '\(table.name)'", hint: "report each table once")
            }
            // Other tables are answered as ignored by the store; only schema tables are checked.
            guard schema.table(named: table.name) != nil else {
                valid.append(ShapeReport.Table(name: table.name, key: [], columns: []))
                continue
            }
            if let (field, problem) = ColumnSpec.problem(in: table.columnSpecs, key: table.key, maxColumns: maxColumns) {
                refused.append(ShapeOutcome.Refusal(table: table.name, column: nil, reason: "\(field) \(problem)"))
                continue
            }
            valid.append(table)
        }
        return (ShapeReport(tables: valid), refused)
    }
}
