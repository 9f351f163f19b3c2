#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// One agent per DMS database: an exclusive `flock` on `<database>.dealersync-agent.lock`,
/// held for the life of the process (the kernel releases it when the process dies, even on
/// kill -9). The holder's pid is written into the file so a second agent can name it.
public final class DatabaseLock: Sendable {
    public let path: String
    private let descriptor: Int32

    public init(databasePath: String) throws {
        path = databasePath + ".dealersync-agent.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw AgentError(
                code: .anotherAgent, message: "cannot open the agent lock file \(path): \(String(cString: strerror(errno)))",
                hint: "let the dealersync user write next to the DMS database (ReadWritePaths in the systemd unit)", retryable: false)
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = pread(fd, &buffer, buffer.count, 0)
            let holder = String(decoding: buffer.prefix(max(count, 0)), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            close(fd)
            throw AgentError(
                code: .anotherAgent,
                message: "another dealersync agent (pid \(holder.isEmpty ? "unknown" : holder)) already syncs \(databasePath)",
                hint: "stop it first (systemctl stop dealersync-agent), or run `dealersync status` to watch it", retryable: false)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.count, 0)
        descriptor = fd
    }

    deinit { close(descriptor) }
}
