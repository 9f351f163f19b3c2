import CCurl
import CZlib
import Testing

/// The typed wrappers in the shim headers reach the real libraries.
@Suite("System library shims")
struct ShimTests {
    @Test("zlib is linked and new enough for gzip streams")
    func zlibIsLinked() {
        let version = String(cString: zlibVersion())
        #expect(version.hasPrefix("1."))
        var stream = z_stream()
        #expect(dealersync_inflate_init_gzip(&stream) == Z_OK)
        inflateEnd(&stream)
    }

    @Test("curl options of each wrapped type are accepted and read back")
    func curlOptions() throws {
        let handle = try #require(curl_easy_init())
        defer { curl_easy_cleanup(handle) }
        #expect(dealersync_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, 1500) == CURLE_OK)
        #expect(dealersync_curl_setopt_string(handle, CURLOPT_URL, "http://127.0.0.1:9/") == CURLE_OK)
        #expect(dealersync_curl_setopt_off_t(handle, CURLOPT_MAX_RECV_SPEED_LARGE, 1 << 20) == CURLE_OK)
        var headers: UnsafeMutablePointer<curl_slist>? = curl_slist_append(nil, "Expect:")
        defer { curl_slist_free_all(headers) }
        #expect(dealersync_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headers) == CURLE_OK)
        #expect(dealersync_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1) == CURLE_OK)
        // Port 9 (discard) is closed on loopback: the transfer fails fast with a connect error.
        let result = curl_easy_perform(handle)
        #expect(result == CURLE_COULDNT_CONNECT)
        var code: Int = -1
        #expect(dealersync_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK)
        #expect(code == 0)
        headers = nil
    }
}
