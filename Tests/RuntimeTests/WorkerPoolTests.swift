import Foundation
import Synchronization
import Testing

@testable import Runtime

@Suite struct WorkerPoolTests {
    /// Every index is visited exactly once, by ranges that tile 0..<count, for many consecutive dispatches.
    @Test(arguments: [1, 2, 3, 4])
    func coversEveryIndexOnce(_ threads: Int) {
        let pool = WorkerPool(threads: threads)
        for count in [0, 1, 2, 3, 5, 16, 17, 100] {
            for _ in 0..<50 {
                // Ranges are disjoint, so plain increments suffice; an overlap would show up as a 2.
                let hits = UnsafeMutablePointer<Int>.allocate(capacity: max(count, 1))
                defer { hits.deallocate() }
                hits.initialize(repeating: 0, count: max(count, 1))
                nonisolated(unsafe) let shared = hits
                let badWorker = Atomic<Int>(0)
                pool.parallelFor(count) { range, worker in
                    if worker >= threads { badWorker.add(1, ordering: .relaxed) }
                    for i in range { shared[i] += 1 }
                }
                #expect(badWorker.load(ordering: .relaxed) == 0)
                for i in 0..<count { #expect(hits[i] == 1) }
            }
        }
    }

    /// Workers that went to sleep (tiny spin budget) wake up for the next dispatch.
    @Test func wakesSleepingWorkers() {
        let pool = WorkerPool(threads: 3, spinIterations: 10)
        let total = Atomic<Int>(0)
        for round in 0..<20 {
            if round % 5 == 0 { usleep(2000) }
            pool.parallelFor(30) { range, _ in total.add(range.count, ordering: .relaxed) }
        }
        #expect(total.load(ordering: .relaxed) == 600)
    }

    /// When one worker is slow (descheduled), the others take the chunks it has not started: the job finishes
    /// without waiting for it to work through its whole share.
    @Test func idleWorkersStealFromASlowOne() {
        let pool = WorkerPool(threads: 2)
        let ranByMain = Atomic<Int>(0)
        let total = Atomic<Int>(0)
        pool.parallelFor(8, chunksPerWorker: 4) { range, worker in
            if worker == 1 { usleep(100_000) }
            if worker == 0 { ranByMain.add(range.count, ordering: .relaxed) }
            total.add(range.count, ordering: .relaxed)
        }
        #expect(total.load(ordering: .relaxed) == 8)
        // Worker 1 owns chunks 4…7 but sleeps 100 ms in each; the caller finishes its own four and steals the
        // ones worker 1 has not started (at least one more, usually three, even on a loaded machine).
        #expect(ranByMain.load(ordering: .relaxed) >= 5)
    }

    @Test func partitionIsBalanced() {
        for count in 0..<40 {
            for workers in 1...5 {
                let ranges = (0..<workers).map { WorkerPool.partition(count, worker: $0, of: workers) }
                #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == count)
                for r in ranges { #expect(r.count == count / workers || r.count == count / workers + 1) }
            }
        }
    }
}
