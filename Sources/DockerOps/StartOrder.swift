#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
import YAML

/// The order in which compose starts an installation's services, read from the installation
/// itself (versions differ: `doc-server` and `broker` come and go), never from a fixed list.
enum StartOrder {
    /// The compose file of a project: the first of compose's `config_files` label (relative
    /// names are in the working directory), else `docker-compose.yml` there, as the vendor's
    /// installer names it; nil when neither label says where the project lives.
    static func composeFile(workingDirectory: String?, configFiles: String?) -> String? {
        if let first = configFiles?.split(separator: ",").first.map(String.init), !first.isEmpty {
            if first.hasPrefix("/") { return first }
            if let workingDirectory { return workingDirectory + "/" + first }
        }
        return workingDirectory.map { $0 + "/docker-compose.yml" }
    }

    /// Every service of a compose file after the services it `depends_on` (a list, or a
    /// mapping of service to condition): what others depend on as early as it can be, so in
    /// reverse it stops as late as it can (PostgreSQL last); ties by name. A dependency cycle
    /// or one on a service the file lacks does not stop the order. Nil without `services`.
    static func fromComposeFile(_ text: String) -> [String]? {
        guard let root = try? composeYAML(text), let services = root["services"]?.mapping else {
            return nil
        }
        var dependants: [String: Set<String>] = [:]
        var known = Set<String>()
        for (key, value) in services {
            guard let service = key.string else { continue }
            known.insert(service)
            var needs: [String] = []
            if let list = value["depends_on"]?.sequence {
                needs = list.compactMap(\.string)
            } else if let map = value["depends_on"]?.mapping {
                needs = map.keys.compactMap(\.string)
            }
            for need in needs { dependants[need, default: []].insert(service) }
        }
        // The stop order first: a service stops once everything depending on it has.
        var stops: [String] = []
        var stopped = Set<String>()
        while stopped.count < known.count {
            let rest = known.subtracting(stopped)
            let ready = rest.filter { dependants[$0, default: []].intersection(known).isSubset(of: stopped) }
            // A cycle: one of it, so every service still has a place.
            let batch = ready.isEmpty ? [rest.sorted().last!] : ready.sorted(by: >)
            stops += batch
            stopped.formUnion(batch)
        }
        return stops.reversed()
    }

    /// The services by when their containers last started, earliest first (compose starts what
    /// others depend on first); containers that never ran come first, ties by name.
    static func byStartTimes(_ containers: [CoreContainer]) -> [String] {
        var order: [String] = []
        for container in containers.sorted(by: { ($0.startedAt ?? "", $0.service) < ($1.startedAt ?? "", $1.service) })
        where !order.contains(container.service) {
            order.append(container.service)
        }
        return order
    }
}
