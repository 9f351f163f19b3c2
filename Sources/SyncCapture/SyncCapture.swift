/// SyncCapture holds every SQL statement that dealersync runs on a dealer's DMS database:
/// the capture triggers, the change log, snapshots and the apply of remote row versions.
///
/// Filled by the [capture] issue; nothing here is wired into the command line yet.
public enum SyncCapture {}
