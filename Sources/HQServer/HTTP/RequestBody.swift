import Hummingbird

/// Reads a request body whole, refusing it as soon as it passes `limit` bytes. An upload that
/// breaks off (the client or a proxy cut the connection mid-body, a malformed chunk) is the
/// client's fault, not HQ's: it becomes a 400, never a 500 logged as an HQ error.
enum RequestBody {
    static func collect(_ request: Request, limit: Int, tooLarge: () -> HQError) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        do {
            for try await chunk in request.body {
                guard bytes.count + chunk.readableBytes <= limit else { throw tooLarge() }
                bytes.append(contentsOf: chunk.readableBytesView)
            }
        } catch let error as HQError {
            throw error
        } catch {
            throw HQError.badRequest("the request body broke off after \(bytes.count) bytes", hint: "send it again (the agent retries on its own)")
        }
        return bytes
    }
}
