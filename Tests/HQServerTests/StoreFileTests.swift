#if canImport(Glibc)
import Glibc
#endif
import Foundation
@testable import HQServer
import SyncTestSupport
import Testing

/// The HQ store holds every dealer's customers and the token hashes: only its owner reads it,
/// and a root `hq` command leaves it writable by the service user.
@Suite("HQ store file permissions")
struct StoreFileTests {
    static let isRoot = geteuid() == 0

    static func status(_ path: String) throws -> stat {
        var info = stat()
        guard stat(path, &info) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .ENOENT) }
        return info
    }

    // The umask is left alone: it is process-wide and other tests run in parallel.
    @Test("a new store file is created with mode 0600")
    func newFileIsPrivate() throws {
        let directory = TemporaryDirectory("store-file")
        let path = directory.file("hq.sqlite")
        try StoreFile.prepare(path: path)
        #expect(try Self.status(path).st_mode & 0o777 == 0o600)
    }

    @Test("an existing store file keeps its mode and content")
    func existingFileUntouched() throws {
        let directory = TemporaryDirectory("store-file-existing")
        let path = directory.file("hq.sqlite")
        #expect(FileManager.default.createFile(atPath: path, contents: Data("store".utf8), attributes: [.posixPermissions: 0o640]))
        try StoreFile.prepare(path: path)
        #expect(try Self.status(path).st_mode & 0o777 == 0o640)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "store")
    }

    @Test("a missing directory is named with what to try")
    func missingDirectory() throws {
        let directory = TemporaryDirectory("store-file-missing")
        let path = directory.file("absent/hq.sqlite")
        let error = try #require(throws: StoreError.self) { try StoreFile.prepare(path: path) }
        #expect(error.message.contains(path) && error.hint.contains("directory exists"), "\(error)")
    }

    // Needs SQLiteSyncStore.init(path:) to call StoreFile.prepare(path:) first.
    @Test("the store SQLite opens, with its -wal and -shm, is readable by its owner only")
    func openedStoreIsPrivate() throws {
        let directory = TemporaryDirectory("store-file-open")
        let path = directory.file("hq.sqlite")
        let store = try SQLiteSyncStore(path: path)
        for file in [path, path + "-wal", path + "-shm"] {
            #expect(try Self.status(file).st_mode & 0o777 == 0o600, "\(file)")
        }
        withExtendedLifetime(store) {}
    }

    @Test("as root, a new store in the service user's directory is owned by that user, -wal and -shm too", .enabled(if: isRoot))
    func rootCreatesForDirectoryOwner() throws {
        let directory = TemporaryDirectory("store-file-root")
        let serviceDirectory = directory.file("dealersync")
        try FileManager.default.createDirectory(atPath: serviceDirectory, withIntermediateDirectories: false)
        // nobody:nogroup stands in for the dealersync user.
        let (uid, gid): (uid_t, gid_t) = (65_534, 65_534)
        #expect(chown(serviceDirectory, uid, gid) == 0)
        let path = serviceDirectory + "/hq.sqlite"
        let store = try SQLiteSyncStore(path: path)
        for file in [path, path + "-wal", path + "-shm"] {
            let info = try Self.status(file)
            #expect(info.st_uid == uid && info.st_gid == gid && info.st_mode & 0o777 == 0o600, "\(file)")
        }
        withExtendedLifetime(store) {}
    }
}
