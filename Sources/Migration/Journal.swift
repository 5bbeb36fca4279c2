import ArchiveInspect
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

/// Which installation a run is for. Two runs with the same `lockKey` must never proceed at once.
public struct InstallationRef: Sendable, Codable, Equatable, Hashable, CustomStringConvertible {
    public var kind: InstallationKind
    /// The compose project (or, for Kubernetes, `namespace/release`).
    public var name: String
    /// The compose project's directory, when known.
    public var directory: String?

    public init(kind: InstallationKind = .dockerCompose, name: String, directory: String? = nil) {
        self.kind = kind
        self.name = name
        self.directory = directory
    }

    public var description: String {
        directory.map { "\(name) (\($0))" } ?? name
    }

    /// A file-name-safe key: readable, and unique per kind, name and directory.
    public var lockKey: String {
        let readable = String(
            name.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") ? $0 : "-" }.prefix(40))
        let hasher = SHA256Hasher()
        hasher.update(Array("\(kind.rawValue)\u{0}\(name)\u{0}\(directory ?? "")".utf8))
        return "\(kind.rawValue)-\(readable)-\(hasher.finalize().prefix(12))"
    }
}

/// Where one step of a run stands.
public enum StepState: String, Sendable, Codable, CaseIterable {
    case pending, running, done, failed, skipped
    /// Stopped for the operator, not failed: Connectware refused the step's credentials.
    /// A resume checks (as after an interruption) whether the step is done, else does it again.
    case paused

    /// Whether the walk moves past this step.
    public var isSettled: Bool { self == .done || self == .skipped }
}

/// One step of the plan as the run saw it, at its position in the plan (the plan has
/// `wait-healthy` twice, so the step's id alone does not name it).
public struct StepRecord: Sendable, Codable, Equatable {
    public let position: Int
    /// The plan step's id, e.g. `fresh-backup`.
    public let kind: StepKind
    public var state: StepState
    public var startedAt: Date?
    public var endedAt: Date?
    /// What happened, in one line for the operator.
    public var message: String?
    /// How often the step was begun (a resumed or retried step is begun again).
    public var attempts: Int
    /// CPU seconds cwmigrate's own process spent in the step's last attempt: its own work, as
    /// against waiting for Connectware, Docker, the installer or the network. Nil when the
    /// attempt was not measured (begun by a process that was killed, or an older journal).
    public var cpuSeconds: Double?
    /// The backup or restore this step asked Connectware for, so that a resumed run adopts it.
    public var operation: ServerOperation?

    public init(position: Int, kind: StepKind) {
        self.position = position
        self.kind = kind
        self.state = .pending
        self.attempts = 0
    }
}

/// A backup or restore a step asked Connectware for: written before the request (when,
/// and the server's record of that kind before it, which tells the new one from older
/// ones without comparing clocks) and again with what the server answered. A run resumed
/// after a crash finds the operation by it, waits for it and uses its result.
public struct ServerOperation: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable { case backup, restore }

    public var kind: Kind
    /// cwmigrate's clock when the step made the request.
    public var requestedAt: Date
    /// The server's record of this kind before the request (id and start date as sent).
    public var previousID: String?
    public var previousStartDate: String?
    /// What the server answered to the request (`202 Accepted`, or the error), once known.
    public var answer: String?
    /// The operation's id and start date as the server reported them after the request.
    public var id: String?
    public var startDate: String?
    /// When a resumed run took this operation over instead of starting another.
    public var adoptedAt: Date?

    public init(kind: Kind, requestedAt: Date, previousID: String?, previousStartDate: String?) {
        self.kind = kind
        self.requestedAt = requestedAt
        self.previousID = previousID
        self.previousStartDate = previousStartDate
    }
}

/// A file a run made and depends on: the way back, or the proof of the result.
public struct Artifact: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case freshBackup = "fresh-backup"
        case volumeSnapshot = "volume-snapshot"
        case reBackup = "re-backup"
        /// A file of the compose project (`detail`: `docker-compose.yml` or `.env`) as it was
        /// before the first install, kept 0600 for the rollback to put back.
        case installationFile = "installation-file"
        /// The Docker names of the project's volumes when the run snapshotted them, one a
        /// line: a rollback removes a volume of the project not in it (an install made it).
        case projectVolumes = "project-volumes"
        /// The running version's images as `docker save` writes them (`detail`: their names,
        /// comma-separated), made before an install that deletes them: a rollback loads them
        /// when they are gone, and needs no registry.
        case savedImages = "saved-images"
    }

    public var kind: Kind
    public var path: String
    public var sha256: String
    public var bytes: Int64
    /// The position of the step that made it.
    public var step: Int
    /// The backup id, the snapshotted volume's name, or the installation file's name.
    public var detail: String?

    public init(kind: Kind, path: String, sha256: String, bytes: Int64, step: Int, detail: String? = nil) {
        self.kind = kind
        self.path = path
        self.sha256 = sha256
        self.bytes = bytes
        self.step = step
        self.detail = detail
    }
}

/// How a run ended, or that it has not.
public enum RunOutcome: String, Sendable, Codable, CaseIterable {
    case inProgress = "in-progress"
    case completed, failed, abandoned
    case rolledBack = "rolled-back"

    /// Whether the run is over for good: it can be neither resumed nor abandoned.
    public var isFinal: Bool { self == .completed || self == .abandoned || self == .rolledBack }
}

/// The backup file a run restores, as inspected when the run was created.
public struct BackupRecord: Sendable, Codable, Equatable {
    /// The file the run uploads: its own copy in the run's directory (`original` is where
    /// the operator's file was), so the file cannot change between hashing and upload.
    public var path: String
    public var version: Version
    public var id: BackupID?
    public var sha256: String?
    /// The operator's file the copy at `path` was made from.
    public var original: String?

    public init(path: String, version: Version, id: BackupID?, sha256: String?, original: String? = nil) {
        self.path = path
        self.version = version
        self.id = id
        self.sha256 = sha256
        self.original = original
    }
}

/// The machine a run belongs to: its host name and its Docker Engine's ID (`/info` → `ID`).
/// A journal in a state directory that several hosts share is acted on only where it began.
public struct RunHost: Sendable, Codable, Equatable, CustomStringConvertible {
    public var hostName: String
    public var dockerEngineID: String?

    public init(hostName: String, dockerEngineID: String?) {
        self.hostName = hostName
        self.dockerEngineID = dockerEngineID
    }

    /// This machine's host name (uname's nodename).
    public static func currentHostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether `other` is the same machine: the same host name, and the same engine where both know it.
    public func isSame(as other: RunHost) -> Bool {
        guard hostName == other.hostName else { return false }
        guard let mine = dockerEngineID, let theirs = other.dockerEngineID else { return true }
        return mine == theirs
    }

    public var description: String {
        "host \(hostName)" + (dockerEngineID.map { ", Docker Engine \($0)" } ?? "")
    }
}

/// The checks a run passed (or failed) before its first destructive step, in this attempt.
public struct PrecheckRecord: Sendable, Codable, Equatable {
    public var at: Date
    public var checks: [CheckResult]

    public init(at: Date, checks: [CheckResult]) {
        self.at = at
        self.checks = checks
    }

    public var passed: Bool { !checks.isEmpty && checks.allSatisfy { $0.status == .pass } }
    public var failed: [CheckResult] { checks.filter { $0.status != .pass } }
}

/// Everything a migration run knows about itself: the plan, each step's state, the
/// artifacts, and the outcome. It is written to disk before and after every step, so a
/// run killed at any point can be resumed or explicitly abandoned. It never holds a
/// secret: nothing in it comes from the environment or the credentials.
public struct Journal: Sendable, Codable, Equatable {
    public static let currentFormat = "cwmigrate-journal/1"

    public var format: String
    public let id: String
    public let createdAt: Date
    public var updatedAt: Date
    public let installation: InstallationRef
    public let backup: BackupRecord
    /// The plan being carried out; replaced once when a restore at the running version is
    /// refused and the server's message makes a downgrade plan (`earlierPlans` keeps the first).
    public private(set) var plan: Plan
    public var steps: [StepRecord]
    public var artifacts: [Artifact]
    public var outcome: RunOutcome
    /// Why the run ended as it did (a failed step's message, the reason to abandon it).
    public var outcomeMessage: String?
    public var endedAt: Date?
    /// Plans given up for a new one, with how far each got and why it was replaced.
    public var earlierPlans: [EarlierPlan]?
    /// CPU seconds cwmigrate's own processes spent on the run (those that ended normally).
    public var cpuSeconds: Double?
    /// What `cwmigrate rollback` did, once it began. From then on the run can only be
    /// rolled back (again) or abandoned: it is never resumed.
    public var rollback: RollbackRecord?
    /// Where the run began; nil in journals written before cwmigrate recorded it.
    public var host: RunHost?
    /// The prechecks of the current attempt, cleared whenever a run (re)starts before its
    /// shutdown: the shutdown acts only on checks that passed in the same attempt.
    public var prechecks: PrecheckRecord?

    /// A new run at `now`, every step pending.
    public init(
        id: String, createdAt now: Date, installation: InstallationRef, backup: BackupRecord, plan: Plan
    ) {
        self.format = Self.currentFormat
        self.id = id
        self.createdAt = now
        self.updatedAt = now
        self.installation = installation
        self.backup = backup
        self.plan = plan
        self.steps = plan.steps.enumerated().map { StepRecord(position: $0.offset, kind: $0.element.id) }
        self.artifacts = []
        self.outcome = .inProgress
    }

    /// A run id: the UTC time to the second (so ids sort by time), then six hex digits.
    public static func makeID(at date: Date, using generator: inout some RandomNumberGenerator) -> String {
        let suffix = String(UInt32.random(in: 0...0xFF_FFFF, using: &generator), radix: 16)
        return Timestamp.format(date, .compact) + "-" + String(repeating: "0", count: 6 - suffix.count) + suffix
    }

    /// A run id from the system's random source.
    public static func makeID(at date: Date) -> String {
        var generator = SystemRandomNumberGenerator()
        return makeID(at: date, using: &generator)
    }

    /// Whether `text` has the form of a run id; anything else never becomes a file name.
    public static func isValidID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 23 else { return false }
        func digits(_ range: Range<Int>) -> Bool { bytes[range].allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
        let hex = bytes[17...].allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
        return digits(0..<8) && bytes[8] == UInt8(ascii: "T") && digits(9..<15) && bytes[15] == UInt8(ascii: "Z")
            && bytes[16] == UInt8(ascii: "-") && hex
    }

    /// The first step that is not done or skipped; nil when every step is.
    public var currentStep: StepRecord? { steps.first { !$0.state.isSettled } }

    /// The plan's step at `position`.
    public func planStep(_ position: Int) -> Step { plan.steps[position] }

    // MARK: - Transitions (pure: the time comes in)

    /// Marks the step running; a failed or interrupted step may be begun again.
    public mutating func begin(_ position: Int, at now: Date) throws(MigrationError) {
        try requireOpen()
        try requireNoRollback()
        try requirePosition(position)
        guard !steps[position].state.isSettled else {
            throw .invalidTransition(
                run: id, position: position, kind: steps[position].kind, from: steps[position].state, to: .running)
        }
        steps[position].state = .running
        steps[position].startedAt = now
        steps[position].endedAt = nil
        steps[position].message = nil
        steps[position].cpuSeconds = nil
        steps[position].attempts += 1
        outcome = .inProgress
        outcomeMessage = nil
        updatedAt = now
    }

    /// Marks a running step (or a paused one that began) done with what it found.
    public mutating func finish(_ position: Int, at now: Date, message: String?) throws(MigrationError) {
        try settle(position, as: .done, at: now, message: message)
    }

    /// Marks a step failed and the run with it; the run can be resumed or abandoned. A step
    /// that failed its preconditions fails without having started.
    public mutating func fail(_ position: Int, at now: Date, message: String) throws(MigrationError) {
        try halt(position, as: .failed, at: now, message: message)
        outcome = .failed
        let prefix = "step \(position + 1) \(steps[position].kind)"
        outcomeMessage = message.hasPrefix(prefix) ? message : prefix + ": " + message
        endedAt = now
    }

    /// Marks the step at `position` paused, begun or not, and the run with it: Connectware
    /// refused its credentials, which the operator corrects; the run stays open for a resume.
    public mutating func pause(_ position: Int, at now: Date, message: String) throws(MigrationError) {
        try halt(position, as: .paused, at: now, message: message)
        outcome = .inProgress
        outcomeMessage = message
        endedAt = nil
    }

    /// Ends the step at `position`, begun or not, in `state` (failed or paused) with `message`.
    private mutating func halt(_ position: Int, as state: StepState, at now: Date, message: String)
        throws(MigrationError)
    {
        try requireOpen()
        try requirePosition(position)
        guard !steps[position].state.isSettled else {
            throw .invalidTransition(
                run: id, position: position, kind: steps[position].kind, from: steps[position].state, to: state)
        }
        steps[position].state = state
        steps[position].endedAt = now
        steps[position].message = message
        updatedAt = now
    }

    /// Marks the run failed before any step began (its prechecks did not pass).
    public mutating func failBeforeSteps(at now: Date, message: String) throws(MigrationError) {
        try requireOpen()
        try requireNoRollback()
        outcome = .failed
        outcomeMessage = message
        endedAt = now
        updatedAt = now
    }

    /// Marks a step that needs no doing as skipped.
    public mutating func skip(_ position: Int, at now: Date, message: String) throws(MigrationError) {
        try requireOpen()
        try requirePosition(position)
        guard steps[position].state == .pending else {
            throw .invalidTransition(
                run: id, position: position, kind: steps[position].kind, from: steps[position].state, to: .skipped)
        }
        steps[position].state = .skipped
        steps[position].endedAt = now
        steps[position].message = message
        updatedAt = now
    }

    /// Records the server operation the running step at `position` asked for (or adopted).
    public mutating func note(_ operation: ServerOperation, at position: Int, now: Date) throws(MigrationError) {
        try requireOpen()
        try requirePosition(position)
        steps[position].operation = operation
        updatedAt = now
    }

    /// Records an artifact; one made again by a repeated step replaces the earlier record.
    public mutating func record(_ artifact: Artifact, at now: Date) {
        artifacts.removeAll { $0.kind == artifact.kind && $0.step == artifact.step && $0.detail == artifact.detail }
        artifacts.append(artifact)
        updatedAt = now
    }

    /// Replaces the plan after a refused restore: the steps done at the same positions with
    /// the same kinds (the fresh backup) stay done, with their artifacts; the rest are new.
    public mutating func replan(_ newPlan: Plan, because reason: String, at now: Date) throws(MigrationError) {
        try requireOpen()
        try requireNoRollback()
        earlierPlans = (earlierPlans ?? []) + [EarlierPlan(plan: plan, steps: steps, reason: reason, replacedAt: now)]
        var kept: [StepRecord] = []
        for (position, step) in newPlan.steps.enumerated() {
            if position < steps.count, steps[position].kind == step.id, steps[position].state == .done,
                kept.count == position
            {
                kept.append(steps[position])
            } else {
                kept.append(StepRecord(position: position, kind: step.id))
            }
        }
        let keptPositions = Set(kept.filter { $0.state == .done }.map(\.position))
        artifacts.removeAll { !keptPositions.contains($0.step) }
        plan = newPlan
        steps = kept
        outcome = .inProgress
        outcomeMessage = nil
        endedAt = nil
        updatedAt = now
    }

    /// Marks the run paused before a step the operator declined; it can be resumed.
    public mutating func pause(before position: Int, at now: Date, reason: String) throws(MigrationError) {
        try requireOpen()
        try requirePosition(position)
        outcome = .inProgress
        outcomeMessage = reason
        updatedAt = now
    }

    /// Marks the run rolled back for good.
    public mutating func markRolledBack(at now: Date, message: String) throws(MigrationError) {
        try requireOpen()
        for index in steps.indices where steps[index].state == .running {
            steps[index].state = .failed
            steps[index].endedAt = now
            steps[index].message = "interrupted; the run was rolled back"
        }
        outcome = .rolledBack
        outcomeMessage = message
        endedAt = now
        updatedAt = now
    }

    /// Marks the whole run completed; every step must be done or skipped.
    public mutating func complete(at now: Date) throws(MigrationError) {
        try requireOpen()
        try requireNoRollback()
        if let open = currentStep {
            throw .invalidTransition(run: id, position: open.position, kind: open.kind, from: open.state, to: .done)
        }
        outcome = .completed
        outcomeMessage = nil
        endedAt = now
        updatedAt = now
    }

    /// Ends the run for good without rolling back; the journal and the artifacts stay.
    public mutating func abandon(at now: Date, reason: String) throws(MigrationError) {
        try requireOpen()
        for index in steps.indices where steps[index].state == .running {
            steps[index].state = .failed
            steps[index].endedAt = now
            steps[index].message = "interrupted; the run was abandoned"
        }
        outcome = .abandoned
        outcomeMessage = reason
        endedAt = now
        updatedAt = now
    }

    private mutating func settle(_ position: Int, as state: StepState, at now: Date, message: String?)
        throws(MigrationError)
    {
        try requireOpen()
        try requirePosition(position)
        // A paused step that began may be found done when the run resumes, as a running one.
        guard steps[position].state == .running || (steps[position].state == .paused && steps[position].attempts > 0)
        else {
            throw .invalidTransition(
                run: id, position: position, kind: steps[position].kind, from: steps[position].state, to: state)
        }
        steps[position].state = state
        steps[position].endedAt = now
        steps[position].message = message
        updatedAt = now
    }

    private func requireOpen() throws(MigrationError) {
        guard !outcome.isFinal else { throw .runEnded(run: id, outcome: outcome) }
    }

    /// A run whose rollback began is going back: walking its steps forward again would start
    /// the new version over data the rollback may already have put back.
    public func requireNoRollback() throws(MigrationError) {
        if let rollback { throw .rollbackBegan(run: id, at: rollback.startedAt, finished: rollback.succeeded) }
    }

    /// Refuses a run that began on another machine (a state directory shared between hosts).
    public func requireHost(_ here: RunHost?) throws(MigrationError) {
        guard let recorded = host else { return }
        guard let here, recorded.isSame(as: here) else {
            throw .otherHost(run: id, recorded: recorded, here: here)
        }
    }

    private func requirePosition(_ position: Int) throws(MigrationError) {
        guard steps.indices.contains(position) else {
            throw .noSuchStep(run: id, position: position, count: steps.count)
        }
    }
}

/// A plan a run gave up for a new one, as far as it got.
public struct EarlierPlan: Sendable, Codable, Equatable {
    public var plan: Plan
    public var steps: [StepRecord]
    public var reason: String
    public var replacedAt: Date
}

/// A rollback's progress: begun, what it did, and whether it finished.
public struct RollbackRecord: Sendable, Codable, Equatable {
    public var startedAt: Date
    public var endedAt: Date?
    public var attempts: Int
    public var actions: [String]
    public var succeeded: Bool?
    /// True while the rollback is paused because Connectware refused its credentials; it is
    /// run again with the right password.
    public var paused: Bool?
    public var message: String?

    public init(startedAt: Date) {
        self.startedAt = startedAt
        self.attempts = 1
        self.actions = []
    }
}

extension Journal {
    /// The version Connectware should run after the step at `position`: the version the
    /// last install or upgrade before it brought, else the version the run found.
    public func expectedVersion(after position: Int) -> Version {
        var version = plan.runningVersion
        for index in 0...min(position, plan.steps.count - 1) {
            switch plan.steps[index].id {
            case .installOlder: version = plan.restoreVersion ?? version
            case .upgrade: version = plan.upgradePath.last ?? plan.runningVersion
            default: break
            }
        }
        return version
    }
}

/// The journal's JSON: ISO-8601 dates with milliseconds, keys sorted, so a diff of two
/// saves shows what changed.
public enum JournalCoding {
    public static func encode(_ journal: Journal) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(timestamp(date))
        }
        return try encoder.encode(journal)
    }

    public static func decode(_ data: Data) throws -> Journal {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "\(text) is not an ISO-8601 date")
            }
            return date
        }
        return try decoder.decode(Journal.self, from: data)
    }

    /// `2026-11-26T22:59:01.123Z`, written by hand (`Timestamp`), not by ICU.
    public static func timestamp(_ date: Date) -> String { Timestamp.format(date) }

    /// The journal's own dates; a hand parser, since ICU crashed on a fuzzed date.
    static func parse(_ text: String) -> Date? { Timestamp.parse(text) }
}
