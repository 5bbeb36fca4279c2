/// How Connectware is installed.
public enum InstallationKind: String, Sendable, Codable, CaseIterable {
    case dockerCompose = "docker-compose"
    case kubernetes
}
