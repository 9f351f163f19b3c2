import Foundation
import SyncTestSupport

/// A private CA, a server certificate for 127.0.0.1/localhost and a client certificate,
/// made with the openssl command line in `directory` (EC keys: fast to generate).
struct TestCertificates {
    let caFile: String
    let serverCertificate: String
    let serverKey: String
    let clientCertificate: String
    let clientKey: String

    init(in directory: TemporaryDirectory) throws {
        let script = """
        set -e
        key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
        key ca.key
        openssl req -x509 -new -key ca.key -out ca.pem -days 2 -subj "/CN=dealersync test CA" \\
          -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
        sign() {
          key "$1.key"
          openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$2"
          printf '%s\\n' "basicConstraints=CA:FALSE" "extendedKeyUsage=$3" "subjectAltName=$4" > "$1.ext"
          openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -set_serial "$5" -days 2 \\
            -extfile "$1.ext" -out "$1.pem" 2>/dev/null
        }
        sign server 127.0.0.1 serverAuth "IP:127.0.0.1,DNS:localhost" 1001
        sign client DLR-TEST clientAuth "DNS:dlr-test.dealersync.invalid" 1002
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script]
        process.currentDirectoryURL = directory.url
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw OpenSSLFailed(status: process.terminationStatus) }
        caFile = directory.file("ca.pem")
        serverCertificate = directory.file("server.pem")
        serverKey = directory.file("server.key")
        clientCertificate = directory.file("client.pem")
        clientKey = directory.file("client.key")
    }

    struct OpenSSLFailed: Error { let status: Int32 }
}
