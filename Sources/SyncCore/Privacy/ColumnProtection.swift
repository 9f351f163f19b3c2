import Crypto

/// What leaves a store of a `masked` or `hashed` column (docs/PRIVACY.md): the store keeps
/// the value, HQ and other stores receive only its protected form.
///
/// Both forms are idempotent (protecting a protected value gives it back), so a store that
/// holds only the protected form sends it unchanged, and HQ can re-mask whatever a store
/// sends without knowing whether it was masked already.
public struct ColumnProtection: Sendable {
    /// table → column → how it is protected.
    private let policies: [String: [String: Kind]]
    private let key: ColumnHashKey?

    enum Kind { case masked, hashed }

    /// The protection `schema` asks for; `key` is needed once a table has `hashed` columns.
    public init(schema: SyncSchema, key: ColumnHashKey?) {
        var policies: [String: [String: Kind]] = [:]
        for table in schema.tables where !table.maskedColumns.isEmpty || !table.hashedColumns.isEmpty {
            var columns: [String: Kind] = [:]
            for column in table.maskedColumns { columns[column] = .masked }
            for column in table.hashedColumns { columns[column] = .hashed }
            policies[table.name] = columns
        }
        self.policies = policies
        self.key = key
    }

    /// Whether any table has a protected column.
    public var isEmpty: Bool { policies.isEmpty }

    /// The tables whose `hashed` columns need a key this store does not have.
    public var tablesMissingKey: [String] {
        key != nil ? [] : policies.filter { $0.value.values.contains { $0 == .hashed } }.keys.sorted()
    }

    /// Whether `column` of `table` is masked or hashed.
    public func protects(table: String, column: String) -> Bool { policies[table]?[column] != nil }

    /// The form of `value` that may leave the store. Without a key a hashed column's value
    /// cannot be protected: it is nil, and the caller must not send the column.
    public func protect(_ value: SQLValue, table: String, column: String) -> SQLValue? {
        switch policies[table]?[column] {
        case nil: value
        case .masked: MaskedForm.of(value)
        case .hashed: HashedForm.isHashed(value) || value == .null ? value : key.map { HashedForm.of(value, key: $0) }
        }
    }

    /// `version` with every write of a protected column in its protected form; a hashed
    /// column that cannot be hashed here is dropped from the version.
    public func protect(_ version: RowVersion) -> RowVersion {
        guard let columns = policies[version.table] else { return version }
        var protected = version
        for column in columns.keys where version.columns[column] != nil {
            protected.mapWrites(of: column) { protect($0, table: version.table, column: column) }
        }
        return protected
    }
}

/// A masked value: text keeps its first three and last four characters when it has eleven
/// or more (`138****5678`: at most 7 of 11 shown), else its first character (`王**`); every
/// other character is `*`, so the length stays. Numbers and blobs become NULL.
public enum MaskedForm {
    public static func of(_ value: SQLValue) -> SQLValue {
        switch value {
        case .null, .integer, .real, .blob: return .null
        case .text(let text):
            let characters = Array(text)
            guard characters.count > 1 else { return .text(characters.isEmpty ? "" : "*") }
            let (head, tail) = characters.count >= 11 ? (3, 4) : (1, 0)
            let middle = String(repeating: "*", count: characters.count - head - tail)
            return .text(String(characters.prefix(head)) + middle + String(characters.suffix(tail)))
        }
    }
}

/// A hashed value: `hmac-sha256:` and 64 lower-case hex digits of HMAC-SHA256 under the
/// fleet's key, over the value as text with white space removed, full-width letters and
/// digits made ASCII and letters made lower case, so `138 1234 5678` and `13812345678`
/// hash alike. NULL stays NULL. Only holders of the key (the stores) can test a guess.
public enum HashedForm {
    public static let prefix = "hmac-sha256:"

    public static func of(_ value: SQLValue, key: ColumnHashKey) -> SQLValue {
        let text: String
        switch value {
        case .null: return .null
        case .integer(let number): text = String(number)
        case .real(let number): text = String(number)
        case .text(let string): text = string
        case .blob(let bytes): text = bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        }
        let code = HMAC<SHA256>.authenticationCode(for: Array(normalized(text).utf8), using: key.symmetricKey)
        return .text(prefix + code.map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }.joined())
    }

    /// Whether `value` already has the hashed form (what HQ accepts for a hashed column).
    public static func isHashed(_ value: SQLValue) -> Bool {
        guard case .text(let text) = value, text.hasPrefix(prefix) else { return false }
        let digits = text.utf8.dropFirst(prefix.utf8.count)
        return digits.count == 64 && digits.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    static func normalized(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars where !scalar.properties.isWhitespace {
            // Full-width ASCII (U+FF01…U+FF5E) is ASCII shifted by 0xFEE0.
            let ascii = (0xFF01...0xFF5E).contains(scalar.value) ? Unicode.Scalar(scalar.value - 0xFEE0)! : scalar
            scalars.append(ascii)
        }
        return String(scalars).lowercased()
    }
}

/// The fleet's key for `hashed` columns: the same at every store, never at HQ
/// (docs/PRIVACY.md), read from a file of at least 32 bytes (`hash_key_file`).
public struct ColumnHashKey: Sendable, Hashable {
    let bytes: [UInt8]

    public static let minimumBytes = 32

    public init(bytes: [UInt8]) throws {
        // A trailing newline from `echo` or an editor is not part of the key.
        var bytes = bytes
        while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
        guard bytes.count >= Self.minimumBytes else {
            throw SyncCoreError(
                .invalidValue, "the hash key has \(bytes.count) bytes; at least \(Self.minimumBytes) are needed",
                hint: "create one with `head -c 32 /dev/urandom | base64 > hash.key` and give the same file to every store")
        }
        self.bytes = bytes
    }

    var symmetricKey: SymmetricKey { SymmetricKey(data: bytes) }
}
