import CZlib

/// gzip compression of request and response bodies through the system zlib.
///
/// Decompression is bounded: it stops with `limitExceeded` as soon as the output would pass
/// the caller's cap, holding at most the cap plus one 64 KiB chunk, so a 1 GiB stream of
/// zeros compressed to 1 MB is refused after reading a sliver of it. A stream cut short is
/// `truncated`; bytes after the end of the gzip member are `trailingData`.
public enum Gzip {
    private static let chunkSize = 64 * 1024

    /// Compresses `input` as one gzip member. `level` is zlib's 0 (store) to 9 (smallest).
    public static func compress(_ input: [UInt8], level: Int32 = 6) -> [UInt8] {
        var stream = z_stream()
        let status = dealersync_deflate_init_gzip(&stream, level)
        precondition(status == Z_OK, "deflateInit2 failed with \(status): out of memory or a bad level")
        defer { deflateEnd(&stream) }

        var output: [UInt8] = []
        output.reserveCapacity(Int(deflateBound(&stream, uLong(input.count))))
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        var input = input
        input.withUnsafeMutableBufferPointer { inputBuffer in
            stream.next_in = inputBuffer.baseAddress
            stream.avail_in = uInt(inputBuffer.count)
            var result: Int32 = Z_OK
            repeat {
                chunk.withUnsafeMutableBufferPointer { chunkBuffer in
                    stream.next_out = chunkBuffer.baseAddress
                    stream.avail_out = uInt(chunkBuffer.count)
                    result = deflate(&stream, Z_FINISH)
                    output.append(contentsOf: chunkBuffer[0..<(chunkBuffer.count - Int(stream.avail_out))])
                }
            } while result == Z_OK || result == Z_BUF_ERROR
            precondition(result == Z_STREAM_END, "deflate failed with \(result)")
        }
        return output
    }

    /// Decompresses one gzip member, refusing output larger than `maxOutputBytes`.
    public static func decompress(_ input: [UInt8], maxOutputBytes: Int) throws -> [UInt8] {
        guard !input.isEmpty else {
            throw SyncCoreError(.truncated, "the gzip body is empty", hint: "send the batch gzip-compressed")
        }
        var stream = z_stream()
        guard dealersync_inflate_init_gzip(&stream) == Z_OK else {
            throw SyncCoreError(.compressionFailed, "zlib could not start decompressing", hint: "the process is short of memory; retry")
        }
        defer { inflateEnd(&stream) }

        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        var input = input
        return try input.withUnsafeMutableBufferPointer { inputBuffer in
            stream.next_in = inputBuffer.baseAddress
            stream.avail_in = uInt(inputBuffer.count)
            while true {
                let result = chunk.withUnsafeMutableBufferPointer { chunkBuffer in
                    stream.next_out = chunkBuffer.baseAddress
                    stream.avail_out = uInt(chunkBuffer.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunkSize - Int(stream.avail_out)
                guard output.count + produced <= maxOutputBytes else {
                    throw SyncCoreError(
                        .limitExceeded, "the gzip body expands past the limit of \(maxOutputBytes) bytes",
                        hint: "send smaller batches; a body that expands this much may be a zip bomb")
                }
                output.append(contentsOf: chunk[0..<produced])
                switch result {
                case Z_STREAM_END:
                    guard stream.avail_in == 0 else {
                        throw SyncCoreError(
                            .trailingData, "\(stream.avail_in) bytes follow the end of the gzip stream",
                            hint: "send exactly one gzip member as the body")
                    }
                    return output
                case Z_OK:
                    continue
                case Z_BUF_ERROR where stream.avail_in == 0:
                    throw SyncCoreError(
                        .truncated, "the gzip stream ends early, after \(inputBuffer.count) bytes",
                        hint: "the body was cut short in transit; resend it")
                case Z_BUF_ERROR:
                    continue
                default:
                    throw SyncCoreError(
                        .compressionFailed, "the body is not valid gzip data (zlib error \(result))",
                        hint: "compress the body with gzip and set Content-Encoding: gzip")
                }
            }
        }
    }
}
