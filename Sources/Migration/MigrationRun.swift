#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
import Planner

#if canImport(Glibc)
    import Glibc
#endif

/// What a step runner is given: the journal as it stands, the step's position, and the
/// directory for the run's files.
public struct StepContext: Sendable {
    public let journal: Journal
    public let position: Int
    public let artifactDirectory: String
    /// Saves, in the journal, the server operation the step asks for before and after the request.
    public let noteOperation: @Sendable (ServerOperation) throws(MigrationError) -> Void

    public init(
        journal: Journal, position: Int, artifactDirectory: String,
        noteOperation: @escaping @Sendable (ServerOperation) throws(MigrationError) -> Void = { _ in }
    ) {
        self.journal = journal
        self.position = position
        self.artifactDirectory = artifactDirectory
        self.noteOperation = noteOperation
    }

    public var step: Step { journal.plan.steps[position] }
    public var record: StepRecord { journal.steps[position] }
    /// The version Connectware should run once this step is done.
    public var expectedVersion: Version { journal.expectedVersion(after: position) }
}

/// What a step's postcondition check found, with the files that prove it.
public enum Postcondition: Sendable, Equatable {
    case holds(message: String, artifacts: [Artifact])
    case doesNotHold(reason: String)
}

/// The code behind one kind of plan step. The run checks the preconditions, marks the step
/// running (saved), acts, verifies the postcondition, and marks it done (saved). A run
/// resumed after a crash verifies a step it finds running before repeating it, so `act`
/// must be safe to repeat.
public protocol StepRunner {
    /// Throws `preconditionFailed` (or `stepNotImplemented`) when the step must not start.
    func checkPreconditions(_ context: StepContext) throws(MigrationError)
    func act(_ context: StepContext) throws(MigrationError)
    /// Whether what the step should bring about is so, looked at afresh (not remembered).
    func verify(_ context: StepContext) throws(MigrationError) -> Postcondition
    /// What the step will do to which containers and volumes, for the operator to confirm;
    /// nil for a step that changes nothing of the installation.
    func intent(_ context: StepContext) -> String?
}

extension StepRunner {
    public func intent(_ context: StepContext) -> String? { nil }
}

/// A runner whose step, done under a plan that a refused restore replaced, has more to do for
/// the new plan while Connectware still runs (`fresh-backup`: the images the new plan's
/// installs need, before its shutdown).
public protocol PreparesForANewPlan {
    /// Brings about what the new plan needs of the done step, then what holds, in words, with
    /// its artifacts; nil when the new plan needs nothing more of it.
    func prepareForNewPlan(_ context: StepContext) throws(MigrationError) -> (message: String, artifacts: [Artifact])?
}

/// The runner of every step that has no executor yet: it stops the run with
/// `stepNotImplemented` before the step is begun, so nothing is changed and nothing is
/// silently skipped.
public struct NotImplementedStep: StepRunner {
    public init() {}

    public func checkPreconditions(_ context: StepContext) throws(MigrationError) {
        throw .stepNotImplemented(position: context.position, kind: context.step.id)
    }

    public func act(_ context: StepContext) throws(MigrationError) {
        throw .stepNotImplemented(position: context.position, kind: context.step.id)
    }

    public func verify(_ context: StepContext) throws(MigrationError) -> Postcondition {
        .doesNotHold(reason: "executing \(context.step.id) is not implemented yet")
    }
}

/// The runner for each step kind; a kind without one gets `NotImplementedStep`.
public struct StepRunners {
    public var byKind: [StepKind: any StepRunner]

    public init(_ byKind: [StepKind: any StepRunner]) { self.byKind = byKind }

    public func runner(for kind: StepKind) -> any StepRunner { byKind[kind] ?? NotImplementedStep() }

    /// The kinds in `plan` that have no runner: the run will stop at the first of them.
    public func unimplemented(in plan: Plan) -> [String] {
        var seen: [String] = []
        for step in plan.steps where byKind[step.id] == nil && !seen.contains(step.id.rawValue) { seen.append(step.id.rawValue) }
        return seen
    }
}

/// What happens during a run, for the operator's screen.
public enum RunEvent: Sendable, Equatable {
    case started(position: Int, kind: StepKind, title: String)
    case done(position: Int, kind: StepKind, message: String)
    /// A step found running when the run resumed was verified as done without repeating it.
    case foundDone(position: Int, kind: StepKind, message: String)
    /// A step found running when the run resumed did not verify; it is done again.
    case repeating(position: Int, kind: StepKind, reason: String)
    case failed(position: Int, kind: StepKind, error: MigrationError)
    /// A restore at the running version was refused; the run goes on with a new plan.
    case replanned(refusal: RestoreRefusal, plan: Plan)
    case completed
}

/// What a run plans again from when Connectware refuses the restore at the running version:
/// the compatibility knowledge and the playbook (with the installation's settings) its plan
/// was made from. The Planner makes the new plan from them and the refusal.
public struct Replanning: Sendable {
    public var knowledge: CompatibilityKnowledge
    public var playbook: Playbook

    public init(knowledge: CompatibilityKnowledge, playbook: Playbook) {
        self.knowledge = knowledge
        self.playbook = playbook
    }

    /// The plan the refusal gives for `journal`'s backup at its running version, on the same
    /// basis; nil unless it is a downgrade (nothing else carries a refused run on).
    public func plan(after refusal: RestoreRefusal, for journal: Journal) -> Plan? {
        var plan = makePlan(
            backup: journal.backup.version, running: journal.plan.runningVersion, knowledge: knowledge,
            playbook: playbook, refusal: refusal, backupFile: journal.backup.path)
        guard plan.decision == .downgradeRequired, plan.decision != journal.plan.decision else { return nil }
        plan.basis = journal.plan.basis
        return plan
    }
}

/// Asks the operator before a step that changes the installation: the journal, the step's
/// position, and what it will do. False stops the run there, paused.
public typealias Confirmation = (Journal, Int, String) -> Bool

/// The checks a run performs before its first destructive step (`Prechecks.forRun`).
public typealias RunPrechecks = (Journal) -> [CheckResult]

/// Walks a journal's steps in order, saving each transition before and after the step
/// acts. Holding the installation's `RunLock` is a condition of making one; so is being on
/// the machine the run began on, and no rollback having begun.
public final class MigrationRun {
    public private(set) var journal: Journal
    public let store: JournalStore
    private let lock: RunLock
    private let runners: StepRunners
    private let clock: () -> Date
    private let onEvent: (RunEvent) -> Void
    private let confirm: Confirmation?
    private let replanning: Replanning?
    private let prechecks: RunPrechecks?
    private let credentials: RunCredentials?
    private var cpuAccounted = processCPUSeconds()

    /// `clock` gives every time written to the journal. Without `confirm` the run is
    /// unattended; without `replanning` a refused restore ends it. `here` is this machine;
    /// `prechecks` are run (and recorded) before the first destructive step: without them
    /// the shutdown refuses to act. With `credentials`, each step talks to Connectware with
    /// the logins its database accepts then, and a refusal pauses the run.
    public init(
        journal: Journal, store: JournalStore, lock: RunLock, runners: StepRunners, clock: @escaping () -> Date,
        here: RunHost? = nil, prechecks: RunPrechecks? = nil, credentials: RunCredentials? = nil,
        confirm: Confirmation? = nil, replanning: Replanning? = nil, onEvent: @escaping (RunEvent) -> Void = { _ in }
    ) throws(MigrationError) {
        guard lock.installation.lockKey == journal.installation.lockKey else {
            throw .lockFailed(
                path: lock.path,
                reason: "it is the lock of \(lock.installation), not of run \(journal.id)'s \(journal.installation)")
        }
        guard !journal.outcome.isFinal else { throw .runEnded(run: journal.id, outcome: journal.outcome) }
        try journal.requireNoRollback()
        try journal.requireHost(here)
        self.prechecks = prechecks
        self.credentials = credentials
        self.journal = journal
        self.store = store
        self.lock = lock
        self.runners = runners
        self.clock = clock
        self.confirm = confirm
        self.replanning = replanning
        self.onEvent = onEvent
    }

    /// Runs every step not yet done, from the first. Stops at the first step that fails
    /// (the journal then says `failed` and why); returns the completed journal.
    @discardableResult
    public func run() throws(MigrationError) -> Journal {
        let artifactDirectory = try store.artifactDirectory(for: journal.id)
        try store.save(journal)
        try checkBeforeChanging()
        while let position = journal.steps.firstIndex(where: { !$0.state.isSettled }) {
            let runner = runners.runner(for: journal.steps[position].kind)
            // A step interrupted, or paused after it began, may be done already: its
            // postcondition says so (with the right credentials now), else it is done again.
            let record = journal.steps[position]
            if record.state == .running || (record.state == .paused && record.attempts > 0),
                try recheckInterrupted(position, runner, artifactDirectory)
            {
                continue
            }
            do {
                try execute(position, runner, artifactDirectory)
            } catch .restoreRefused(let at, let kind, let version, let refusal) {
                guard version == journal.plan.runningVersion, journal.earlierPlans == nil,
                    let newPlan = replanning?.plan(after: refusal, for: journal)
                else {
                    throw MigrationError.restoreRefused(position: at, kind: kind, atVersion: version, refusal: refusal)
                }
                try journal.replan(newPlan, because: refusal.statusMessage, at: clock())
                try store.save(journal)
                onEvent(.replanned(refusal: refusal, plan: newPlan))
                // The refused restore changed nothing, and the new plan needs what the first
                // did not (the older version's installer, room for snapshots): checked anew.
                try checkBeforeChanging(always: true)
                try prepareForNewPlan(artifactDirectory)
            }
        }
        try journal.complete(at: clock())
        try saveAccountingCPU()
        onEvent(.completed)
        return journal
    }

    /// Before the first step that changes the installation, this attempt's prechecks: they
    /// are recorded, and a failed one stops the run with nothing changed. A record from an
    /// earlier attempt never counts.
    private func checkBeforeChanging(always: Bool = false) throws(MigrationError) {
        guard always || !Self.changedInstallation(journal) else { return }
        journal.prechecks = nil
        guard let prechecks else {
            try store.save(journal)
            return
        }
        credentials?.prepare(journal, position: 0)
        var checks = prechecks(journal)
        // Every password the run will need is known before anything is changed.
        if let credentials, !checks.contains(where: { $0.name == "credentials" }) {
            checks.append(credentials.check(journal.plan))
        }
        let record = PrecheckRecord(at: clock(), checks: checks)
        journal.prechecks = record
        guard record.passed else {
            let error = MigrationError.prechecksFailed(run: journal.id, failed: record.failed)
            try journal.failBeforeSteps(at: clock(), message: error.description)
            try saveAccountingCPU()
            throw error
        }
        try store.save(journal)
    }

    /// Whether a step that changes the installation was begun (in this plan or an earlier one).
    public static func changedInstallation(_ journal: Journal) -> Bool {
        Rollback.allSteps(journal).contains { $0.record.kind.changesInstallation && $0.record.attempts > 0 }
    }

    /// Saves the journal with the CPU time this process spent since it last did so.
    private func saveAccountingCPU() throws(MigrationError) {
        let now = processCPUSeconds()
        journal.cpuSeconds = (journal.cpuSeconds ?? 0) + max(0, now - cpuAccounted)
        cpuAccounted = now
        try store.save(journal)
    }

    /// A step left running by an interrupted run: done when its postcondition holds.
    private func recheckInterrupted(_ position: Int, _ runner: any StepRunner, _ artifactDirectory: String)
        throws(MigrationError) -> Bool
    {
        let kind = journal.steps[position].kind
        credentials?.prepare(journal, position: position)
        let found: Postcondition
        do {
            found = try runner.verify(context(position, artifactDirectory))
        } catch {
            found = .doesNotHold(reason: error.description)
        }
        switch found {
        case .holds(let message, let artifacts):
            for artifact in artifacts { journal.record(artifact, at: clock()) }
            try journal.finish(position, at: clock(), message: "found done when the run resumed: " + message)
            try store.save(journal)
            onEvent(.foundDone(position: position, kind: kind, message: message))
            return true
        case .doesNotHold(let reason):
            onEvent(.repeating(position: position, kind: kind, reason: reason))
            return false
        }
    }

    private func execute(_ position: Int, _ runner: any StepRunner, _ artifactDirectory: String)
        throws(MigrationError)
    {
        let kind = journal.steps[position].kind
        credentials?.prepare(journal, position: position)
        do {
            try runner.checkPreconditions(context(position, artifactDirectory))
        } catch {
            try failed(position, refusal(position) ?? error)
        }
        let stepContext = context(position, artifactDirectory)
        if let confirm, let intent = runner.intent(stepContext), !confirm(journal, position, intent) {
            try journal.pause(
                before: position, at: clock(),
                reason: "paused before step \(position + 1) \(kind): the operator declined it")
            try saveAccountingCPU()
            throw .declined(position: position, kind: kind)
        }
        try journal.begin(position, at: clock())
        try store.save(journal)
        onEvent(.started(position: position, kind: kind, title: journal.plan.steps[position].title))
        let cpuAtStart = processCPUSeconds()
        do throws(MigrationError) {
            try runner.act(context(position, artifactDirectory))
            switch try runner.verify(context(position, artifactDirectory)) {
            case .holds(let message, let artifacts):
                for artifact in artifacts { journal.record(artifact, at: clock()) }
                try journal.finish(position, at: clock(), message: message)
                journal.steps[position].cpuSeconds = max(0, processCPUSeconds() - cpuAtStart)
                try store.save(journal)
                onEvent(.done(position: position, kind: kind, message: message))
            case .doesNotHold(let reason):
                throw MigrationError.postconditionFailed(position: position, kind: kind, reason: reason)
            }
        } catch {
            try failed(position, refusal(position) ?? error, cpuSince: cpuAtStart)
        }
    }

    /// When Connectware refused the step's credentials, that (with the fix) is what stopped it.
    private func refusal(_ position: Int) -> MigrationError? {
        guard let credentials, let refused = credentials.refusal, !refused.isEmpty else { return nil }
        return .credentialsRefused(
            position: position, kind: journal.steps[position].kind,
            refused: refused.map(\.description).joined(separator: " and "),
            fix: credentials.fix(for: refused, plan: journal.plan))
    }

    /// Records the failure (a journal that cannot be saved is the worse news) and stops; a
    /// refusal of the credentials is recorded as a pause, which the right password resumes.
    private func failed(_ position: Int, _ error: MigrationError, cpuSince start: Double? = nil)
        throws(MigrationError) -> Never
    {
        let kind = journal.steps[position].kind
        if case .credentialsRefused = error {
            try journal.pause(position, at: clock(), message: error.description)
        } else {
            try journal.fail(position, at: clock(), message: error.description)
        }
        if let start { journal.steps[position].cpuSeconds = max(0, processCPUSeconds() - start) }
        try saveAccountingCPU()
        onEvent(.failed(position: position, kind: kind, error: error))
        throw error
    }

    /// The kept steps whose runners have more to do for the new plan do it now, before its
    /// shutdown; what they bring about joins their message and artifacts in the journal.
    private func prepareForNewPlan(_ artifactDirectory: String) throws(MigrationError) {
        for record in journal.steps where record.state == .done {
            guard let runner = runners.runner(for: record.kind) as? any PreparesForANewPlan,
                let found = try runner.prepareForNewPlan(context(record.position, artifactDirectory))
            else { continue }
            journal.steps[record.position].message = [record.message, "for the new plan: " + found.message]
                .compactMap { $0 }.joined(separator: "; ")
            journal.artifacts += found.artifacts
            try store.save(journal)
        }
    }

    private func context(_ position: Int, _ artifactDirectory: String) -> StepContext {
        let note = OperationNote(run: self, position: position)
        return StepContext(
            journal: journal, position: position, artifactDirectory: artifactDirectory,
            noteOperation: { operation throws(MigrationError) in try note.save(operation) })
    }

    /// Writes a step's server operation into the journal, saved before the step goes on.
    fileprivate func saveOperation(_ operation: ServerOperation, at position: Int) throws(MigrationError) {
        try journal.note(operation, at: position, now: clock())
        try store.save(journal)
    }
}

/// User and system CPU seconds of this process so far.
func processCPUSeconds() -> Double {
    var usage = rusage()
    guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
        + Double(usage.ru_stime.tv_usec) / 1e6
}

/// The run as a step's context reaches it: steps run on the run's thread, one at a time.
private final class OperationNote: @unchecked Sendable {
    private weak var run: MigrationRun?
    private let position: Int

    init(run: MigrationRun, position: Int) {
        self.run = run
        self.position = position
    }

    func save(_ operation: ServerOperation) throws(MigrationError) {
        try run?.saveOperation(operation, at: position)
    }
}
