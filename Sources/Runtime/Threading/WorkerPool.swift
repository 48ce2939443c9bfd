import KernelCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A persistent pool of worker threads that runs `parallelFor` bodies: static ownership first, then stealing.
///
/// Why not `DispatchQueue.concurrentPerform`: it costs 10–40 µs a call on the target machine, and an
/// EfficientNet inference issues a few hundred parallel sections. Here the calling thread is worker 0, the
/// others spin on an atomic generation counter for about `spinIterations` loads (tens of µs, so back-to-back
/// ops of one inference never sleep) and then sleep on a condition variable until the next generation. A
/// dispatch to spinning workers costs well under a microsecond.
///
/// Work is cut into `chunksPerWorker` chunks per worker; worker w owns a contiguous run of them and takes its
/// own first, in order (the same rows land on the same core op after op, as with static partitioning), then
/// steals what other workers have not started. On a quiet machine this is static partitioning; when another
/// process holds a core, the remaining workers finish the job instead of waiting for a descheduled thread.
/// Measured on V2-S with a busy loop pinned to the second core: two threads took 198 ms with pure static
/// partitioning (one took 145), 131–146 ms with stealing. Two chunks per worker: four cost 10% on a quiet
/// machine (B panels re-streamed per chunk), one leaves nothing to steal once a share is started.
///
/// Claims are a compare-and-swap on one 64-bit word per owner packing (generation, next chunk, end), so a late
/// thread can never claim a chunk of a finished job; a successful claim therefore also proves the job's closure is
/// still alive. Invariant: one `parallelFor` at a time (the session serialises runs); bodies must not nest it.
package final class WorkerPool: @unchecked Sendable {
    /// Number of workers, the calling thread included (≥ 1).
    package let threadCount: Int
    private let shared: Shared
    private var threads: [pthread_t] = []

    /// Creates `threads - 1` helper threads (`threads` is clamped to at least 1).
    package init(threads: Int, spinIterations: Int = 200_000) {
        threadCount = max(1, threads)
        shared = Shared(threads: threadCount, spinIterations: spinIterations)
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

    /// The range of `0..<count` that part `worker` of `workers` gets: contiguous, sizes differ by at most one.
    @inline(__always)
    package static func partition(_ count: Int, worker: Int, of workers: Int) -> Range<Int> {
        (count * worker / workers)..<(count * (worker + 1) / workers)
    }

    /// How many chunks `parallelFor(count, chunksPerWorker:)` cuts `count` items into on `threads` workers (1 when it
    /// runs inline): callers whose cost depends on the chunk boundaries (`MBConvPipeline`) plan with it.
    package static func chunkCount(_ count: Int, threads: Int, chunksPerWorker: Int = 2) -> Int {
        threads <= 1 || count <= 1 ? 1 : min(count, threads * max(1, chunksPerWorker))
    }

    /// Runs `body(range, worker)` over chunks that tile `0..<count` and returns when all are done; `worker` is the
    /// index of the thread running the chunk (for per-worker scratch; a worker runs one chunk at a time). Runs
    /// inline when there is one worker or one item.
    package func parallelFor(_ count: Int, chunksPerWorker: Int = 2, _ body: (Range<Int>, Int) -> Void) {
        if count <= 0 { return }
        if threadCount == 1 || count == 1 {
            body(0..<count, 0)
            return
        }
        let chunks = Self.chunkCount(count, threads: threadCount, chunksPerWorker: chunksPerWorker)
        withoutActuallyEscaping(body) { escapable in
            shared.dispatch(count: count, chunks: chunks, escapable)
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

/// One owner's claimable chunks: generation (24 bits) | next (20 bits) | end (20 bits).
private final class Slot {
    let word = Atomic<UInt64>(0)
}

/// The state the calling thread and the helpers share.
private final class Shared: @unchecked Sendable {
    let threads: Int
    let spinIterations: Int
    /// Bumped once per job: the wake-up signal.
    let generation = Atomic<Int>(0)
    let done = Atomic<Int>(0)
    let sleepers = Atomic<Int>(0)
    let stopping = Atomic<Bool>(false)
    let slots: [Slot]
    // Written by the dispatching thread before the slots are published; read only after a successful claim.
    var job: ((Range<Int>, Int) -> Void)?
    var jobCount = 0
    var jobChunks = 0
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init(threads: Int, spinIterations: Int) {
        self.threads = threads
        self.spinIterations = spinIterations
        slots = (0..<threads).map { _ in Slot() }
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    @inline(__always)
    static func pack(_ gen: Int, _ next: Int, _ end: Int) -> UInt64 {
        UInt64(gen & 0xFF_FFFF) << 40 | UInt64(next) << 20 | UInt64(end)
    }

    func dispatch(count: Int, chunks: Int, _ body: @escaping (Range<Int>, Int) -> Void) {
        precondition(chunks < 1 << 20)
        job = body
        jobCount = count
        jobChunks = chunks
        done.store(0, ordering: .relaxed)
        let gen = generation.load(ordering: .relaxed) + 1
        for w in 0..<threads {
            let own = WorkerPool.partition(chunks, worker: w, of: threads)
            slots[w].word.store(Shared.pack(gen, own.lowerBound, own.upperBound), ordering: .releasing)
        }
        generation.store(gen, ordering: .sequentiallyConsistent)
        wakeSleepers()
        participate(worker: 0, generation: gen)
        while done.load(ordering: .acquiring) < chunks {}
        job = nil
    }

    /// Claims and runs chunks of job `gen`: the worker's own first, then the others'.
    func participate(worker: Int, generation gen: Int) {
        let tag = UInt64(gen & 0xFF_FFFF)
        for k in 0..<threads {
            let slot = slots[(worker + k) % threads]
            while true {
                let v = slot.word.load(ordering: .acquiring)
                let next = Int((v >> 20) & 0xF_FFFF)
                let end = Int(v & 0xF_FFFF)
                if v >> 40 != tag || next >= end { break }
                let (exchanged, _) = slot.word.compareExchange(
                    expected: v, desired: v + (1 << 20), ordering: .acquiringAndReleasing)
                if !exchanged { continue }
                // A claimed chunk of job `gen` keeps that job (and its closure) alive until `done` counts it.
                job!(WorkerPool.partition(jobCount, worker: next, of: jobChunks), worker)
                done.add(1, ordering: .releasing)
            }
        }
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
            participate(worker: worker, generation: current)
        }
    }
}
