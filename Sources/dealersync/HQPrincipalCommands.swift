import ArgumentParser
import Foundation
import HQServer
import SyncCore

/// `dealersync hq add-dealer ID [--name N]`: issues a node id and prints its token once.
struct HQAddDealerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add-dealer", abstract: "Add a dealer and print its token (shown once; HQ keeps only its hash).")

    @Argument(help: "The dealer's node id, e.g. DLR-0421 (letters, digits, '.', '_', '-').")
    var id: String
    @Option(help: "A readable name for the dealership.")
    var name: String?
    @Option(help: "The group it joins (see `hq group`); default: the group named default.")
    var group: String?
    @OptionGroup var options: HQOptions

    func run() async throws {
        try await reportingErrors {
            let store = try SQLiteSyncStore(path: try await options.storePath())
            if let group, try await !store.groups(hqVersion: nil).contains(where: { $0.name == group }) {
                throw CommandError("no group is named \(group)", hint: "create it first with `dealersync hq group add \(group)`")
            }
            try await addPrincipal(id: id, name: name, kind: .dealer, options: options)
            if let group, group != DealerGroup.defaultName {
                try await store.moveDealers([id], to: group)
                print("in group \(group)")
            }
        }
    }
}

/// `dealersync hq revoke-dealer ID`: the token stops working at once; the id is never reissued.
struct HQRevokeDealerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke-dealer", abstract: "Revoke a dealer's (or reader's) token for good.")

    @Argument(help: "The id to revoke.")
    var id: String
    @OptionGroup var options: HQOptions

    func run() async throws {
        try await reportingErrors {
            let store = try SQLiteSyncStore(path: try await options.storePath())
            try await store.revokePrincipal(id: id)
            print("revoked \(id)")
        }
    }
}

/// `dealersync hq add-reader NAME [--writer]`: a token for an HQ system reading the feed,
/// or with `--writer` also writing through `POST /v1/hq/changes`.
struct HQAddReaderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add-reader", abstract: "Add a feed reader (or HQ writer) and print its token once.")

    @Argument(help: "A name for the HQ system, e.g. crm-export.")
    var name: String
    @Flag(help: "Allow writing as HQ (POST /v1/hq/changes) as well as reading.")
    var writer = false
    @OptionGroup var options: HQOptions

    func run() async throws {
        try await reportingErrors {
            try await addPrincipal(id: name, name: nil, kind: writer ? .writer : .reader, options: options)
        }
    }
}

private func addPrincipal(id: String, name: String?, kind: PrincipalKind, options: HQOptions) async throws {
    guard (try? NodeID(id)) != nil, id != NodeID.hq.rawValue else {
        throw CommandError("'\(id)' is not a usable id", hint: "use 1-64 letters, digits, '.', '_' or '-', not 'hq'; e.g. DLR-0421")
    }
    let store = try SQLiteSyncStore(path: try await options.storePath())
    let token = Tokens.generate()
    try await store.addPrincipal(
        NewPrincipal(id: id, name: name, kind: kind, tokenSHA256: Tokens.sha256(of: token), createdAtMillis: Int64(Date().timeIntervalSince1970 * 1000)))
    print("added \(kind.rawValue) \(id)")
    print("token: \(token)")
    print("This token is shown once; HQ keeps only its hash. Store it now (agent: token file or systemd LoadCredential).")
}
