/// The release this tree is (semantic versioning; raised when a release is cut), beside the
/// commit `BuildInfoPlugin` records in `BuildInfo` at build time.
public enum Release {
    public static let version = "0.11.0"

    /// "0.11.0 (commit 9ffb2ef…)", with "+modified" when built from a tree with uncommitted changes.
    public static var description: String {
        "\(version) (commit \(BuildInfo.commit)\(BuildInfo.modified ? "+modified" : ""))"
    }
}
