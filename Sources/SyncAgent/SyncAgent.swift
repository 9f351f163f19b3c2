/// SyncAgent is the dealership daemon: the service loop, retry policy, libcurl transport,
/// local state and status. Filled by the [agent] issue; nothing here is wired into the
/// command line yet.
public enum SyncAgent {}
