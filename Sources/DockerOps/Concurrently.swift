import Dispatch

extension ConnectwareHost {
    /// Runs `work` for each index in `0..<count` at the same time (libdispatch runs as many
    /// at once as there are cores) and returns each outcome in the order of the indices.
    /// For work that shares nothing: each index touches only what is its own (a snapshot
    /// file, or an Engine of its own: one `Engine` is one curl handle, used by one thread).
    static func concurrently<T>(_ count: Int, _ work: (Int) throws(DockerOpsError) -> T)
        -> [Result<T, DockerOpsError>]
    {
        guard count > 1 else {
            return (0..<count).map { index in
                do throws(DockerOpsError) { return .success(try work(index)) } catch { return .failure(error) }
            }
        }
        let outcomes = UnsafeMutablePointer<Result<T, DockerOpsError>?>.allocate(capacity: count)
        outcomes.initialize(repeating: nil, count: count)
        defer {
            outcomes.deinitialize(count: count)
            outcomes.deallocate()
        }
        // concurrentPerform returns only when every index is done: neither the work nor the
        // slots outlive this call, and each index writes its own slot alone.
        withoutActuallyEscaping(work) { work in
            let shared = Unchecked((work: work, outcomes: outcomes))
            DispatchQueue.concurrentPerform(iterations: count) { index in
                let (work, outcomes) = shared.value
                do throws(DockerOpsError) { outcomes[index] = .success(try work(index)) } catch {
                    outcomes[index] = .failure(error)
                }
            }
        }
        return (0..<count).map { outcomes[$0]! }
    }
}

/// Carries into `concurrentPerform` what its threads share by construction, not by type.
private struct Unchecked<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
