#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The HQ store's main file, created before SQLite opens it. SQLite would create it with
/// 0644 less the umask, readable by every local account, and, when `dealersync hq add-dealer`
/// runs as root, owned by root, so the service user (`dealersync`) could not write it after.
///
/// Only the main file needs this: SQLite creates `-wal` and `-shm` with the main file's mode
/// and, when running as root, chowns them to the main file's owner.
enum StoreFile {
    /// Creates the file at `path` if it does not exist: mode 0600 and, when this process is
    /// root and the store's directory belongs to another user, owned by that directory's
    /// owner and group. An existing store is left exactly as it is.
    static func prepare(path: String) throws {
        // In-memory and URI paths are SQLite's to interpret; there is no file to prepare.
        guard !path.isEmpty, path != ":memory:", !path.hasPrefix("file:") else { return }
        // O_EXCL: never change the mode or owner of a store someone already runs.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 {
            if errno == EEXIST { return }
            throw StoreError(
                kind: .corrupt, message: "cannot create the HQ store at \(path): \(String(cString: strerror(errno)))",
                hint: "check that the directory exists and that this user may write to it (the service runs as dealersync)")
        }
        defer { close(fd) }
        // The umask may have taken bits off 0600 (e.g. 0277 leaves 0400, which SQLite cannot
        // write); set the mode exactly.
        guard fchmod(fd, 0o600) == 0 else {
            throw StoreError(
                kind: .corrupt, message: "cannot set mode 0600 on the new HQ store \(path): \(String(cString: strerror(errno)))",
                hint: "check the file system allows permission changes, or create the file with `install -m 600` first")
        }
        guard geteuid() == 0 else { return }
        var directory = stat()
        guard stat(URL(fileURLWithPath: path).deletingLastPathComponent().path, &directory) == 0, directory.st_uid != 0 else { return }
        guard fchown(fd, directory.st_uid, directory.st_gid) == 0 else {
            throw StoreError(
                kind: .corrupt,
                message: "cannot give the new HQ store \(path) to the owner of its directory (uid \(directory.st_uid)): \(String(cString: strerror(errno)))",
                hint: "run the command as the service user instead: sudo -u dealersync dealersync hq …")
        }
    }
}
