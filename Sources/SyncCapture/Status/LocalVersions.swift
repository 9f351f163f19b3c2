import Foundation
import GRDB
import SyncCore

extension DealerDatabase {
    /// Every row version this store holds, rebuilt from the clock metadata and the DMS rows
    /// as they are now, in (table, key) order. Pending (unstamped) changes are not included:
    /// stamp first for an exact picture. Used to compare a store with HQ: `asSent` gives
    /// masked and hashed columns in the form HQ receives them (docs/PRIVACY.md).
    public func allVersions(asSent: Bool = false) throws -> [RowVersion] {
        try read { db in
            try requireInstalled(db)
            let transaction = try SyncTransaction(db, node: node, wallMillis: 0, hashKey: settings.hashKey)
            var versions: [RowVersion] = []
            for registration in transaction.registrations.values.sorted(by: { $0.name < $1.name }) {
                guard let shape = transaction.shapes[registration.name] else { continue }
                let keys = try Data.fetchAll(
                    db, sql: "SELECT key FROM _dealersync_clock WHERE table_id = ? ORDER BY key", arguments: [registration.id])
                for keyData in keys {
                    let key = try RowKey(bytes: Array(keyData))
                    let values = try transaction.dmsValues(shape, key: key)
                    if let version = try transaction.storedVersion(registration, key: key, dmsValues: values) {
                        versions.append(asSent ? transaction.protection.protect(version) : version)
                    }
                }
            }
            return versions
        }
    }
}
