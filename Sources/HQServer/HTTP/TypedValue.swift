import Foundation
import SyncCore

/// A SQLite value in JSON with its storage class, so INTEGER, REAL, TEXT, BLOB and NULL stay
/// distinct: `{"type":"integer","value":42}`, `{"type":"real","value":1.0}`,
/// `{"type":"text","value":"x"}`, `{"type":"blob","value":"<base64>"}`, `{"type":"null"}`.
///
/// Decoding also takes shorthand for HQ writers: a JSON string is TEXT, a whole number is
/// INTEGER, `null` is NULL.
public struct TypedValue: Codable, Sendable, Hashable {
    public var value: SQLValue

    public init(_ value: SQLValue) { self.value = value }

    enum CodingKeys: String, CodingKey { case type, value }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(value.storageClass.lowercased(), forKey: .type)
        switch value {
        case .null: break
        case .integer(let integer): try container.encode(integer, forKey: .value)
        case .real(let double): try container.encode(double, forKey: .value)
        case .text(let text): try container.encode(text, forKey: .value)
        case .blob(let bytes): try container.encode(Data(bytes).base64EncodedString(), forKey: .value)
        }
    }

    public init(from decoder: Decoder) throws {
        if let single = try? decoder.singleValueContainer() {
            if single.decodeNil() { value = .null; return }
            if let text = try? single.decode(String.self) { value = .text(text); return }
            if let integer = try? single.decode(Int64.self) { value = .integer(integer); return }
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "null": value = .null
        case "integer":
            if let integer = try? container.decode(Int64.self, forKey: .value) {
                value = .integer(integer)
            } else if let text = try? container.decode(String.self, forKey: .value), let integer = Int64(text) {
                value = .integer(integer)
            } else {
                throw DecodingError.dataCorruptedError(forKey: .value, in: container, debugDescription: "an integer value is not a 64-bit whole number")
            }
        case "real": value = try SQLValue.real(container.decode(Double.self, forKey: .value)).validated()
        case "text": value = .text(try container.decode(String.self, forKey: .value))
        case "blob":
            guard let bytes = Data(base64Encoded: try container.decode(String.self, forKey: .value)) else {
                throw DecodingError.dataCorruptedError(forKey: .value, in: container, debugDescription: "a blob value is not base64")
            }
            value = .blob(Array(bytes))
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription: "type must be one of null, integer, real, text, blob")
        }
    }
}
