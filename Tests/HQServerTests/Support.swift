import Foundation
import HQServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SyncCore
import SyncTestSupport

/// The sync schema the HQ tests run against.
let testSchemaYAML = """
    version: 3
    tables:
      - name: customers
        direction: both
        owners:
          notes: origin
      - name: leads
        direction: both
        routing_column: assigned_dealer
        owners:
          assigned_dealer: hq
      - name: prices
        direction: down
        broadcast: true
      - name: visits
        direction: up
    """

/// One HQ under test: its own temporary directory and store file, and tokens for two
/// dealers, a reader and a writer.
struct HQFixture {
    let directory: URL
    let config: HQConfig
    let store: SQLiteSyncStore
    let dealer1 = try! NodeID("DLR-1")
    let dealer2 = try! NodeID("DLR-2")
    var tokens: [String: String] = [:]

    /// `tables`: keep HQ's SQL tables in `hq.tables.sqlite` (docs/HQ-TABLES.md). The default
    /// idle timeout is long: HummingbirdTesting's live client does not reconnect after it.
    init(limits: HQLimits = HQLimits(idleTimeoutSeconds: 600), schemaYAML: String = testSchemaYAML, tables: Bool = false) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hq-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config = HQConfig(
            port: 0, storePath: directory.appendingPathComponent("hq.sqlite").path,
            tablesPath: tables ? directory.appendingPathComponent("hq.tables.sqlite").path : nil,
            schema: try SyncSchema(yaml: schemaYAML), limits: limits,
            // No retention pass of its own: on a busy machine a test outlives the default
            // minute, and a pass by the wall clock would compact what the test compacts by hand.
            retention: HQRetention(firstPassDelaySeconds: 86_400))
        self.config = config
        store = try SQLiteSyncStore(path: config.storePath, tables: config.tablesPath.map { ($0, config.schema) })
        for (id, kind) in [("DLR-1", PrincipalKind.dealer), ("DLR-2", .dealer), ("DLR-3", .dealer), ("crm", .reader), ("hq-crm", .writer)] {
            let token = Tokens.generate()
            try await store.addPrincipal(NewPrincipal(id: id, name: nil, kind: kind, tokenSHA256: Tokens.sha256(of: token), createdAtMillis: 1))
            tokens[id] = token
        }
    }

    func cleanUp() { try? FileManager.default.removeItem(at: directory) }

    func bearer(_ id: String) -> HTTPFields { [.authorization: "Bearer \(tokens[id]!)"] }
}

/// A dealer-side writer of row versions with its own counter and HLC.
struct FakeDealer {
    let node: NodeID
    var counter: UInt64 = 0
    var hlc: UInt64 = 1_700_000_000_000 << 16

    init(_ id: String) { node = try! NodeID(id) }

    mutating func insert(_ table: String, key: [SQLValue], _ values: [String: SQLValue]) -> RowVersion {
        counter += 1
        hlc += 1
        return RowVersion.inserted(
            table: table, key: RowKey(key), values: values, dot: Dot(node: node, counter: counter), hlc: HLCTimestamp(rawValue: hlc))
    }

    mutating func delete(_ row: RowVersion) -> RowVersion {
        counter += 1
        hlc += 1
        var row = row
        row.delete(dot: Dot(node: node, counter: counter), hlc: HLCTimestamp(rawValue: hlc))
        return row
    }

    mutating func update(_ row: RowVersion, _ values: [String: SQLValue]) -> RowVersion {
        counter += 1
        hlc += 1
        var row = row
        row.write(values, dot: Dot(node: node, counter: counter), hlc: HLCTimestamp(rawValue: hlc))
        return row
    }
}

/// A push body and the headers an agent sends with it.
struct PushRequest {
    var body: [UInt8]
    var headers: HTTPFields

    init(batch: Batch, token: String) {
        self.init(compressed: Gzip.compress(batch.encoded()), token: token)
    }

    init(compressed: [UInt8], token: String) {
        body = compressed
        headers = [
            .authorization: "Bearer \(token)", .contentEncoding: "gzip",
            HTTPField.Name(BodyChecksum.headerName)!: BodyChecksum.sha256Hex(compressed),
        ]
    }
}

extension TestClientProtocol {
    func push(_ dealer: String, _ request: PushRequest) async throws -> TestResponse {
        try await execute(uri: "/v1/dealers/\(dealer)/batches", method: .post, headers: request.headers, body: ByteBuffer(bytes: request.body))
    }

    /// Pulls one page for `dealer`; returns the decoded batch and the next cursor.
    func pull(_ dealer: String, token: String, after cursor: String? = nil, extra: String = "") async throws -> (Batch, String) {
        let query = (cursor.map { "after=\($0)&" } ?? "") + "limit=100" + extra
        let response = try await execute(uri: "/v1/dealers/\(dealer)/changes?\(query)", method: .get, headers: [.authorization: "Bearer \(token)"])
        guard response.status == .ok else { throw TestFailure("pull answered \(response.status): \(String(decoding: response.body.readableBytesView, as: UTF8.self))") }
        let batch = try Batch(decoding: Gzip.decompress(Array(response.body.readableBytesView), maxOutputBytes: 1 << 26))
        return (batch, response.headers[.dealersyncCursor] ?? "")
    }

    func hqWrite(_ json: String, token: String) async throws -> TestResponse {
        try await execute(
            uri: "/v1/hq/changes", method: .post, headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
            body: ByteBuffer(string: json))
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The JSON error body every refusal carries.
struct ErrorBody: Decodable {
    var error: String
    var hint: String
}

func errorBody(_ response: TestResponse) throws -> ErrorBody {
    try JSONDecoder().decode(ErrorBody.self, from: Data(response.body.readableBytesView))
}

func receipt(_ response: TestResponse) throws -> PushReceipt {
    try JSONDecoder().decode(PushReceipt.self, from: Data(response.body.readableBytesView))
}
