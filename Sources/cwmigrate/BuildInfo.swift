/// What `scripts/package` bakes into a release build. This committed copy is the
/// development default, so a plain `swift build` compiles and says it is not a release.
enum BuildInfo {
    static let version = "0.1.0-dev"
    static let commit = "unknown"
}
