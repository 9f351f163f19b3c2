/// The keys of `_dealersync_meta`, the agent's own key/value state in the DMS file: one list,
/// so a key is never spelt two ways.
enum MetaKey: String {
    // Set up by `init`.
    case node, schema
    case schemaVersion = "schema_version"
    // The write counter and the hybrid logical clock, saved with every stamp.
    case counter
    case hlcLast = "hlc_last"
    case hlcOffset = "hlc_offset"
    case hlcOffsetMeasuredAt = "hlc_offset_measured_at"
    // Pulling: where the next pull starts, and an erasure's scrub still to run.
    case pullCursor = "pull_cursor"
    case scrubPending = "scrub_pending"
    // Recovery after the DMS file was restored from a backup.
    case recovery
    case lastRecovery = "last_recovery"
    // The DMS's schema cookie, to notice a migration between checks; the shape last reported to HQ.
    case dmsSchemaCookie = "dms_schema_cookie"
    case shapeReportedSHA256 = "shape_reported_sha256"
    // What the agent writes for `dealersync status`.
    case hqURL = "hq_url"
    case lastPushAt = "last_push_at"
    case lastPullAt = "last_pull_at"
    case lastError = "last_error"
    case lastErrorHint = "last_error_hint"
    case lastErrorAt = "last_error_at"
}
