import Testing

@testable import IR

@Suite struct TensorTests {
    @Test func halfRoundTripsEveryFiniteValue() {
        for bits in UInt16(0)...UInt16(0xffff) {
            let f = HalfBits.float(fromHalf: bits)
            if f.isNaN { continue }
            #expect(HalfBits.half(fromFloat: f) == bits)
        }
    }

    @Test func halfRoundsToNearestEven() {
        // 1 + 2^-11 is halfway between 1 and the next half (1 + 2^-10): ties go to the even mantissa (1).
        #expect(HalfBits.half(fromFloat: 1 + Float(sign: .plus, exponent: -11, significand: 1)) == 0x3c00)
        #expect(HalfBits.half(fromFloat: 65520) == 0x7c00)  // rounds to infinity, as numpy does
        #expect(HalfBits.half(fromFloat: 1e-8) == 0)
    }

    @Test func bfloat16RoundsToNearestEven() {
        #expect(HalfBits.bfloat16(fromFloat: 1.0) == 0x3f80)
        #expect(HalfBits.float(fromBFloat16: HalfBits.bfloat16(fromFloat: 3.140625)) == 3.140625)
        #expect(HalfBits.bfloat16(fromFloat: Float(bitPattern: 0x3f80_8000)) == 0x3f80)  // tie → even
        #expect(HalfBits.bfloat16(fromFloat: Float(bitPattern: 0x3f81_8000)) == 0x3f82)
    }

    @Test func typedViewsConvert() {
        let t = Tensor(shape: [2, 2], floats: [1.5, -2.5, 3, 4])
        #expect(t.int64s == [1, -2, 3, 4])
        #expect(t.doubles == [1.5, -2.5, 3, 4])
        #expect(t.converted(to: .float16).floats == [1.5, -2.5, 3, 4])
        #expect(t.converted(to: .int32).converted(to: .int64).int64s == [1, -2, 3, 4])
        #expect(Tensor(shape: [], int64s: [7]).count == 1)
    }

    @Test func topologicalOrderDetectsCycles() throws {
        var g = Graph(
            nodes: [
                Node(name: "b", opType: "Relu", inputs: ["a"], outputs: ["b"]),
                Node(name: "a", opType: "Relu", inputs: ["x"], outputs: ["a"]),
            ],
            inputs: [ValueInfo(name: "x", dtype: .float32, shape: [1])],
            outputs: [ValueInfo(name: "b", dtype: .float32, shape: [1])])
        #expect(try g.sorted().nodes.map(\.name) == ["a", "b"])
        g.nodes[1].inputs = ["b"]
        #expect(throws: IRError.self) { try g.validate() }
        g.nodes[1].inputs = ["nowhere"]
        #expect(throws: IRError.missingInput("nowhere", node: "a")) { try g.validate() }
    }
}
