import Foundation
import IR
import Testing

@testable import Formats

/// A `.npy` file with a hand-written header dict (padded like numpy's) followed by `data`.
func npyFile(_ dict: String, data: [UInt8], version: UInt8 = 1) -> [UInt8] {
    var header = Array(dict.utf8) + [0x0a]
    let prefix = version == 1 ? 10 : 12
    while (prefix + header.count) % 64 != 0 { header.insert(0x20, at: header.count - 1) }
    var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
    if version == 1 { out.appendLE(UInt16(header.count)) } else { out.appendLE(UInt32(header.count)) }
    return out + header + data
}

@Suite struct NPYTests {
    static let allDTypes: [DType] = [.float32, .float16, .float64, .int8, .int16, .int32, .int64, .uint8, .bool]

    @Test(arguments: allDTypes, [[], [0], [1], [3], [0, 3], [2, 3], [2, 1, 3, 2]])
    func encodeDecodeRoundTrips(dtype: DType, shape: [Int]) throws {
        let n = shape.reduce(1, *)
        let values = (0..<n).map { Double($0 * 37 % 11) - 5 }
        let t = Tensor(dtype: dtype, shape: shape, values: values)
        let bytes = NPY.encode(t)
        #expect(bytes.count % 64 == (t.bytes.count % 64), "header is a multiple of 64 bytes")
        #expect(try NPY.decode(bytes, name: "t") == t)
    }

    @Test func bfloat16IsWrittenAsExactFloat32() throws {
        let t = Tensor(dtype: .bfloat16, shape: [3], values: [1.5, -0.0078125, 3.140625])
        let back = try NPY.decode(NPY.encode(t), name: "b")
        #expect(back.dtype == .float32)
        #expect(back.floats == [1.5, -0.0078125, 3.140625])
        // Bits are widened, not values: -0 and a NaN payload survive.
        let odd = Tensor(dtype: .bfloat16, shape: [2], bytes: [0x00, 0x80, 0xc1, 0x7f])
        let wide = try NPY.decode(NPY.encode(odd), name: "b")
        #expect(wide.floats.map(\.bitPattern) == [0x8000_0000, 0x7fc1_0000])
    }

    @Test func parsesPython2AndVariantHeaders() throws {
        let data: [UInt8] = [1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0]
        let variants = [
            "{'descr': '<i2', 'fortran_order': False, 'shape': (2L, 3L), }",
            "{u'descr': u'<i2', u'fortran_order': False, u'shape': (2, 3)}",
            "{\"shape\": (2, 3,), \"fortran_order\": False, \"descr\": \"<i2\"}",
            "{'descr':'<i2','fortran_order':False,'shape':(2,3)}",
        ]
        for dict in variants {
            let t = try NPY.decode(npyFile(dict, data: data), name: "x")
            #expect(t.shape == [2, 3], "\(dict)")
            #expect(t.int64s == [1, 2, 3, 4, 5, 6], "\(dict)")
        }
    }

    @Test func fortranOrderOnOneAxisAndBigEndianScalar() throws {
        // A 1-D array is the same in both orders; a 0-d big-endian value only needs its bytes swapped.
        let one = try NPY.decode(
            npyFile("{'descr': '>i4', 'fortran_order': True, 'shape': (2,), }", data: [0, 0, 1, 2, 0, 0, 0, 7]),
            name: "x")
        #expect(one.int64s == [258, 7])
        let scalar = try NPY.decode(
            npyFile(
                "{'descr': '>f8', 'fortran_order': False, 'shape': (), }",
                data: [0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18]), name: "x")
        #expect(scalar.shape == [] && scalar.doubles == [Double.pi])
    }

    @Test func fortranToCMatchesIndexFormula() {
        // Fortran element (i, j, k) of shape (2, 3, 4) is at i + 2j + 6k; C order visits k fastest.
        let shape = [2, 3, 4]
        let fortran = (0..<24).map { UInt8($0) }
        let c = NPYLayout.fortranToC(fortran, shape: shape, elementSize: 1)
        var expected: [UInt8] = []
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { expected.append(UInt8(i + 2 * j + 6 * k)) } } }
        #expect(c == expected)
    }

    /// A header claiming 10¹² float32 elements on a ~100-byte file must fail on the size check, before any
    /// allocation; a product that overflows Int must fail in the header check.
    @Test func hugeShapesFailFastWithoutAllocating() throws {
        let huge = npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }", data: [1, 2, 3, 4])
        #expect(huge.count < 140)
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            let e = #expect(throws: NPZError.self) { try NPY.decode(huge, name: "w") }
            #expect(e.map(NPFixtures.kind) == "sizeMismatch")
            #expect(
                e?.description
                    == "'w': size mismatch: the header's shape (1000000000000,) of float32 needs 4000000000000 data bytes, 4 are present"
            )
        }
        #expect(elapsed < .seconds(1))
        let overflow = npyFile(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", data: [])
        let e = #expect(throws: NPZError.self) { try NPY.decode(overflow, name: "w") }
        #expect(e.map(NPFixtures.kind) == "badHeader")
        #expect(e?.description.contains("too large") == true)
    }

    @Test func headerLengthBeyondTheDataIsTruncation() {
        var v2: [UInt8] = [0x93] + Array("NUMPY".utf8) + [2, 0]
        v2.appendLE(UInt32(0xffff_fff0))
        v2 += Array("{'descr'".utf8)
        let e = #expect(throws: NPZError.self) { try NPY.decode(v2, name: "h") }
        #expect(e.map(NPFixtures.kind) == "truncated")
        #expect(e?.description == "'h': truncated: the header announces 4294967280 bytes, only 8 follow")
    }

    @Test func malformedHeadersAreRefusedClearly() {
        let cases: [(String, String)] = [
            ("{'descr': '<f4', 'shape': (1,), }", "keys are"),
            ("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }", "fortran_order is 0"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': 1, }", "not a tuple"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", "holds -1"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,), }", "only integers"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), ", "unexpected end"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x", "unexpected text"),
            ("[1, 2]", "not a dict"),
            ("{'descr': '<f4', 'fortran_order': Fals, 'shape': (1,), }", "unexpected 'F'"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", "number too large"),
            (String(repeating: "(", count: 5000) + String(repeating: ")", count: 5000), "nested too deeply"),
        ]
        for (dict, phrase) in cases {
            let e = #expect(throws: NPZError.self, "\(dict.prefix(60))") {
                try NPY.decode(npyFile(dict, data: [0, 0, 0, 0]), name: "m")
            }
            #expect(e.map(NPFixtures.kind) == "badHeader", "\(dict.prefix(60))")
            #expect(e?.description.contains(phrase) == true, "\(e?.description ?? "") lacks \(phrase)")
        }
    }

    @Test func unknownVersionsAndMagicAreRefused() throws {
        var v4 = npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", data: [0, 0, 0, 0])
        v4[6] = 4
        #expect(throws: NPZError.badHeader(file: "", member: "v", detail: "unsupported .npy format version 4.0")) {
            try NPY.decode(v4, name: "v")
        }
        #expect(
            throws: NPZError.badMagic(file: "", member: "z", detail: "is a ZIP archive (an .npz?), not a .npy array")
        ) {
            try NPY.decode(Array("PK\u{3}\u{4}0123456789".utf8), name: "z")
        }
        #expect(throws: NPZError.truncated(file: "", member: "e", detail: "empty, not a .npy array")) {
            try NPY.decode([], name: "e")
        }
        let v3 = npyFile(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", data: [0, 0, 0x80, 0x3f], version: 3)
        #expect(try NPY.decode(v3, name: "v3").floats == [1])
    }

    @Test func voidDTypeMentionsBFloat16() {
        let file = npyFile("{'descr': '<V2', 'fortran_order': False, 'shape': (1,), }", data: [0, 0])
        let e = #expect(throws: NPZError.self) { try NPY.decode(file, name: "bf") }
        #expect(e?.description.contains("bfloat16 array saved by numpy loses its type") == true)
    }

    @Test func parserHandlesEscapesAndReprsTuples() throws {
        #expect(
            try PythonLiteralParser.parse("('a\\'b', \"c\\x41\", (), (1,), [True, None])")
                == .tuple([.string("a'b"), .string("cA"), .tuple([]), .tuple([.int(1)]), .list([.bool(true), .none])]))
        #expect(PythonLiteral.tuple([.int(3)]).repr == "(3,)")
        #expect(PythonLiteral.tuple([]).repr == "()")
        #expect(try PythonLiteralParser.parse("(7)") == .int(7))
    }
}
