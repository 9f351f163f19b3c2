/// What one retention pass did (`SQLiteSyncStore.applyRetention`): counts only, never values.
public struct RetentionReport: Sendable, Codable, Equatable {
    /// The feed sequence up to which the feed now holds only current versions.
    public var feedHorizon: UInt64
    public var feedEntriesRemoved: Int
    public var tombstonesPurged: Int
    /// Deleted rows at or below the horizon still waiting for a store's pull.
    public var tombstonesWaiting: Int
    /// Holders rows of revoked dealers removed.
    public var revokedHoldersRemoved: Int
    /// Acknowledged batches older than the window forgotten (each dealer's newest stays).
    public var batchesRemoved: Int

    enum CodingKeys: String, CodingKey {
        case feedHorizon = "feed_horizon"
        case feedEntriesRemoved = "feed_entries_removed"
        case tombstonesPurged = "tombstones_purged"
        case tombstonesWaiting = "tombstones_waiting"
        case revokedHoldersRemoved = "revoked_holders_removed"
        case batchesRemoved = "batches_removed"
    }
}

/// Where retention stands, for status (`SQLiteSyncStore.retentionStatus`).
public struct RetentionStatus: Sendable, Codable, Equatable {
    /// `retention.feed_days` (0: the feed keeps everything).
    public var feedDays: Int
    /// At and below this sequence the feed holds only each row's current version.
    public var feedHorizon: UInt64
    /// HQ's time of the oldest change the feed still holds in full (nil: an empty feed).
    public var oldestFeedMillis: Int64?
    public var lastCompactionMillis: Int64?
    /// Deleted rows waiting for a store's pull before they can go.
    public var tombstones: Int
    /// The active dealers those rows wait for: a store that no longer syncs keeps them until
    /// it is revoked.
    public var tombstonesWaitingOn: [String]

    enum CodingKeys: String, CodingKey {
        case tombstones
        case feedDays = "feed_days"
        case feedHorizon = "feed_horizon"
        case oldestFeedMillis = "oldest_feed_ms"
        case lastCompactionMillis = "last_compaction_ms"
        case tombstonesWaitingOn = "tombstones_waiting_on"
    }
}
