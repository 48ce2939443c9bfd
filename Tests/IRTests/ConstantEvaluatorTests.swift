import Testing

@testable import IR

/// `ConstantEvaluator` on hand-computed cases, and its fast broadcast / gather loops against plain per-element
/// references at awkward sizes.
@Suite struct ConstantEvaluatorTests {
    static func eval(_ op: String, _ inputs: [Tensor?], _ attributes: [String: Attribute] = [:], opset: Int = 13) throws
        -> Tensor
    {
        let names = inputs.enumerated().map { $0.element == nil ? "" : "i\($0.offset)" }
        let node = Node(name: op, opType: op, inputs: names, outputs: ["y"], attributes: attributes)
        return try ConstantEvaluator.evaluate(node: node, inputs: inputs, opset: opset)[0]
    }

    @Test func integerDivisionTruncatesTowardZero() throws {
        let a = Tensor(shape: [4], int64s: [-7, 7, -7, 7])
        let b = Tensor(shape: [4], int64s: [2, 2, -2, -2])
        #expect(try Self.eval("Div", [a, b]).int64s == [-3, 3, 3, -3])
        #expect(throws: IRError.self) { try Self.eval("Div", [a, Tensor(shape: [], int64s: [0])]) }
    }

    @Test func floatArithmeticRoundsOnceToFloat32() throws {
        let a = Tensor(shape: [2], floats: [1, 0.1])
        let b = Tensor(shape: [], floats: [3])
        let y = try Self.eval("Div", [a, b])
        #expect(y.dtype == .float32)
        #expect(y.floats == [Float(1) / 3, Float(0.1) / 3])
    }

    @Test func sliceClampsAndReverses() throws {
        let x = Tensor(shape: [5], int64s: [0, 1, 2, 3, 4])
        func slice(_ s: Int64, _ e: Int64, _ step: Int64) throws -> [Int64] {
            try Self.eval(
                "Slice",
                [
                    x, .init(shape: [1], int64s: [s]), .init(shape: [1], int64s: [e]), nil,
                    .init(shape: [1], int64s: [step]),
                ]
            ).int64s
        }
        #expect(try slice(1, .max, 1) == [1, 2, 3, 4])
        #expect(try slice(-100, 100, 2) == [0, 2, 4])
        #expect(try slice(-1, .min, -1) == [4, 3, 2, 1, 0])
        #expect(try slice(10, -10, -2) == [4, 2, 0])
        #expect(try slice(3, 1, 1) == [])
    }

    @Test func presentInputsSkipOmittedOnes() throws {
        let node = Node(name: "clip", opType: "Clip", inputs: ["x", "", "hi"], outputs: ["y"])
        let y = try ConstantEvaluator.evaluate(
            node: node, inputs: [Tensor(shape: [3], floats: [-5, 0.5, 5]), Tensor.scalar(Float(1))], opset: 13)
        #expect(y[0].floats == [-5, 0.5, 1])
    }

    @Test func padModes() throws {
        let x = Tensor(shape: [4], int64s: [1, 2, 3, 4])
        let pads = Tensor(shape: [2], int64s: [3, 2])
        #expect(try Self.eval("Pad", [x, pads], ["mode": .string("reflect")]).int64s == [4, 3, 2, 1, 2, 3, 4, 3, 2])
        #expect(try Self.eval("Pad", [x, pads], ["mode": .string("edge")]).int64s == [1, 1, 1, 1, 2, 3, 4, 4, 4])
        #expect(try Self.eval("Pad", [x, pads], ["mode": .string("wrap")]).int64s == [2, 3, 4, 1, 2, 3, 4, 1, 2])
        #expect(try Self.eval("Pad", [x, pads, .scalar(Int64(9))]).int64s == [9, 9, 9, 1, 2, 3, 4, 9, 9])
        #expect(try Self.eval("Pad", [x, .init(shape: [2], int64s: [-1, 1])]).int64s == [2, 3, 4, 0])
    }

    @Test func heavyOpsAreNotConstantEvaluable() {
        #expect(!ConstantEvaluator.canEvaluate(Node(name: "c", opType: "Conv", inputs: [], outputs: [])))
        #expect(ConstantEvaluator.canEvaluate(Node(name: "s", opType: "Shape", inputs: [], outputs: [])))
        #expect(
            ConstantEvaluator.canEvaluate(Node(name: "s", opType: "Silu", domain: "ai.effnet", inputs: [], outputs: []))
        )
        #expect(throws: IRError.self) {
            try Self.eval(
                "Conv", [Tensor.zeros(.float32, shape: [1, 1, 1, 1]), Tensor.zeros(.float32, shape: [1, 1, 1, 1])])
        }
    }

    /// Awkward sizes around the vector widths and merge boundaries.
    static let sizes = [0, 1, 3, 15, 16, 17]

    /// `Broadcast.forEachRun` (merged runs) visits exactly what a per-element index computation gives.
    @Test func broadcastRunsMatchPerElementIndexing() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<300 {
            let rank = Int(rng.next() % 4) + 1
            let out = (0..<rank).map { _ in
                Self.sizes[Int(rng.next() % UInt64(Self.sizes.count))] % 6 + (rng.next() % 2 == 0 ? 0 : 1)
            }
            func operand() -> [Int] {
                let r = Int(rng.next() % UInt64(rank + 1))
                return out.suffix(r).map { rng.next() % 3 == 0 ? 1 : $0 }
            }
            let a = operand()
            let b = operand()
            let total = out.reduce(1, *)
            var seenA = [Int](repeating: -1, count: total)
            var seenB = [Int](repeating: -1, count: total)
            Broadcast.forEachRun(out: out, a: a, b: b) { o, ia, sa, ib, sb, n in
                for j in 0..<n {
                    seenA[o + j] = ia + j * sa
                    seenB[o + j] = ib + j * sb
                }
            }
            #expect(seenA == Broadcast.sourceIndices(of: a, in: out), "out \(out) a \(a)")
            #expect(seenB == Broadcast.sourceIndices(of: b, in: out), "out \(out) b \(b)")
            #expect(seenA == Self.naiveIndices(of: a, in: out), "out \(out) a \(a)")
        }
    }

    /// `GatherPlan.sources` (incremental odometer) equals a direct Σ tables[d][o_d] per element.
    @Test func gatherPlanMatchesDirectSums() {
        var rng = SplitMix64(seed: 11)
        for _ in 0..<200 {
            let rank = Int(rng.next() % 4) + 1
            let shape = (0..<rank).map { _ in Self.sizes[Int(rng.next() % UInt64(Self.sizes.count))] % 7 }
            let tables = shape.map { n in
                (0..<n).map { _ in rng.next() % 5 == 0 ? GatherPlan.fill : Int(rng.next() % 1000) }
            }
            let plan = GatherPlan.sources(shape: shape, tables: tables)
            var expected = [Int]()
            let total = shape.reduce(1, *)
            for i in 0..<total {
                var rest = i
                var sum = 0
                var fill = false
                for d in stride(from: rank - 1, through: 0, by: -1) {
                    let t = tables[d][rest % shape[d]]
                    rest /= shape[d]
                    if t == GatherPlan.fill { fill = true } else { sum += t }
                }
                expected.append(fill ? -1 : sum)
            }
            #expect(plan == expected, "shape \(shape)")
        }
    }

    static func naiveIndices(of shape: [Int], in out: [Int]) -> [Int] {
        let padded = [Int](repeating: 1, count: out.count - shape.count) + shape
        return (0..<out.reduce(1, *)).map { i in
            var rest = i
            var index = 0
            var stride = 1
            for d in (0..<out.count).reversed() {
                let o = rest % out[d]
                rest /= out[d]
                index += (padded[d] == 1 ? 0 : o) * stride
                stride *= padded[d]
            }
            return index
        }
    }
}
