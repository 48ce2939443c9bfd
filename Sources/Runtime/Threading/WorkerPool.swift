import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A persistent pool of worker threads that runs `parallelFor` bodies with static partitioning.
///
/// Why not `DispatchQueue.concurrentPerform`: it costs 10–40 µs a call on the target machine, and an
/// EfficientNet inference issues a few hundred parallel sections. Here the calling thread is worker 0, the
/// others spin on an atomic generation counter for about `spinIterations` loads (tens of µs, so back-to-back
/// ops of one inference never sleep) and then sleep on a condition variable until the next generation. A
/// dispatch to spinning workers costs well under a microsecond.
///
/// Invariant: one `parallelFor` at a time (the session serialises runs); bodies must not call `parallelFor`.
package final class WorkerPool: @unchecked Sendable {
    /// Number of workers, the calling thread included (≥ 1).
    package let threadCount: Int
    private let shared: Shared
    private var threads: [pthread_t] = []

    /// Creates `threads - 1` helper threads (`threads` is clamped to at least 1).
    package init(threads: Int, spinIterations: Int = 200_000) {
        threadCount = max(1, threads)
        shared = Shared(spinIterations: spinIterations)
        for worker in 1..<max(threadCount, 1) {
            let context = Unmanaged.passRetained(WorkerContext(shared: shared, worker: worker)).toOpaque()
            var thread = pthread_t()
            let status = pthread_create(
                &thread, nil,
                { raw in
                    let context = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
                    context.shared.workerLoop(context.worker)
                    return nil
                }, context)
            precondition(status == 0, "pthread_create failed (\(status))")
            self.threads.append(thread)
        }
    }

    deinit {
        shared.stop()
        for thread in threads { pthread_join(thread, nil) }
    }

    /// The range of `0..<count` that worker `worker` of `workers` gets: contiguous, sizes differ by at most one.
    @inline(__always)
    package static func partition(_ count: Int, worker: Int, of workers: Int) -> Range<Int> {
        (count * worker / workers)..<(count * (worker + 1) / workers)
    }

    /// Runs `body(range, worker)` on every worker whose static share of `0..<count` is non-empty and returns when
    /// all are done. Runs inline when there is one worker or one item.
    package func parallelFor(_ count: Int, _ body: (Range<Int>, Int) -> Void) {
        if count <= 0 { return }
        let workers = min(threadCount, count)
        if workers == 1 {
            body(0..<count, 0)
            return
        }
        withoutActuallyEscaping(body) { escapable in
            shared.dispatch(workers: workers, total: threadCount) { worker in
                if worker < workers { escapable(WorkerPool.partition(count, worker: worker, of: workers), worker) }
            }
        }
    }

    /// Runs `body(worker)` once on each of the `threadCount` workers.
    package func onEachWorker(_ body: (Int) -> Void) {
        if threadCount == 1 {
            body(0)
            return
        }
        withoutActuallyEscaping(body) { escapable in
            shared.dispatch(workers: threadCount, total: threadCount, escapable)
        }
    }
}

private final class WorkerContext {
    let shared: Shared
    let worker: Int
    init(shared: Shared, worker: Int) {
        self.shared = shared
        self.worker = worker
    }
}

/// The state the calling thread and the helpers share. The job is published by a sequentially consistent bump
/// of `generation` and read after a load that observes the bump, so the closure write happens-before its reads.
private final class Shared: @unchecked Sendable {
    let spinIterations: Int
    let generation = Atomic<Int>(0)
    let remaining = Atomic<Int>(0)
    let sleepers = Atomic<Int>(0)
    let stopping = Atomic<Bool>(false)
    var job: ((Int) -> Void)?
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init(spinIterations: Int) {
        self.spinIterations = spinIterations
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    func dispatch(workers: Int, total: Int, _ body: @escaping (Int) -> Void) {
        job = body
        remaining.store(total - 1, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        wakeSleepers()
        body(0)
        // Helpers finish within the same few microseconds; spin rather than sleep.
        while remaining.load(ordering: .acquiring) != 0 {}
        job = nil
    }

    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    private func wakeSleepers() {
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            pthread_mutex_lock(mutex)
            pthread_cond_broadcast(condition)
            pthread_mutex_unlock(mutex)
        }
    }

    func workerLoop(_ worker: Int) {
        var seen = 0
        while true {
            var current = generation.load(ordering: .acquiring)
            var spins = 0
            while current == seen && spins < spinIterations {
                spins += 1
                current = generation.load(ordering: .acquiring)
            }
            if current == seen {
                pthread_mutex_lock(mutex)
                sleepers.add(1, ordering: .sequentiallyConsistent)
                current = generation.load(ordering: .sequentiallyConsistent)
                while current == seen {
                    pthread_cond_wait(condition, mutex)
                    current = generation.load(ordering: .sequentiallyConsistent)
                }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                pthread_mutex_unlock(mutex)
            }
            seen = current
            if stopping.load(ordering: .sequentiallyConsistent) { return }
            job?(worker)
            remaining.subtract(1, ordering: .releasing)
        }
    }
}
