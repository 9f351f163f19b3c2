import GRDB
import SyncCapture
import SyncCore
import SyncTestSupport

/// A small dealership DMS: the awkward cases the issue lists, in one schema.
enum Fixtures {
    static let dmsSQL = """
        CREATE TABLE customers (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            mobile TEXT,
            class TEXT COLLATE NOCASE,
            visits INTEGER DEFAULT 0,
            name_upper TEXT GENERATED ALWAYS AS (upper(name)) VIRTUAL
        );
        CREATE TABLE "order" (
            store TEXT NOT NULL,
            number INTEGER NOT NULL,
            "客户 名称" TEXT,
            total REAL,
            PRIMARY KEY (store, number)
        ) WITHOUT ROWID;
        CREATE TABLE service_orders (
            id TEXT PRIMARY KEY,
            customer_id TEXT REFERENCES customers(id) ON DELETE CASCADE,
            status TEXT,
            updated_count INTEGER DEFAULT 0
        );
        CREATE TABLE attachments (hash BLOB PRIMARY KEY, body BLOB);
        CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, note TEXT);
        CREATE TABLE models (code TEXT PRIMARY KEY, price REAL);
        CREATE TABLE nokey (a TEXT, b TEXT);
        -- The DMS's own trigger: counts status changes on service orders.
        CREATE TRIGGER dms_count_status AFTER UPDATE OF status ON service_orders
        BEGIN UPDATE service_orders SET updated_count = updated_count + 1 WHERE id = NEW.id; END;
        """

    static let schemaYAML = """
        version: 1
        tables:
          - name: customers
            direction: both
            owners:
              class: hq
          - name: "order"
            direction: both
          - name: service_orders
            direction: both
          - name: attachments
            direction: both
          - name: audit
            direction: up
          - name: models
            direction: down
            broadcast: true
        """

    static var schema: SyncSchema { try! SyncSchema(yaml: schemaYAML) }

    static let wall: Int64 = 1_763_900_000_000

    /// A DMS with the fixture schema, dealersync installed as DLR-1, snapshot stamped.
    static func installed(node: String = "DLR-1") throws -> (TestDMS, DealerDatabase) {
        let dms = try TestDMS(schemaSQL: dmsSQL)
        let database = try dms.open(node: node)
        _ = try database.install(schema: schema)
        return (dms, database)
    }

    /// Stamps pending changes and returns the rows of the new batch (empty if none).
    static func stamp(_ database: DealerDatabase) throws -> [RowVersion] {
        let before = try database.outbox(limit: 10_000).map(\.id)
        try database.stampPendingChanges(wallMillis: wall)
        return try database.outbox(limit: 10_000).filter { !before.contains($0.id) }.flatMap {
            try Batch(decoding: Gzip.decompress($0.body, maxOutputBytes: 1 << 30)).rows
        }
    }
}
