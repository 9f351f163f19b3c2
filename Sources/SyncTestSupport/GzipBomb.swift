import CZlib

/// Builds hostile gzip bodies for limit tests without holding their expansion in memory.
public enum GzipBomb {
    /// A gzip stream that expands to `expandedBytes` zero bytes, compressed by streaming a
    /// 1 MiB zero buffer through deflate (1 GiB of zeros becomes about 1 MB).
    public static func zeros(expandedBytes: Int) -> [UInt8] {
        var stream = z_stream()
        precondition(dealersync_deflate_init_gzip(&stream, 9) == Z_OK)
        defer { deflateEnd(&stream) }
        var zeros = [UInt8](repeating: 0, count: 1 << 20)
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var output: [UInt8] = []
        var remaining = expandedBytes
        zeros.withUnsafeMutableBufferPointer { zeroBuffer in
            repeat {
                let feed = min(remaining, zeroBuffer.count)
                remaining -= feed
                stream.next_in = zeroBuffer.baseAddress
                stream.avail_in = uInt(feed)
                let flush = remaining == 0 ? Z_FINISH : Z_NO_FLUSH
                var result: Int32
                repeat {
                    result = chunk.withUnsafeMutableBufferPointer { out in
                        stream.next_out = out.baseAddress
                        stream.avail_out = uInt(out.count)
                        let status = deflate(&stream, flush)
                        output.append(contentsOf: out[0..<(out.count - Int(stream.avail_out))])
                        return status
                    }
                } while stream.avail_out == 0 || (flush == Z_FINISH && result != Z_STREAM_END)
            } while remaining > 0
        }
        return output
    }
}
