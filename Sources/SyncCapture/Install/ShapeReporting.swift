import GRDB
import SyncCore

extension DealerDatabase {
    /// The columns, declared types and primary key of every sync-schema table the DMS has
    /// (`down` tables included), as the live schema says now: HQ keeps its SQL tables from
    /// these when the sync schema does not declare the columns (docs/HQ-TABLES.md).
    public func shapeReport() throws -> ShapeReport {
        try read { db in
            try requireInstalled(db)
            let schema = try SyncTables.installedSchema(db)
            var tables: [ShapeReport.Table] = []
            for spec in schema.tables {
                guard let shape = try TableShape.read(db, for: spec), !shape.primaryKey.isEmpty else { continue }
                tables.append(ShapeReport.Table(
                    name: spec.name, key: shape.primaryKey,
                    columns: shape.columns.map { ShapeReport.Column(name: $0.name, type: $0.declaredType) }))
            }
            return ShapeReport(tables: tables)
        }
    }

    /// The SHA-256 of the shape report HQ last took, nil before the first.
    public func reportedShapeSHA256() throws -> String? {
        try read { db in try SyncTables.meta(db, .shapeReportedSHA256).flatMap(String.fromDatabaseValue) }
    }

    public func recordReportedShape(sha256: String) throws {
        try write { db in try SyncTables.setMeta(db, .shapeReportedSHA256, sha256) }
    }
}
