import Foundation
import SyncTestSupport
import Testing

/// scripts/package-deb (issue 21): what the package holds, with which modes, what its
/// maintainer scripts do on install, upgrade and removal, and lintian's verdict.
///
/// It packages the debug binary the test run built (`--allow-swift-runtime`): that checks the
/// packaging; the release package is built the same way from the static release binary.
@Suite("Debian package", .serialized)
struct PackageDebTests {
    static let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func sh(_ command: String, environment: [String: String] = [:]) async throws -> ProcessResult {
        try await ProcessRunner.run(URL(fileURLWithPath: "/bin/bash"), ["-c", command], environment: environment)
    }

    @Test("contents, modes, conffiles and dependencies; maintainer scripts on install, upgrade and removal; lintian has no errors")
    func package() async throws {
        let binary = try #require(ProcessRunner.dealersyncBinary, "swift build did not leave a dealersync binary")
        let output = TemporaryDirectory("package-deb")
        // Its deinit deletes the directory: keep it to the end, past its last mention.
        defer { withExtendedLifetime(output) {} }
        let built = try await Self.sh("\(Self.checkout.path)/scripts/package-deb --binary \(binary.path) --allow-swift-runtime --fast --output \(output.path)")
        #expect(built.status == 0, "\(built.stdout)\(built.stderr)")
        let deb = output.file("dealersync_0.1.0_\(try await Self.sh("dpkg --print-architecture").stdout.trimmingCharacters(in: .whitespacesAndNewlines)).deb")
        #expect(FileManager.default.fileExists(atPath: deb))

        // Contents and modes (`dpkg-deb -c`: mode, owner, size, date, time, path).
        let listing = try await Self.sh("dpkg-deb -c \(deb)").stdout
        var modes: [String: String] = [:]
        for line in listing.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6 else { continue }
            #expect(fields[1] == "root/root", "\(line)")
            modes[String(fields[5].dropFirst())] = String(fields[0])
        }
        let expected = [
            "/usr/bin/dealersync": "-rwxr-xr-x",
            "/lib/systemd/system/dealersync-agent.service": "-rw-r--r--",
            "/lib/systemd/system/dealersync-hq.service": "-rw-r--r--",
            "/etc/dealersync/agent.example.yaml": "-rw-r--r--",
            "/etc/dealersync/hq.example.yaml": "-rw-r--r--",
            "/etc/dealersync/schema.example.yaml": "-rw-r--r--",
            "/usr/share/dealersync/prometheus/dealersync-alerts.yml": "-rw-r--r--",
            "/usr/share/dealersync/grafana/dealersync-dashboard.json": "-rw-r--r--",
            "/usr/share/doc/dealersync/copyright": "-rw-r--r--",
            "/usr/share/doc/dealersync/changelog.gz": "-rw-r--r--",
            "/usr/share/doc/dealersync/docs/ROLLOUT.md": "-rw-r--r--",
        ]
        for (path, mode) in expected { #expect(modes[path] == mode, "\(path): \(modes[path] ?? "missing")") }
        // No real config, credential or state ships: those are the operator's and survive upgrades.
        #expect(!modes.keys.contains { $0.hasPrefix("/var/") || $0.hasPrefix("/etc/dealersync/credentials") || $0 == "/etc/dealersync/agent.yaml" })

        let unpacked = output.file("unpacked")
        #expect(try await Self.sh("dpkg-deb -R \(deb) \(unpacked)").status == 0)
        let conffiles = try String(contentsOfFile: unpacked + "/DEBIAN/conffiles", encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(conffiles == ["/etc/dealersync/agent.example.yaml", "/etc/dealersync/hq.example.yaml", "/etc/dealersync/schema.example.yaml"])
        let control = try String(contentsOfFile: unpacked + "/DEBIAN/control", encoding: .utf8)
        for dependency in ["libcurl4", "libsqlite3-0", "zlib1g", "libc6", "adduser"] { #expect(control.contains(dependency), "Depends: \(dependency)") }
        let unit = try String(contentsOfFile: unpacked + "/lib/systemd/system/dealersync-agent.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/bin/dealersync agent run") && !unit.contains("/usr/local/"))

        // The maintainer scripts, run against a directory of their own (DPKG_ROOT) with the
        // commands they call recorded instead of run.
        let root = output.file("root")
        let stubs = output.file("stubs")
        try FileManager.default.createDirectory(atPath: root + "/run/systemd/system", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: stubs, withIntermediateDirectories: true)
        let calls = output.file("calls")
        // The stubs' text is written here, and the executables are made by a child process:
        // a file this (busily spawning) test process had open for writing could be held by a
        // child another test forked meanwhile, and executing it then fails with ETXTBSY
        // ("text file busy"): a fresh-clone CI run lost the first `systemctl` call that way.
        let sources = output.file("stub-sources")
        try FileManager.default.createDirectory(atPath: sources, withIntermediateDirectories: true)
        for command in ["systemctl", "adduser", "getent", "chown"] {
            try "#!/bin/sh\necho \"\(command) $*\" >> \(calls)\n\(command == "getent" ? "exit 2" : "exit 0")\n".write(toFile: "\(sources)/\(command)", atomically: true, encoding: .utf8)
        }
        // `install -o dealersync` needs the user, which the stubbed adduser did not create.
        try "#!/bin/sh\nwhile [ $# -gt 1 ]; do case \"$1\" in -o|-g|-m) shift 2;; -d) shift;; *) break;; esac; done\nmkdir -p \"$1\"\necho \"install $1\" >> \(calls)\n"
            .write(toFile: "\(sources)/install", atomically: true, encoding: .utf8)
        #expect(try await Self.sh("cp \(sources)/* \(stubs)/ && chmod 0755 \(stubs)/*").status == 0)
        let environment = ["DPKG_ROOT": root, "PATH": "\(stubs):/usr/bin:/bin"]
        func script(_ name: String, _ arguments: String) async throws -> [String] {
            try? FileManager.default.removeItem(atPath: calls)
            for command in ["systemctl", "adduser", "getent", "chown", "install"] {
                try #require(FileManager.default.isExecutableFile(atPath: "\(stubs)/\(command)"), "stub \(command) is missing")
            }
            let result = try await Self.sh("sh \(unpacked)/DEBIAN/\(name) \(arguments)", environment: environment)
            #expect(result.status == 0, "\(name) \(arguments): \(result.stderr)")
            return ((try? String(contentsOfFile: calls, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        let install = try await script("postinst", "configure")
        #expect(install.contains { $0.hasPrefix("adduser --system --group") && $0.hasSuffix(" dealersync") })
        #expect(install.contains("install \(root)/etc/dealersync/credentials") && install.contains("install \(root)/var/lib/dealersync"))
        #expect(install.contains("chown dealersync:dealersync \(root)/var/lib/dealersync"))
        #expect(install.contains("systemctl --system daemon-reload"), "\(install)")
        #expect(!install.contains { $0.contains("restart") }, "a first install starts nothing: \(install)")
        let upgrade = try await script("postinst", "configure 0.0.9")
        #expect(upgrade.contains("systemctl try-restart dealersync-agent.service dealersync-hq.service"), "\(upgrade)")
        #expect(try await script("prerm", "upgrade 0.1.1").isEmpty, "an upgrade stops nothing: postinst restarts")
        #expect(try await script("prerm", "remove").contains("systemctl stop dealersync-agent.service dealersync-hq.service"))
        try FileManager.default.createDirectory(atPath: root + "/etc/dealersync/credentials", withIntermediateDirectories: true)
        try "token".write(toFile: root + "/etc/dealersync/credentials/hq-token", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: root + "/var/lib/dealersync", withIntermediateDirectories: true)
        try "state".write(toFile: root + "/var/lib/dealersync/hq.sqlite", atomically: true, encoding: .utf8)
        _ = try await script("postrm", "remove")
        #expect(FileManager.default.fileExists(atPath: root + "/etc/dealersync/credentials/hq-token"), "remove keeps configuration")
        _ = try await script("postrm", "purge")
        #expect(!FileManager.default.fileExists(atPath: root + "/etc/dealersync/credentials"), "purge removes tokens")
        #expect(FileManager.default.fileExists(atPath: root + "/var/lib/dealersync/hq.sqlite"), "purge never deletes synced data")

        let lintian = try await Self.sh("lintian --allow-root --no-tag-display-limit \(deb)")
        let errors = (lintian.stdout + lintian.stderr).split(separator: "\n").filter { $0.hasPrefix("E:") }
        #expect(errors.isEmpty, "lintian: \(errors)")
        #expect(lintian.status == 0, "lintian exit \(lintian.status): \(lintian.stdout)\(lintian.stderr)")
    }
}
