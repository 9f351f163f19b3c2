import SyncCore

extension RowVersion {
    /// The row's key values as the store knows them: HQ keys an `up` row by (dealer id,
    /// local key…), so the dealer id in front is left out.
    func storeKeyValues(_ spec: TableSpec) -> [SQLValue] {
        spec.direction == .up ? Array(key.values.dropFirst()) : key.values
    }

    /// `values` with the key columns filled in: the key travels apart from the columns.
    func withKeyColumns(_ values: [String: SQLValue], spec: TableSpec, keyColumns: [String]) -> [String: SQLValue] {
        var values = values
        for (name, value) in zip(keyColumns, storeKeyValues(spec)) { values[name] = value }
        return values
    }
}
