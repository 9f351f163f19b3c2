import Foundation
import Hummingbird
import HTTPTypes
import SyncCore

/// A client-facing error: an HTTP status and a JSON body `{"error": "...", "hint": "..."}`.
///
/// Messages name fields, tables, row indexes and byte counts, never a row value or a token,
/// so an error body or a log line built from one leaks no customer data.
public struct HQError: HTTPResponseError, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let message: String
    public let hint: String
    /// Extra headers, e.g. `Retry-After` on 429 and 503.
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ message: String, hint: String, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.hint = hint
        self.headers = headers
    }

    public var description: String { "\(status.code) \(message). Try: \(hint)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json"
        let body = ErrorBody(error: message, hint: hint)
        let bytes = (try? JSONEncoder.sorted.encode(body)) ?? Data("{\"error\":\"internal\"}".utf8)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    private struct ErrorBody: Encodable {
        var error: String
        var hint: String
    }
}

extension HQError {
    static func unauthorized(_ message: String) -> HQError {
        HQError(.unauthorized, message, hint: "send Authorization: Bearer TOKEN with the token printed by `dealersync hq add-dealer`")
    }

    static func forbidden(_ message: String, hint: String) -> HQError { HQError(.forbidden, message, hint: hint) }

    static func badRequest(_ message: String, hint: String) -> HQError { HQError(.badRequest, message, hint: hint) }

    static func tooLarge(_ message: String, hint: String) -> HQError { HQError(.contentTooLarge, message, hint: hint) }
}

extension JSONEncoder {
    /// Sorted keys, so that the same answer is the same bytes (push receipts are replayed byte for byte).
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return encoder
    }
}

extension HTTPField.Name {
    /// The SHA-256 of the compressed request body (SyncCore `BodyChecksum`).
    static let dealersyncSHA256 = HTTPField.Name(BodyChecksum.headerName)!
    /// The cursor to pass as `after=` on the next pull.
    public static let dealersyncCursor = HTTPField.Name("X-Dealersync-Cursor")!
    /// HQ's wall clock in milliseconds since 1970, for agents to measure their offset.
    public static let dealersyncServerTime = HTTPField.Name("X-Dealersync-Server-Time")!
    /// The agent's wall clock in milliseconds since 1970 when it sent the request.
    public static let dealersyncClock = HTTPField.Name("X-Dealersync-Clock")!
    public static let dealersyncCapture = HTTPField.Name(CaptureReport.headerName)!
    public static let dealersyncHealth = HTTPField.Name(StoreHealthReport.headerName)!
    public static let dealersyncAckedSequence = HTTPField.Name("X-Dealersync-Acked-Sequence")!
    public static let dealersyncSchema = HTTPField.Name(SyncSchema.versionHeaderName)!
    public static let dealersyncRequest = HTTPField.Name(StoreRequest.headerName)!
    public static let dealersyncSettings = HTTPField.Name(GroupAgentSettings.headerName)!
    /// On a full pull page: the rows still due for the dealer after it (a new store's catch-up).
    public static let dealersyncRemaining = HTTPField.Name("X-Dealersync-Remaining")!
    /// Indexes of the page's rows that are erasures (docs/PRIVACY.md), comma-separated.
    public static let dealersyncErased = HTTPField.Name("X-Dealersync-Erased")!
    /// On a feed 410: the retention horizon, as a cursor (`c1.<seq>`).
    public static let dealersyncFeedHorizon = HTTPField.Name("X-Dealersync-Feed-Horizon")!
}
