import Testing

@testable import Streams

@Suite struct WorkerHealthTests {
    @Test func readyOnlyAfterEveryWorkerRestored() {
        let health = WorkerHealth()
        #expect(!health.isReady)
        health.register("a-0", stallThreshold: .seconds(5))
        health.register("b-0", stallThreshold: .seconds(5))
        health.markReady("a-0")
        #expect(health.unreadyWorkers() == ["b-0"])
        health.markReady("b-0")
        #expect(health.isReady)
    }

    @Test func stalledOrStoppedWorkersAreNotLive() {
        let health = WorkerHealth()
        health.register("a-0", stallThreshold: .seconds(5))
        #expect(health.isLive)
        #expect(health.stalledWorkers(now: .now + .seconds(6)) == ["a-0"])
        health.progressed("a-0")
        #expect(health.stalledWorkers(now: .now + .seconds(1)).isEmpty)
        health.markStopped("a-0")
        #expect(!health.isLive)
    }

    @Test func aWorkerThatKeepsAbortingIsNotLive() {
        let health = WorkerHealth()
        health.register("a-0", stallThreshold: .seconds(60), maxConsecutiveAborts: 3)
        for _ in 0..<2 { health.aborted("a-0") }
        #expect(health.isLive)
        health.aborted("a-0")
        #expect(!health.isLive, "progress of polls alone does not make a worker that never commits live")
        health.committed("a-0")
        #expect(health.isLive)
    }

    @Test func aStuckPartitionMakesTheWorkerUnready() {
        let health = WorkerHealth()
        health.register("a-0", stallThreshold: .seconds(5))
        health.markReady("a-0")
        health.setStuckPartitions("a-0", [3])
        #expect(!health.isReady)
        #expect(health.stuckPartitions() == ["a-0": [3]])
        health.setStuckPartitions("a-0", [])
        #expect(health.isReady)
    }
}
