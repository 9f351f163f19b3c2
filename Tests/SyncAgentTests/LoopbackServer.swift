import Dispatch
import Foundation
import Glibc
import SyncTestSupport

/// A throwaway server on 127.0.0.1 in a python3 subprocess, killed by `stop()` or deinit.
///
/// The script binds port 0 and prints `READY <port>` once it accepts connections, so tests
/// wait for that line instead of sleeping. Modes:
/// - `http`: HTTP/1.1 keep-alive; echoes the request body and reports in `X-` headers what
///   it saw (method, Expect, Content-Encoding, Content-Type, body SHA-256, client port).
/// - `https CERT KEY [CLIENT_CA [tls1.2]]`: the same over TLS; with CLIENT_CA, a client
///   certificate signed by it is required; `tls1.2` caps the protocol version.
/// - `silent`: accepts connections and never answers.
/// - `proxy`: a forward proxy for plain HTTP that adds `X-Via-Proxy: yes`.
final class LoopbackServer: @unchecked Sendable {
    let port: Int
    private let process: Process
    /// The server exits when this pipe closes, so it dies with a crashed or killed test run.
    private let input: Pipe

    init(_ arguments: [String], in directory: TemporaryDirectory) async throws {
        let script = directory.file("loopback_server.py")
        try Self.script.write(toFile: script, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", script] + arguments
        let output = Pipe()
        let input = Pipe()
        process.standardOutput = output
        process.standardInput = input
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        self.input = input

        // Read on a dispatch thread with poll(2) and a deadline, so a starved cooperative
        // pool (other suites busy on both cores) cannot make a ready server look hung.
        let fd = output.fileHandleForReading.fileDescriptor
        let line: String? = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: Self.readLine(fd, deadline: .now() + .seconds(30)))
            }
        }
        guard let line, line.hasPrefix("READY "), let port = Int(line.dropFirst(6)) else {
            Self.kill(process)
            process.waitUntilExit()
            throw ServerDidNotStart(output: line ?? "")
        }
        self.port = port
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var tlsURL: String { "https://127.0.0.1:\(port)" }

    func stop() {
        Self.kill(process)
        process.waitUntilExit()
    }

    /// The first line of output, or nil at end of file or when the deadline passes.
    private static func readLine(_ fd: Int32, deadline: DispatchTime) -> String? {
        var bytes: [UInt8] = []
        while DispatchTime.now() < deadline {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 100) >= 0 else { return nil }
            if entry.revents == 0 { continue }
            var byte: UInt8 = 0
            guard read(fd, &byte, 1) == 1 else { return nil }
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
        return nil
    }

    /// SIGKILL: a child spawned from a dispatch thread inherits its blocked signal mask, so
    /// `terminate()` (SIGTERM) may never arrive.
    private static func kill(_ process: Process) {
        if process.isRunning { _ = Glibc.kill(process.processIdentifier, SIGKILL) }
    }

    deinit { stop() }

    struct ServerDidNotStart: Error { let output: String }

    private static let script = #"""
import hashlib, http.server, os, signal, socket, ssl, sys, threading

# Inherited from the test runner's thread: without this, SIGTERM and SIGINT stay blocked.
signal.pthread_sigmask(signal.SIG_UNBLOCK, signal.valid_signals())

def exit_when_parent_goes():
    sys.stdin.buffer.read()
    os._exit(0)

threading.Thread(target=exit_when_parent_goes, daemon=True).start()

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, body, seen):
        self.send_response(201)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Method", self.command)
        self.send_header("X-Client-Port", str(self.client_address[1]))
        self.send_header("X-Expect", self.headers.get("Expect", "absent"))
        self.send_header("X-Content-Encoding", self.headers.get("Content-Encoding", "absent"))
        self.send_header("X-Content-Type", self.headers.get("Content-Type", "absent"))
        self.send_header("X-Body-SHA256", hashlib.sha256(seen).hexdigest())
        self.send_header("X-Twice", "first")
        self.send_header("X-Twice", "second")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_POST(self):
        data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.reply(data, data)

    do_PUT = do_POST

    def do_GET(self):
        self.reply(b"hello from the loopback server", b"")

    do_HEAD = do_GET

class Proxy(http.server.BaseHTTPRequestHandler):
    """A forward proxy for plain HTTP: relays absolute-URI requests and marks the answer."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def relay(self):
        import http.client, urllib.parse
        target = urllib.parse.urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "connection")}
        upstream.request(self.command, target.path or "/", body=body, headers=headers)
        answer = upstream.getresponse()
        data = answer.read()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("connection", "transfer-encoding", "content-length"):
                self.send_header(name, value)
        self.send_header("X-Via-Proxy", "yes")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = relay

mode = sys.argv[1]
if mode == "silent":
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    print("READY %d" % listener.getsockname()[1], flush=True)
    held = []
    while True:
        connection, _ = listener.accept()
        held.append(connection)

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy if mode == "proxy" else Handler)
server.daemon_threads = True
if mode == "https":
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[2], sys.argv[3])
    if len(sys.argv) > 4:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(sys.argv[4])
    if len(sys.argv) > 5 and sys.argv[5] == "tls1.2":
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    server.socket = context.wrap_socket(server.socket, server_side=True)
print("READY %d" % server.server_address[1], flush=True)
server.serve_forever()
"""#
}
