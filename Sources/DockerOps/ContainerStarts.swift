#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Planner

extension ConnectwareHost {
    /// When a core container of `project` was last started (Docker's `State.StartedAt`,
    /// kept while it is stopped); nil when none ever was. A volume snapshot taken before
    /// that moment may be older than what the volumes hold.
    public func lastStart(project: String) throws(DockerOpsError) -> Date? {
        let summaries = try engine.decode(
            [ContainerSummary].self, .get, "/containers/json",
            query: [
                "all": "1",
                "filters": Engine.filters([
                    "label": [connectwareCoreLabel, ComposeLabel.project + "=" + project]
                ]),
            ])
        var latest: Date?
        for summary in summaries {
            let details = try engine.decode(ContainerDetails.self, .get, "/containers/\(summary.id)/json")
            // Docker writes 0001-01-01T00:00:00Z for a container that never started.
            guard let text = details.state?.startedAt, !text.hasPrefix("0001-"), let date = Timestamp.parse(text)
            else { continue }
            if latest.map({ date > $0 }) ?? true { latest = date }
        }
        return latest
    }
}
