/// This build's release, as `dealersync --version` prints it and agents report it to HQ.
public enum DealersyncRelease {
    public static let version = "0.1.0"
}
